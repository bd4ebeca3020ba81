"""Withdrawal rules: accept and reserve, then move the state machine and the money together.

Every function runs in the caller's transaction and only flushes. A status change, its
ledger movement, its audit row and its merchant event are written in that one
transaction, so none of them can exist without the others.

    PENDING → PROCESSING → SUCCESS → REFUNDED
        └──────────┴─────→ FAILED

SUCCESS posts the hold (amount → provider clearing, fee → fee revenue); FAILED voids it;
REFUNDED credits the amount back to the vault with a new ledger transfer.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway import jobs
from clearing_gateway.config import Settings
from clearing_gateway.kit import tracing
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.errors import ErrorCode, GatewayError, validation_error
from clearing_gateway.kit.ids import new_id
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.kit.money import (
    DEFAULT_CURRENCY,
    AmountError,
    format_amount,
    parse_amount,
)
from clearing_gateway.ledger import fees
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import AccountKey, Posting, withdrawal_postings
from clearing_gateway.providers.banks import UnknownBank, is_clearing_member, normalise_bank_code
from clearing_gateway.providers.base import TransferStatus
from clearing_gateway.providers.events import DisbursementStatus, DisbursementStatusChanged
from clearing_gateway.providers.registry import ProviderRegistry
from clearing_gateway.users.models import User
from clearing_gateway.users.service import get_active_user
from clearing_gateway.withdrawals.events import publish_transfer
from clearing_gateway.withdrawals.models import (
    ALLOWED_MOVES,
    Withdrawal,
    WithdrawalStatus,
    WithdrawalStatusChange,
)
from clearing_gateway.withdrawals.repository import WithdrawalRepository
from clearing_gateway.withdrawals.schemas import CreateWithdrawalRequest

log = get_logger("gateway.withdrawals")

SUBMIT_JOB = "withdrawals.submit"
FEE_METHOD = "disbursement"
VAULT = "withdrawal"


class Source:
    """What caused a status change (withdrawal_status_changes.source)."""

    API = "api"
    WORKER = "worker"
    CALLBACK = "callback"
    POLL = "poll"
    OPERATOR = "operator"


def hold_id(withdrawal_id: uuid.UUID) -> str:
    return f"withdrawal:{withdrawal_id}"


def refund_id(withdrawal_id: uuid.UUID) -> str:
    return f"withdrawal-refund:{withdrawal_id}"


def provider_fee_id(withdrawal_id: uuid.UUID) -> str:
    return f"withdrawal-provider-fee:{withdrawal_id}"


def provider_reference_for(withdrawal_id: uuid.UUID) -> str:
    # Ours, derived once from the withdrawal id: every retry sends exactly this order id,
    # so the provider's own duplicate check (Finpay 409) backs up ours.
    return f"WD{withdrawal_id.hex}"


# --- create ------------------------------------------------------------------------------


def _amount(field: str, text: str, currency: str) -> int:
    try:
        return parse_amount(text, currency)
    except AmountError as exc:
        raise validation_error(field, str(exc)) from None


def supported_bank(
    registry: ProviderRegistry, bank_code: str, currency: str
) -> tuple[str, list[str]]:
    """(BI code, providers in preference order) for a bank we can pay out to, or 422
    UNSUPPORTED_BANK.

    Any bank clearing through Bank Indonesia is accepted (`providers/banks.py BANKS`), by
    its BI code or short name; a code that is no clearing member is refused here, so a
    mistyped number never reaches a provider that might map it to some other bank."""
    try:
        bank = normalise_bank_code(bank_code)
    except UnknownBank:
        bank = ""
    providers = registry.disbursement_providers(bank, currency) if is_clearing_member(bank) else []
    if not providers:
        raise GatewayError(
            422,
            ErrorCode.UNSUPPORTED_BANK,
            f"beneficiaryBankCode: bank {bank_code!r} is not supported for {currency} payouts",
        )
    return bank, providers


async def choose_provider(
    session: AsyncSession, merchant_id: uuid.UUID, providers: list[str], amount: int, currency: str
) -> tuple[str, int]:
    """(provider, fee): the first that can pay this bank and currency whose withdrawal
    vault covers amount + its fee. Each provider has its own vault (money sits where it
    can be paid out), so a payout goes where the merchant's money is. None covers it: the
    first, whose hold then refuses with INSUFFICIENT_BALANCE."""
    first: tuple[str, int] | None = None
    for provider in providers:
        fee = await fees.fee_for(session, provider, FEE_METHOD, amount)
        first = first or (provider, fee)
        vault = await ledger.account_balance(
            session, AccountKey.vault(merchant_id, provider, VAULT, currency)
        )
        if vault.available >= amount + fee:
            return provider, fee
    assert first is not None
    return first


def whitelist_allows(user: User, bank_code: str, account_no: str) -> bool:
    """No whitelist: any account. A whitelist: only the accounts on it (bank + number)."""
    accounts = user.whitelisted_withdrawal_accounts or []
    if not accounts:
        return True
    for entry in accounts:
        try:
            listed_bank = normalise_bank_code(str(entry.get("bankCode", "")))
        except UnknownBank:
            continue
        if listed_bank == bank_code and str(entry.get("accountNo", "")) == account_no:
            return True
    return False


async def create_withdrawal(
    session: AsyncSession,
    settings: Settings,
    registry: ProviderRegistry,
    merchant_id: uuid.UUID,
    request: CreateWithdrawalRequest,
) -> Withdrawal:
    """Validate, reserve amount + fee, record PENDING, publish, schedule the submission.

    Any refusal raises before or inside the request's transaction, which then rolls
    back: nothing is reserved for a rejected request."""
    currency = DEFAULT_CURRENCY
    amount = _amount("amount", request.amount, currency)
    limit = parse_amount(settings.withdrawal_max_amount, currency)
    if amount > limit:
        raise validation_error(
            "amount", f"exceeds the per-transaction limit of {settings.withdrawal_max_amount}"
        )
    merchant_fee = (
        None
        if request.merchantFee is None
        else _amount("merchantFee", request.merchantFee, currency)
    )
    user = await get_active_user(session, merchant_id, request.userId)
    bank, providers = supported_bank(registry, request.beneficiaryBankCode, currency)
    if not whitelist_allows(user, bank, request.beneficiaryAccountNo):
        raise validation_error(
            "beneficiaryAccountNo",
            "the beneficiary account is not one of the user's whitelistedWithdrawalAccounts",
        )
    repository = WithdrawalRepository(session)
    if await repository.by_merchant_reference(merchant_id, request.merchantReference):
        raise _duplicate(request.merchantReference)
    provider, fee = await choose_provider(session, merchant_id, providers, amount, currency)
    now = utcnow()
    withdrawal_id = new_id()
    tracing.annotate(transaction_id=withdrawal_id)
    withdrawal = Withdrawal(
        id=withdrawal_id,
        merchant_id=merchant_id,
        user_pk=user.id,
        user_ref=user.user_id,
        merchant_reference=request.merchantReference,
        beneficiary_bank_code=bank,
        beneficiary_account_no=request.beneficiaryAccountNo,
        beneficiary_account_name=request.beneficiaryAccountName,
        amount=amount,
        merchant_fee=merchant_fee,
        fee=fee,
        currency=currency,
        status=WithdrawalStatus.PENDING,
        provider=provider,
        provider_reference=provider_reference_for(withdrawal_id),
        outcome_unknown=False,
        polls=0,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            await repository.add(withdrawal)
    except IntegrityError:
        # A concurrent request with the same merchantReference won the unique index.
        raise _duplicate(request.merchantReference) from None
    await repository.record_change(
        WithdrawalStatusChange(
            withdrawal_id=withdrawal.id,
            from_status=None,
            to_status=WithdrawalStatus.PENDING,
            source=Source.API,
            created_at=now,
        )
    )
    await publish_transfer(session, withdrawal)
    await jobs.enqueue(
        session,
        SUBMIT_JOB,
        {"withdrawalId": str(withdrawal.id)},
        dedupe_key=f"withdrawal-submit:{withdrawal.id}",
    )
    # Every withdrawal of the merchant needs its vault row: the hold is checked and
    # applied at COMMIT, so that lock is held for the commit only. An overdraft raises
    # InsufficientFunds (422 INSUFFICIENT_BALANCE) from the request's COMMIT, and the
    # whole request rolls back: nothing of it is left.
    await ledger.hold(
        session,
        hold_id(withdrawal.id),
        withdrawal_postings(merchant_id, provider, amount, fee, currency),
        kind="withdrawal",
        check_at_commit=True,
    )
    return withdrawal


def _duplicate(reference: str) -> GatewayError:
    return GatewayError(
        409, ErrorCode.DUPLICATE, f"merchantReference: {reference!r} already exists"
    )


# --- the state machine -------------------------------------------------------------------


class IllegalMove(Exception):
    """A status change the state machine forbids (statuses only move forward)."""


@dataclass(frozen=True)
class ProviderOutcome:
    """What the provider says about a transfer (callback, poll or submission answer)."""

    status: DisbursementStatus
    code: str
    message: str = ""
    provider_transaction_id: str | None = None
    # The transfer's amount as the provider reports it (minor units), when it does.
    amount: int | None = None
    # What the provider charges us for it, when it says (Finpay feeAmount).
    fee: int | None = None

    @classmethod
    def of(cls, news: TransferStatus | DisbursementStatusChanged) -> ProviderOutcome:
        """From a connector's status answer or a callback event (the same five facts)."""
        return cls(
            status=news.status,
            code=news.provider_status_code,
            message=news.message,
            provider_transaction_id=news.provider_reference,
            amount=news.amount,
            fee=news.fee if isinstance(news, TransferStatus) else None,
        )


