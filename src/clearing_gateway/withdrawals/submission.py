"""Submitting a withdrawal to its provider, so that no crash or timeout can pay twice.

The rules (docs/withdrawals.md, "Submission"):

1. "Submission started" (`submitted_at`) is committed BEFORE the provider is called,
   together with the submission fence: a fresh `submit_token` and a lease
   (`submit_lease_until`) taken by a conditional update under the row lock. Only the run
   holding the fence calls the transfer API and records its answer; a run whose token was
   replaced (its lease ran out) records nothing. While a lease is held no other run even
   looks, so there is one provider call in flight per withdrawal.
   A run that finds `submitted_at` set cannot know whether the earlier call arrived, so it
   asks the provider first (check status by our reference): found → adopt that answer.
   Only an explicit "not found" at least WITHDRAWAL_NOT_FOUND_AFTER_SECONDS after the
   submission counts as "never received"; even then the transfer is sent again only when
   WITHDRAWAL_AUTO_RESUBMIT is on or an operator approved it, else it waits for review.
2. Beneficiary checks run before any money moves: the whitelist, then the provider's
   account inquiry, whose holder name must match the user's KYC names. A provider
   without an inquiry (a connector capability) gets the merchant's name, which must.
3. The provider's answer: accepted → PROCESSING; a definitive rejection → FAILED and
   the hold is voided; an unknown outcome (timeout, 5xx, garbage) → PROCESSING with
   `outcome_unknown`, never resubmitted blindly, never rerouted: the poll resolves it.

No database transaction is open while a provider is called.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.kit import faults
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.providers.base import (
    AccountInquiry,
    AccountInquiryConnector,
    DisbursementConnector,
    TransferRequest,
    TransferStatus,
)
from clearing_gateway.providers.errors import (
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
)
from clearing_gateway.providers.events import DisbursementStatus
from clearing_gateway.users.repository import UserRepository
from clearing_gateway.withdrawals import service
from clearing_gateway.withdrawals.models import Withdrawal, WithdrawalStatus
from clearing_gateway.withdrawals.names import names_match
from clearing_gateway.withdrawals.repository import WithdrawalRepository

log = get_logger("gateway.withdrawals")

# Why a withdrawal waits for an operator after the provider's explicit "not found".
NEVER_RECEIVED = (
    "the provider does not know this transfer after an unknown outcome: "
    "an operator resubmits it (automatic resubmission is off)"
)

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
    submitted_at: dt.datetime | None
    # The fence version seen: a claim succeeds only if nobody claimed since.
    token: str | None
    candidate_names: tuple[str, ...]
    whitelisted: bool
    # The holder name the merchant sent (beneficiaryAccountName), if any.
    beneficiary_name: str | None = None

    @property
    def expected_holder(self) -> str | None:
        """The name the account should carry: the merchant's, else the KYC name."""
        return self.beneficiary_name or (self.candidate_names[0] if self.candidate_names else None)


class SubmissionBusy(Exception):
    """Another run holds the submission fence: try again once its lease is over."""

    def __init__(self, withdrawal_id: uuid.UUID, until: dt.datetime) -> None:
        super().__init__(f"withdrawal {withdrawal_id} is being submitted until {until}")
        self.until = until


def connector_for(runtime: Runtime, provider: str) -> DisbursementConnector:
    assert runtime.providers is not None, "the runtime has no provider connectors"
    connector = runtime.providers.connector(provider)
    assert isinstance(connector, DisbursementConnector)
    return connector


def _submittable(withdrawal: Withdrawal) -> bool:
    status = WithdrawalStatus(withdrawal.status)
    # PROCESSING with an unknown outcome is resubmitted only through the check-first
    # path, after an explicit "not found" (see `may_send_again`).
    return status is WithdrawalStatus.PENDING or (
        status is WithdrawalStatus.PROCESSING and withdrawal.outcome_unknown
    )


async def _snapshot(runtime: Runtime, withdrawal_id: uuid.UUID) -> Snapshot | None:
    async with unit_of_work(runtime.sessionmaker) as session:
        withdrawal = await WithdrawalRepository(session).get_for_update(withdrawal_id)
        if withdrawal is None or not _submittable(withdrawal):
            return None
        now = utcnow()
        lease = withdrawal.submit_lease_until
        if lease is not None and lease > now:
            raise SubmissionBusy(withdrawal_id, lease)
        if withdrawal.submitted_at is not None:
            # Taking over a started submission: a new token fences out the earlier run,
            # whose call may still be in flight, from recording anything.
            _take_fence(runtime, withdrawal, now)
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
            submitted_at=withdrawal.submitted_at,
            token=withdrawal.submit_token,
            candidate_names=names,
            whitelisted=whitelisted and user is not None and not user.is_deleted,
            beneficiary_name=withdrawal.beneficiary_account_name,
        )


