"""Submitting a withdrawal to its provider, so that no crash or timeout can pay twice.

The rules (docs/withdrawals.md, "Submission"):

1. "Submission started" (`submitted_at`) is committed BEFORE the provider is called.
   A run that finds it set cannot know whether the earlier call arrived, so it asks
   the provider first (check status by our reference): found → adopt that answer;
   NOT_FOUND → nothing arrived, submitting again with the same reference is safe.
2. Beneficiary checks run before any money moves: the whitelist, then the provider's
   account inquiry, whose holder name must match the user's KYC names.
3. The provider's answer: accepted → PROCESSING; a definitive rejection → FAILED and
   the hold is voided; an unknown outcome (timeout, 5xx, garbage) → PROCESSING with
   `outcome_unknown`, never resubmitted blindly, never rerouted: the poll resolves it.

No database transaction is open while a provider is called.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.providers.base import (
    AccountInquiry,
    DisbursementConnector,
    TransferRequest,
    TransferStatus,
)
from clearing_gateway.providers.errors import (
    CapabilityNotSupported,
    ProviderOutcomeUnknown,
    ProviderRejected,
)
from clearing_gateway.providers.events import DisbursementStatus
from clearing_gateway.users.repository import UserRepository
from clearing_gateway.withdrawals import service
from clearing_gateway.withdrawals.models import Withdrawal, WithdrawalStatus
from clearing_gateway.withdrawals.names import names_match
from clearing_gateway.withdrawals.repository import WithdrawalRepository

log = get_logger("gateway.withdrawals")

# Finpay's answer to an order id it has already seen: the first one exists.
DUPLICATE_ORDER_CODES = frozenset({"4090001"})


@dataclass(frozen=True)
class Snapshot:
    """What the submission needs from the row, read under lock and then released."""

    id: uuid.UUID
    provider: str
    reference: str
    bank_code: str
    account_no: str
    amount: int
    currency: str
    started: bool
    candidate_names: tuple[str, ...]
    whitelisted: bool


def connector_for(runtime: Runtime, provider: str) -> DisbursementConnector:
    assert runtime.providers is not None, "the runtime has no provider connectors"
    connector = runtime.providers.connector(provider)
    assert isinstance(connector, DisbursementConnector)
    return connector


def _submittable(withdrawal: Withdrawal) -> bool:
    status = WithdrawalStatus(withdrawal.status)
    # PROCESSING with an unknown outcome is resubmitted only through the check-first
    # path (the reconciler found NOT_FOUND): see `resubmit_if_absent`.
    return status is WithdrawalStatus.PENDING or (
        status is WithdrawalStatus.PROCESSING and withdrawal.outcome_unknown
    )


async def _snapshot(runtime: Runtime, withdrawal_id: uuid.UUID) -> Snapshot | None:
    async with unit_of_work(runtime.sessionmaker) as session:
        withdrawal = await WithdrawalRepository(session).get_for_update(withdrawal_id)
        if withdrawal is None or not _submittable(withdrawal):
            return None
        user = await UserRepository(session).find(withdrawal.merchant_id, withdrawal.user_ref)
        names: tuple[str, ...] = ()
        whitelisted = True
        if user is not None:
            names = (user.kyc_name, *(user.whitelisted_kyc_names or []))
            whitelisted = service.whitelist_allows(
                user, withdrawal.beneficiary_bank_code, withdrawal.beneficiary_account_no
            )
        return Snapshot(
            id=withdrawal.id,
            provider=withdrawal.provider,
            reference=withdrawal.provider_reference,
            bank_code=withdrawal.beneficiary_bank_code,
            account_no=withdrawal.beneficiary_account_no,
            amount=withdrawal.amount,
            currency=withdrawal.currency,
            started=withdrawal.submitted_at is not None,
            candidate_names=names,
            whitelisted=whitelisted and user is not None and not user.is_deleted,
        )


async def submit_withdrawal(runtime: Runtime, withdrawal_id: uuid.UUID) -> None:
    """The `withdrawals.submit` job. Idempotent: safe to run any number of times.

    Provider errors that prove nothing happened (unavailable, inquiry failures) are
    raised, so the job retries with backoff."""
    snapshot = await _snapshot(runtime, withdrawal_id)
    if snapshot is None:
        return  # already submitted and answered, or finished
    connector = connector_for(runtime, snapshot.provider)
    if snapshot.started:
        # An earlier run may have reached the provider: ask before sending anything.
        known = await connector.check_status(snapshot.reference)
        if known.status is not DisbursementStatus.NOT_FOUND:
            await _record_answer(runtime, snapshot.id, known)
            return
    if not snapshot.whitelisted:
        await _fail(runtime, snapshot.id, "beneficiary account is not whitelisted for this user")
        return
    try:
        inquiry = await connector.inquire_account(snapshot.bank_code, snapshot.account_no)
    except ProviderRejected as rejected:
        await _fail(
            runtime,
            snapshot.id,
            f"beneficiary account is invalid ({rejected.message or rejected.code})",
        )
        return
    except CapabilityNotSupported:
        await _fail(runtime, snapshot.id, f"{snapshot.provider} cannot verify the beneficiary name")
        return
    if not names_match(inquiry.account_name, snapshot.candidate_names):
        await _fail(
            runtime,
            snapshot.id,
            f"beneficiary name mismatch: the bank account holder {inquiry.account_name!r} "
            "is not the user's KYC name",
        )
        return
    if not await _mark_started(runtime, snapshot.id, inquiry):
        return
    await _send(runtime, connector, snapshot, inquiry)


async def _send(
    runtime: Runtime,
    connector: DisbursementConnector,
    snapshot: Snapshot,
    inquiry: AccountInquiry,
) -> None:
    request = TransferRequest(
        reference=snapshot.reference,
        bank_code=snapshot.bank_code,
        account_no=snapshot.account_no,
        account_name=inquiry.account_name,
        amount=snapshot.amount,
        currency=snapshot.currency,
        inquiry_reference=inquiry.inquiry_reference,
        description=f"withdrawal {snapshot.id}",
    )
    try:
        answer = await connector.transfer(request)
    except ProviderRejected as rejected:
        if rejected.code in DUPLICATE_ORDER_CODES or rejected.http_status == 409:
            # The provider already has this order: its status is the truth.
            known = await connector.check_status(snapshot.reference)
            if known.status is DisbursementStatus.NOT_FOUND:
                await _mark_unknown(
                    runtime, snapshot.id, f"duplicate order but not found: {rejected}"
                )
            else:
                await _record_answer(runtime, snapshot.id, known)
            return
        if snapshot.started:
            # A resubmission: the first attempt may still have arrived. Ask before failing.
            known = await connector.check_status(snapshot.reference)
            if known.status is not DisbursementStatus.NOT_FOUND:
                await _record_answer(runtime, snapshot.id, known)
                return
        await _record_rejection(runtime, snapshot.id, rejected)
        return
    except ProviderOutcomeUnknown as unknown:
        await _mark_unknown(runtime, snapshot.id, unknown.detail)
        return
    await _record_answer(runtime, snapshot.id, answer)


async def _mark_started(
    runtime: Runtime, withdrawal_id: uuid.UUID, inquiry: AccountInquiry
) -> bool:
    async with unit_of_work(runtime.sessionmaker) as session:
        withdrawal = await WithdrawalRepository(session).get_for_update(withdrawal_id)
        if withdrawal is None or not _submittable(withdrawal):
            return False
        now = utcnow()
        withdrawal.verified_account_name = inquiry.account_name[:200]
        withdrawal.submitted_at = now
        withdrawal.updated_at = now
        await session.flush()
        return True


async def _fail(runtime: Runtime, withdrawal_id: uuid.UUID, reason: str) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        withdrawal = await WithdrawalRepository(session).get_for_update(withdrawal_id)
        if withdrawal is None or not _submittable(withdrawal):
            return
        await service.fail_before_submission(session, withdrawal, reason)


async def _record_rejection(
    runtime: Runtime, withdrawal_id: uuid.UUID, rejected: ProviderRejected
) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        withdrawal = await WithdrawalRepository(session).get_for_update(withdrawal_id)
        if withdrawal is None or not _submittable(withdrawal):
            return
        withdrawal.provider_status_code = rejected.code[:16]
        withdrawal.provider_message = rejected.message[:200] or None
        reason = f"provider rejected the transfer ({rejected.code} {rejected.message})".strip()
        await service.move(
            session,
            withdrawal,
            WithdrawalStatus.FAILED,
            source=service.Source.WORKER,
            note=reason,
            failure_reason=reason,
        )


async def _mark_unknown(runtime: Runtime, withdrawal_id: uuid.UUID, detail: str) -> None:
    """The provider may have acted: PROCESSING, outcome unknown, left to the poll."""
    async with unit_of_work(runtime.sessionmaker) as session:
        withdrawal = await WithdrawalRepository(session).get_for_update(withdrawal_id)
        if withdrawal is None:
            return
        status = WithdrawalStatus(withdrawal.status)
        if status is WithdrawalStatus.PENDING:
            await service.move(
                session,
                withdrawal,
                WithdrawalStatus.PROCESSING,
                source=service.Source.WORKER,
                note=f"outcome unknown: {detail}"[:500],
            )
        if WithdrawalStatus(withdrawal.status) is WithdrawalStatus.PROCESSING:
            withdrawal.outcome_unknown = True
            withdrawal.next_poll_at = utcnow() + _first_poll(runtime)
            await session.flush()
    log.warning("withdrawal.outcome_unknown", withdrawal_id=str(withdrawal_id), detail=detail)


def _first_poll(runtime: Runtime) -> dt.timedelta:
    return dt.timedelta(seconds=runtime.settings.withdrawal_poll_after_seconds)


async def _record_answer(
    runtime: Runtime, withdrawal_id: uuid.UUID, answer: TransferStatus
) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        withdrawal = await WithdrawalRepository(session).get_for_update(withdrawal_id)
        if withdrawal is None:
            return
        if withdrawal.submitted_at is None:
            withdrawal.submitted_at = utcnow()
        await service.apply_provider_outcome(
            session,
            withdrawal,
            service.ProviderOutcome.of(answer),
            source=service.Source.WORKER,
        )
        if WithdrawalStatus(withdrawal.status) is WithdrawalStatus.PROCESSING:
            # The provider answered: whatever was unknown is known to be in flight now.
            withdrawal.outcome_unknown = False
            if withdrawal.next_poll_at is None:
                withdrawal.next_poll_at = utcnow() + _first_poll(runtime)
        await session.flush()