async def move(
    session: AsyncSession,
    withdrawal: Withdrawal,
    target: WithdrawalStatus,
    *,
    source: str,
    note: str | None = None,
    failure_reason: str | None = None,
) -> None:
    """One status change with its money, audit row and merchant event. The caller holds
    the row lock (get_for_update)."""
    current = WithdrawalStatus(withdrawal.status)
    if target not in ALLOWED_MOVES[current]:
        raise IllegalMove(f"{current} → {target}")
    now = utcnow()
    if target is WithdrawalStatus.SUCCESS:
        await ledger.post_pending(session, hold_id(withdrawal.id))
        await _book_provider_fee(session, withdrawal)
    elif target is WithdrawalStatus.FAILED:
        await ledger.void_pending(session, hold_id(withdrawal.id))
        withdrawal.failure_reason = (failure_reason or note or "failed")[:200]
    elif target is WithdrawalStatus.REFUNDED:
        # The bank returned the money: the amount goes back to the vault. The fee stays
        # earned, the provider did carry out the transfer (docs/withdrawals.md).
        await ledger.post(
            session,
            refund_id(withdrawal.id),
            [
                Posting(
                    AccountKey.clearing(withdrawal.provider, withdrawal.currency),
                    AccountKey.vault(
                        withdrawal.merchant_id, withdrawal.provider, VAULT, withdrawal.currency
                    ),
                    withdrawal.amount,
                )
            ],
            kind="withdrawal_refund",
        )
    withdrawal.status = target
    withdrawal.updated_at = now
    if target in (WithdrawalStatus.SUCCESS, WithdrawalStatus.FAILED):
        withdrawal.completed_at = now
        withdrawal.trx_date_time = now
        withdrawal.next_poll_at = None
        withdrawal.stuck_since = None
        withdrawal.review_reason = None
    if target is WithdrawalStatus.REFUNDED:
        # Final: nothing left to check, and whatever waited for the refund is settled.
        withdrawal.next_poll_at = None
        withdrawal.stuck_since = None
        withdrawal.review_reason = None
    if target is not WithdrawalStatus.PROCESSING:
        withdrawal.outcome_unknown = False
    await session.flush()
    await WithdrawalRepository(session).record_change(
        WithdrawalStatusChange(
            withdrawal_id=withdrawal.id,
            from_status=current,
            to_status=target,
            source=source,
            note=note,
            created_at=now,
        )
    )
    await publish_transfer(session, withdrawal)
    log.info(
        "withdrawal.status",
        withdrawal_id=str(withdrawal.id),
        from_status=str(current),
        to_status=str(target),
        source=source,
    )


