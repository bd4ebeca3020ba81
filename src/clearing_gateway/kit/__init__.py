"""Cross-cutting helpers: errors and envelope, money, ids, clock."""
