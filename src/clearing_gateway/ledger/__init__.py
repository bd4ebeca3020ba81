"""Double-entry ledger: accounts, transfers, holds, balances and fees.

Other domains call `clearing_gateway.ledger.service` inside their own transaction; the
ledger flushes, never commits.
"""