async def _book_provider_fee(session: AsyncSession, withdrawal: Withdrawal) -> None:
    """The provider's charge for a paid transfer leaves our balance there: booked once
    (fee revenue → provider clearing), so provider clearing can equal the balance the
    provider reports (docs/reconciliation.md)."""
    if not withdrawal.provider_fee:
        return
    await ledger.post(
        session,
        provider_fee_id(withdrawal.id),
        [
            Posting(
                AccountKey.fee_revenue(withdrawal.provider, withdrawal.currency),
                AccountKey.clearing(withdrawal.provider, withdrawal.currency),
                withdrawal.provider_fee,
            )
        ],
        kind="provider_fee",
    )


async def apply_provider_outcome(
    session: AsyncSession,
    withdrawal: Withdrawal,
    outcome: ProviderOutcome,
    *,
    source: str,
    settings: Settings | None = None,
) -> bool:
    """Bring a locked withdrawal up to what the provider says. Returns False when it
    changes nothing (late, repeated or contradicting news: recorded by the caller,
    never applied backwards, or an amount that is not ours: flagged for an operator)."""
    if outcome.amount is not None and outcome.amount != withdrawal.amount:
        # Never settle money on a transfer whose amount the provider sees differently.
        flag_for_review(
            withdrawal,
            f"the provider reports {format_amount(outcome.amount, withdrawal.currency)} "
            f"for a transfer of {format_amount(withdrawal.amount, withdrawal.currency)} "
            f"({outcome.code})",
        )
        await session.flush()
        return False
    if outcome.fee is not None and withdrawal.provider_fee is None:
        withdrawal.provider_fee = outcome.fee
        if withdrawal.status in (WithdrawalStatus.SUCCESS, WithdrawalStatus.REFUNDED):
            await _book_provider_fee(session, withdrawal)  # learnt after the payout
    if outcome.provider_transaction_id and not withdrawal.provider_transaction_id:
        withdrawal.provider_transaction_id = outcome.provider_transaction_id
    withdrawal.provider_status_code = outcome.code
    withdrawal.provider_message = outcome.message[:200] or None
    current = WithdrawalStatus(withdrawal.status)
    note = f"{outcome.code} {outcome.message}".strip()
    changed = False
    if outcome.status is DisbursementStatus.PENDING:
        if current is WithdrawalStatus.PENDING:
            await move(session, withdrawal, WithdrawalStatus.PROCESSING, source=source, note=note)
            changed = True
        elif current is WithdrawalStatus.PROCESSING and withdrawal.outcome_unknown:
            # The provider has it: the unknown outcome is now known to be in flight.
            withdrawal.outcome_unknown = False
    elif outcome.status is DisbursementStatus.SUCCESS:
        changed = await _to_success(session, withdrawal, source, note)
    elif outcome.status is DisbursementStatus.REFUNDED:
        changed = await _to_success(session, withdrawal, source, note)
        if WithdrawalStatus(withdrawal.status) is WithdrawalStatus.SUCCESS:
            await move(session, withdrawal, WithdrawalStatus.REFUNDED, source=source, note=note)
            changed = True
    elif outcome.status is DisbursementStatus.FAILED:
        if current in (WithdrawalStatus.PENDING, WithdrawalStatus.PROCESSING):
            reason = f"provider failed the transfer ({note})"
            await move(
                session,
                withdrawal,
                WithdrawalStatus.FAILED,
                source=source,
                note=note,
                failure_reason=reason,
            )
            changed = True
        elif current in (WithdrawalStatus.SUCCESS, WithdrawalStatus.REFUNDED):
            log.error(
                "withdrawal.contradiction",
                withdrawal_id=str(withdrawal.id),
                status=str(current),
                provider_status=outcome.code,
            )
            if current is WithdrawalStatus.SUCCESS:
                # Paid, then failed: the money may have come back. Never guess.
                flag_for_review(withdrawal, f"the provider says {outcome.code} after SUCCESS")
    if (
        not changed
        and current is WithdrawalStatus.FAILED
        and outcome.status in (DisbursementStatus.SUCCESS, DisbursementStatus.REFUNDED)
    ):
        # Paid after we released the hold: never guess, flag it for an operator.
        log.error(
            "withdrawal.contradiction",
            withdrawal_id=str(withdrawal.id),
            status=str(current),
            provider_status=outcome.code,
        )
        withdrawal.stuck_since = withdrawal.stuck_since or utcnow()
    await session.flush()
    return changed


