"""Typed ledger errors. Each is a GatewayError, so an endpoint that lets one escape
answers with the right status and message in the seed's envelope."""

from __future__ import annotations

from clearing_gateway.kit.errors import ErrorCode, GatewayError


class LedgerError(GatewayError):
    """Base of every refusal by the ledger; nothing was changed."""


class InsufficientFunds(LedgerError):
    def __init__(self, account_code: str) -> None:
        super().__init__(
            422, ErrorCode.INSUFFICIENT_BALANCE, "available balance is lower than the amount"
        )
        self.account_code = account_code


class TransferConflict(LedgerError):
    """The transfer id exists with different content."""

    def __init__(self, transfer_id: str) -> None:
        super().__init__(
            409, ErrorCode.CONFLICT, f"transfer {transfer_id!r} exists with different content"
        )
        self.transfer_id = transfer_id


class TransferNotFound(LedgerError):
    def __init__(self, transfer_id: str) -> None:
        super().__init__(404, ErrorCode.NOT_FOUND, f"transfer {transfer_id!r} not found")
        self.transfer_id = transfer_id


class TransferStateError(LedgerError):
    """Posting a voided hold, voiding a posted one, or resolving a transfer that never
    was a hold."""

    def __init__(self, transfer_id: str, problem: str) -> None:
        super().__init__(409, ErrorCode.CONFLICT, f"transfer {transfer_id!r} {problem}")
        self.transfer_id = transfer_id


class InvalidTransfer(LedgerError):
    """The postings themselves are unacceptable (a caller's bug, not a merchant's)."""

    def __init__(self, problem: str) -> None:
        super().__init__(422, ErrorCode.VALIDATION_ERROR, problem)
