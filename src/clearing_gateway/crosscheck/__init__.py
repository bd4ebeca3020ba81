"""The ledger against the domains it records: deposits and withdrawals (`ledger verify`)."""