# How far a provider status has gone: news "ahead" of the read API is kept and re-checked.
_PROGRESS = {
    DisbursementStatus.NOT_FOUND: 0,
    DisbursementStatus.PENDING: 0,
    DisbursementStatus.SUCCESS: 1,
    DisbursementStatus.FAILED: 1,
    DisbursementStatus.REFUNDED: 2,
}
_REACHED = {
    DisbursementStatus.SUCCESS: {WithdrawalStatus.SUCCESS, WithdrawalStatus.REFUNDED},
    DisbursementStatus.FAILED: {WithdrawalStatus.FAILED},
    DisbursementStatus.REFUNDED: {WithdrawalStatus.REFUNDED},
}


def keep_unconfirmed_notice(
    withdrawal: Withdrawal, notified: DisbursementStatus | None, confirmed: DisbursementStatus
) -> bool:
    """A genuine notification says more than Check Status does yet (Finpay `04` while
    Check Status still says `00`): remember it and have the reconciliation re-check soon,
    with backoff, until it is confirmed or goes to an operator. True if kept."""
    if notified is None or _PROGRESS[notified] <= _PROGRESS[confirmed]:
        return False
    if notice_confirmed(withdrawal, notified):
        return False
    now = utcnow()
    if withdrawal.notice_code != notified.value:
        withdrawal.notice_code = notified.value
        withdrawal.notice_at = now
    withdrawal.next_poll_at = now
    log.warning(
        "withdrawal.unconfirmed_notice",
        withdrawal_id=str(withdrawal.id),
        notified=notified.value,
        confirmed=confirmed.value,
    )
    return True


