"""Withdrawals: reserve, disburse, reconcile — never pay twice, never pay the wrong person."""
