"""Debits of a merchant vault that are not withdrawals, and their `debit_notify` webhook."""