async def submit_withdrawal(
    runtime: Runtime, withdrawal_id: uuid.UUID, *, approved: bool = False
) -> None:
    """The `withdrawals.submit` job. Idempotent: safe to run any number of times.

    Provider errors that prove nothing happened (unavailable, inquiry failures) are
    raised, so the job retries with backoff; so is `SubmissionBusy`. `approved` is the
    decision, by the reconciliation or an operator, to send again if the provider still
    says "not found"."""
    snapshot = await _snapshot(runtime, withdrawal_id)
    if snapshot is None:
        return  # already submitted and answered, or finished
    connector = connector_for(runtime, snapshot.provider)
    if snapshot.started:
        # An earlier run may have reached the provider: ask before sending anything.
        try:
            known = await connector.check_status(snapshot.reference)
        except Exception:
            await _release(runtime, snapshot.id, snapshot.token)
            raise
        if known.status is not DisbursementStatus.NOT_FOUND:
            await _record_answer(runtime, snapshot.id, known, snapshot.token)
            return
        if not await may_send_again(runtime, snapshot, approved=approved):
            return
    if not snapshot.whitelisted:
        await _fail(runtime, snapshot.id, "beneficiary account is not whitelisted for this user")
        return
    inquiry = await _verify_beneficiary(runtime, connector, snapshot)
    if inquiry is None:
        return
    token = await _claim(runtime, snapshot, inquiry)
    if token is None:
        return
    await _send(runtime, connector, snapshot, inquiry, token)


async def _verify_beneficiary(
    runtime: Runtime, connector: DisbursementConnector, snapshot: Snapshot
) -> AccountInquiry | None:
    """The holder's name, checked against the user's KYC names, before any money moves.

    A provider with an account inquiry names the holder. One without it (Finan) cannot:
    then the name the merchant sent must be a KYC name, and it goes with the transfer,
    whose provider refuses an account that does not exist. None: failed here."""
    if not isinstance(connector, AccountInquiryConnector):
        holder = snapshot.expected_holder
        if holder is None or not names_match(holder, snapshot.candidate_names):
            await _fail(
                runtime,
                snapshot.id,
                f"beneficiary name mismatch: {holder!r} is not the user's KYC name "
                f"({snapshot.provider} has no account inquiry)",
            )
            return None
        return AccountInquiry(
            snapshot.provider, snapshot.bank_code, snapshot.account_no, holder, 0, None
        )
    try:
        inquiry = await connector.inquire_account(
            snapshot.bank_code, snapshot.account_no, holder_hint=snapshot.expected_holder
        )
    except ProviderRejected as rejected:
        await _fail(
            runtime,
            snapshot.id,
            f"beneficiary account is invalid ({rejected.message or rejected.code})",
        )
        return None
    if not names_match(inquiry.account_name, snapshot.candidate_names):
        await _fail(
            runtime,
            snapshot.id,
            f"beneficiary name mismatch: the bank account holder {inquiry.account_name!r} "
            "is not the user's KYC name",
        )
        return None
    return inquiry


def never_received(runtime: Runtime, withdrawal: Withdrawal, now: dt.datetime) -> bool:
    """An explicit "not found" proves absence only this long after the submission: an
    asynchronous provider may not show a fresh order yet."""
    window = dt.timedelta(seconds=runtime.settings.withdrawal_not_found_after_seconds)
    submitted = withdrawal.submitted_at
    return submitted is None or submitted <= now - window


async def may_send_again(runtime: Runtime, snapshot: Snapshot, *, approved: bool) -> bool:
    """The provider just said "not found" for a started submission: may it be sent again?
    Too early → unknown outcome, polled later; too risky → operator review."""
    async with unit_of_work(runtime.sessionmaker) as session:
        repository = WithdrawalRepository(session)
        withdrawal = await _fenced(repository, snapshot.id, snapshot.token, release=False)
        if withdrawal is None or not _submittable(withdrawal):
            return False
        now = utcnow()
        # Approved: the reconciliation (past the window) or an operator decided already.
        # The fence is kept: the claim right before sending renews it.
        if approved or (
            runtime.settings.withdrawal_auto_resubmit and never_received(runtime, withdrawal, now)
        ):
            return True
        withdrawal.submit_lease_until = None
        if not never_received(runtime, withdrawal, now):
            await _unknown(session, runtime, withdrawal, "not found at the provider yet")
            return False
        await _unknown(session, runtime, withdrawal, "not found at the provider")
        service.flag_for_review(withdrawal, NEVER_RECEIVED)
        await session.flush()
        return False


