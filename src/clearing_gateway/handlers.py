"""Every domain's provider-callback handlers, imported in one place at app start-up."""

from clearing_gateway.withdrawals import callbacks as withdrawals_callbacks

__all__ = ["withdrawals_callbacks"]
