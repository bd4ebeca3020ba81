"""The payment simulator (sandbox environment only)."""