async def _send(
    runtime: Runtime,
    connector: DisbursementConnector,
    snapshot: Snapshot,
    inquiry: AccountInquiry,
    token: str,
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
    # Crash tests kill the worker here: started and committed, nothing sent yet.
    await faults.pause_point("withdrawal.before_transfer")
    try:
        answer = await connector.transfer(request)
    except ProviderRejected as rejected:
        if rejected.code in DUPLICATE_ORDER_CODES or rejected.http_status == 409:
            # The provider already has this order: its status is the truth.
            known = await connector.check_status(snapshot.reference)
            if known.status is DisbursementStatus.NOT_FOUND:
                await _mark_unknown(
                    runtime, snapshot.id, f"duplicate order but not found: {rejected}", token
                )
            else:
                await _record_answer(runtime, snapshot.id, known, token)
            return
        if snapshot.started:
            # A resubmission: the first attempt may still have arrived. Ask before failing.
            known = await connector.check_status(snapshot.reference)
            if known.status is not DisbursementStatus.NOT_FOUND:
                await _record_answer(runtime, snapshot.id, known, token)
                return
        await _record_rejection(runtime, snapshot.id, rejected, token)
        return
    except ProviderOutcomeUnknown as unknown:
        await _mark_unknown(runtime, snapshot.id, unknown.detail, token)
        return
    except ProviderUnavailable:
        # The request never left: this attempt did not start, the next run is a fresh one.
        await _release(runtime, snapshot.id, token, snapshot.submitted_at, unstart=True)
        raise
    # ... and here: the provider accepted the transfer, we have not recorded its answer.
    await faults.pause_point("withdrawal.after_transfer")
    await _record_answer(runtime, snapshot.id, answer, token)


def _take_fence(runtime: Runtime, withdrawal: Withdrawal, now: dt.datetime) -> str:
    token = secrets.token_hex(16)
    withdrawal.submit_token = token
    withdrawal.submit_lease_until = now + dt.timedelta(
        seconds=runtime.settings.withdrawal_submit_lease_seconds
    )
    return token


async def _claim(runtime: Runtime, snapshot: Snapshot, inquiry: AccountInquiry) -> str | None:
    """Take the submission fence and mark the submission started, in one commit before
    the provider is called. None: another run took the fence since the snapshot (the
    token is the version: every claim writes a new one)."""
    async with unit_of_work(runtime.sessionmaker) as session:
        withdrawal = await WithdrawalRepository(session).get_for_update(snapshot.id)
        if withdrawal is None or not _submittable(withdrawal):
            return None
        if withdrawal.submit_token != snapshot.token:
            log.warning("withdrawal.submit_fenced", withdrawal_id=str(snapshot.id))
            return None
        now = utcnow()
        token = _take_fence(runtime, withdrawal, now)
        withdrawal.verified_account_name = inquiry.account_name[:200]
        withdrawal.submitted_at = now
        withdrawal.updated_at = now
        await session.flush()
        return token


async def _release(
    runtime: Runtime,
    withdrawal_id: uuid.UUID,
    token: str | None,
    submitted_at: dt.datetime | None = None,
    *,
    unstart: bool = False,
) -> None:
    """Give the fence back early; `unstart` when the call proved it never left."""
    async with unit_of_work(runtime.sessionmaker) as session:
        withdrawal = await _fenced(WithdrawalRepository(session), withdrawal_id, token)
        if withdrawal is not None and unstart:
            withdrawal.submitted_at = submitted_at
        await session.flush()


async def _fenced(
    repository: WithdrawalRepository,
    withdrawal_id: uuid.UUID,
    token: str | None,
    *,
    release: bool = True,
) -> Withdrawal | None:
    """The locked row, if the caller may record on it: a run that took the fence must
    still hold it (its token is current); the fence is released as it records."""
    withdrawal = await repository.get_for_update(withdrawal_id)
    if withdrawal is None or token is None:
        return withdrawal
    if withdrawal.submit_token != token:
        log.warning("withdrawal.stale_submission", withdrawal_id=str(withdrawal_id))
        return None
    if release:
        withdrawal.submit_lease_until = None
    return withdrawal


async def _fail(runtime: Runtime, withdrawal_id: uuid.UUID, reason: str) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        withdrawal = await WithdrawalRepository(session).get_for_update(withdrawal_id)
        if withdrawal is None or not _submittable(withdrawal):
            return
        await service.fail_before_submission(session, withdrawal, reason)


async def _record_rejection(
    runtime: Runtime, withdrawal_id: uuid.UUID, rejected: ProviderRejected, token: str
) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        withdrawal = await _fenced(WithdrawalRepository(session), withdrawal_id, token)
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


async def _mark_unknown(
    runtime: Runtime, withdrawal_id: uuid.UUID, detail: str, token: str
) -> None:
    """The provider may have acted: PROCESSING, outcome unknown, left to the poll."""
    async with unit_of_work(runtime.sessionmaker) as session:
        withdrawal = await _fenced(WithdrawalRepository(session), withdrawal_id, token)
        if withdrawal is None:
            return
        await _unknown(session, runtime, withdrawal, detail)
        await session.flush()


async def _unknown(
    session: AsyncSession, runtime: Runtime, withdrawal: Withdrawal, detail: str
) -> None:
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
    log.warning("withdrawal.outcome_unknown", withdrawal_id=str(withdrawal.id), detail=detail)


def _first_poll(runtime: Runtime) -> dt.timedelta:
    return dt.timedelta(seconds=runtime.settings.withdrawal_poll_after_seconds)


async def _record_answer(
    runtime: Runtime, withdrawal_id: uuid.UUID, answer: TransferStatus, token: str | None = None
) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        withdrawal = await _fenced(WithdrawalRepository(session), withdrawal_id, token)
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