def notice_confirmed(withdrawal: Withdrawal, notified: DisbursementStatus | None = None) -> bool:
    """Has the withdrawal reached what the kept notification announced?"""
    if notified is None and withdrawal.notice_code is None:
        return True
    target = notified or DisbursementStatus(str(withdrawal.notice_code))
    return WithdrawalStatus(withdrawal.status) in _REACHED.get(target, set())


def flag_for_review(withdrawal: Withdrawal, reason: str) -> None:
    """An operator must look (`withdrawals stuck`): the automated paths will not guess.
    The poll goes on, so a later answer from the provider still counts."""
    withdrawal.stuck_since = withdrawal.stuck_since or utcnow()
    withdrawal.review_reason = reason[:200]
    log.error("withdrawal.review", withdrawal_id=str(withdrawal.id), reason=reason)


async def _to_success(
    session: AsyncSession, withdrawal: Withdrawal, source: str, note: str
) -> bool:
    current = WithdrawalStatus(withdrawal.status)
    if current is WithdrawalStatus.PENDING:
        # Keep the merchant's view whole: PENDING → PROCESSING → SUCCESS, one event each.
        await move(session, withdrawal, WithdrawalStatus.PROCESSING, source=source, note=note)
        current = WithdrawalStatus.PROCESSING
    if current is WithdrawalStatus.PROCESSING:
        await move(session, withdrawal, WithdrawalStatus.SUCCESS, source=source, note=note)
        return True
    return False


async def fail_before_submission(
    session: AsyncSession, withdrawal: Withdrawal, reason: str
) -> None:
    """A beneficiary check failed: nothing was sent, the hold is released."""
    await move(
        session,
        withdrawal,
        WithdrawalStatus.FAILED,
        source=Source.WORKER,
        note=reason,
        failure_reason=reason,
    )


