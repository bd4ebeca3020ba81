"""Reconciliation: what the providers say, compared with what the gateway recorded.

`deposits.py` asks each provider's read API about instruments that may have been paid and
applies what it finds through the callback path; `statements.py` matches a provider's
daily settlement statement line by line against the ledger and stores the breaks.
"""