# --- operators ---------------------------------------------------------------------------


class ResolveError(Exception):
    pass


async def resolve_by_operator(
    session: AsyncSession, withdrawal_id: uuid.UUID, status: str, note: str
) -> Withdrawal:
    """An operator's verdict on a stuck withdrawal: same money movements as the
    automatic path, audited with source `operator` and the operator's note."""
    if not note.strip():
        raise ResolveError("a note explaining the decision is required")
    try:
        target = WithdrawalStatus(status.upper())
    except ValueError:
        raise ResolveError("status must be SUCCESS or FAILED") from None
    if target not in (WithdrawalStatus.SUCCESS, WithdrawalStatus.FAILED):
        raise ResolveError("status must be SUCCESS or FAILED")
    withdrawal = await WithdrawalRepository(session).get_for_update(withdrawal_id)
    if withdrawal is None:
        raise ResolveError(f"withdrawal {withdrawal_id} not found")
    current = WithdrawalStatus(withdrawal.status)
    if current not in (WithdrawalStatus.PENDING, WithdrawalStatus.PROCESSING):
        raise ResolveError(f"withdrawal is already {current}; only open ones can be resolved")
    if target is WithdrawalStatus.FAILED and withdrawal.submitted_at is not None:
        # The provider may still pay it: releasing the hold now could pay out money the
        # merchant has back. Only the provider's answer fails it (the poll applies it).
        raise ResolveError(
            f"withdrawal was submitted to {withdrawal.provider}: it cannot be failed by hand; "
            "the provider's answer settles it, or `withdrawals resubmit` it if the provider "
            "never received it"
        )
    if target is WithdrawalStatus.SUCCESS and current is WithdrawalStatus.PENDING:
        await move(
            session, withdrawal, WithdrawalStatus.PROCESSING, source=Source.OPERATOR, note=note
        )
    await move(
        session,
        withdrawal,
        target,
        source=Source.OPERATOR,
        note=note,
        failure_reason=f"resolved by operator: {note}",
    )
    withdrawal.stuck_since = None
    await session.flush()
    return withdrawal


async def resubmit_by_operator(
    session: AsyncSession, withdrawal_id: uuid.UUID, note: str
) -> Withdrawal:
    """An operator's approval to send again a withdrawal the provider never received. The
    job still asks the provider first and sends only on its explicit "not found"."""
    if not note.strip():
        raise ResolveError("a note explaining the decision is required")
    withdrawal = await WithdrawalRepository(session).get_for_update(withdrawal_id)
    if withdrawal is None:
        raise ResolveError(f"withdrawal {withdrawal_id} not found")
    status = WithdrawalStatus(withdrawal.status)
    resendable = status is WithdrawalStatus.PENDING or (
        status is WithdrawalStatus.PROCESSING and withdrawal.outcome_unknown
    )
    if withdrawal.submitted_at is None or not resendable:
        raise ResolveError(
            f"withdrawal is {status}: only a submitted one whose outcome is unknown can be resent"
        )
    await jobs.enqueue(
        session,
        SUBMIT_JOB,
        {"withdrawalId": str(withdrawal.id), "approved": True},
        dedupe_key=f"withdrawal-operator-resubmit:{withdrawal.id}:{withdrawal.submit_token}",
    )
    log.warning("withdrawal.operator_resubmit", withdrawal_id=str(withdrawal.id), note=note)
    return withdrawal


def stuck_out(w: Withdrawal) -> dict[str, Any]:
    def iso(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "transactionId": str(w.id),
        "merchantId": str(w.merchant_id),
        "status": w.status,
        "provider": w.provider,
        "providerReference": w.provider_reference,
        "providerTransactionId": w.provider_transaction_id,
        "providerStatusCode": w.provider_status_code,
        "outcomeUnknown": w.outcome_unknown,
        "amount": w.amount,
        "currency": w.currency,
        "polls": w.polls,
        "submittedAt": iso(w.submitted_at),
        "stuckSince": iso(w.stuck_since),
        "reviewReason": w.review_reason,
        "createdAt": iso(w.created_at),
    }
