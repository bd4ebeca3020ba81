"""Deposit reconciliation: ask each provider's read API about instruments that may have
been paid, and about every payment callback not yet confirmed, and apply what it says
through the callback path (`providers.callbacks.apply_found`).

The event built here carries the same event key as the provider's callback for the same
payment (Topremit `va:{paymentId}` / `qris:{referenceNo}`, Finan
`payment:{id}:paid:{paid_amount}`), so a payment that arrives both ways — a callback and
a pass — is claimed, and credited, once. What is asked:

- Finan cash-in requests: `GET /payments/{id}`; a paid, partial or extra status is applied
  by its running total (deposits/service.py credits the increase).
- Topremit QRIS: `qr-mpm-query`; status `00` is a payment of the QR's amount.
- Topremit fixed-amount VAs: `inquiry-va`; `PAID` with a paymentId is a payment of the VA's
  amount. An open-amount VA's inquiry does not state what a payment brought, so those are
  matched by the statement instead (statements.py).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.instruments.models import VirtualAccount
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import parse_uuid
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.providers import base
from clearing_gateway.providers.callback_kit import compact_json
from clearing_gateway.providers.callbacks import apply_found
from clearing_gateway.providers.errors import (
    CallbackRejected,
    ProviderError,
    ProviderNotYetConfirmed,
)
from clearing_gateway.providers.events import PaymentReceived
from clearing_gateway.providers.models import CallbackStatus, ProviderCallback
from clearing_gateway.providers.repository import InboxRepository
from clearing_gateway.reconciliation.repository import DepositReconciliationRepository

log = get_logger("gateway.reconciliation")

BATCH = 500
CONFIRMED_NOTE = "confirmed by deposit reconciliation"


@dataclass
class DepositReport:
    asked: int = 0
    applied: int = 0  # payments this pass credited (or refused into an exception)
    already: int = 0  # payments the ledger already had (the callback came first)
    unpaid: int = 0
    unavailable: int = 0  # the provider could not be asked; the next pass asks again
    anomalies: list[str] = field(default_factory=list)
    settled_callbacks: int = 0  # unconfirmed callbacks whose payment is now applied


async def reconcile_deposits(runtime: Runtime, now: dt.datetime | None = None) -> DepositReport:
    """One pass over instruments with possible activity and unconfirmed callbacks."""
    assert runtime.providers is not None
    now = now or utcnow()
    settings = runtime.settings
    report = DepositReport()
    issued_after = now - dt.timedelta(hours=settings.deposit_reconcile_lookback_hours)
    received_before = now - dt.timedelta(seconds=settings.deposit_reconcile_grace_seconds)
    async with runtime.sessionmaker() as session:
        repository = DepositReconciliationRepository(session)
        accounts = {a.id: a for a in await repository.open_fixed_instruments(issued_after, BATCH)}
        waiting: dict[uuid.UUID, list[uuid.UUID]] = {}
        for row in await repository.unconfirmed_payments(received_before, BATCH):
            account = await _instrument_of(repository, row)
            if account is None:
                report.anomalies.append(f"callback {row.id}: no instrument of ours")
                continue
            accounts.setdefault(account.id, account)
            waiting.setdefault(account.id, []).append(row.id)
    for account in accounts.values():
        outcome = await _reconcile_one(runtime, account, report)
        if outcome in (CallbackStatus.APPLIED, CallbackStatus.DUPLICATE) and account.id in waiting:
            await _settle(runtime, waiting[account.id])
            report.settled_callbacks += len(waiting[account.id])
    if report.applied or report.anomalies:
        log.info(
            "reconciliation.deposits",
            asked=report.asked,
            applied=report.applied,
            unavailable=report.unavailable,
            anomalies=len(report.anomalies),
        )
    return report


async def _reconcile_one(runtime: Runtime, account: VirtualAccount, report: DepositReport) -> str:
    report.asked += 1
    try:
        found = await read_payment(runtime, account)
    except CallbackRejected as refused:
        report.anomalies.append(f"{account.provider} {account.id}: {refused.reason}")
        return ""
    except ProviderError as error:
        report.unavailable += 1
        log.warning(
            "reconciliation.provider_unavailable", provider=account.provider, error=str(error)
        )
        return ""
    if found is None:
        report.unpaid += 1
        return ""
    event, answer = found
    assert runtime.providers is not None
    raw = base.RawCallback(
        provider=account.provider,
        channel="reconciliation",
        path=f"reconciliation:{account.kind}:{account.id}",
        headers={},
        body=compact_json(answer),
    )
    status = await apply_found(runtime.sessionmaker, event, raw, runtime.providers.handlers)
    if status == CallbackStatus.DUPLICATE:
        report.already += 1
    elif status == CallbackStatus.APPLIED:
        report.applied += 1
        log.warning(
            "reconciliation.payment_found",
            provider=account.provider,
            instrument=str(account.id),
            key=event.event_key,
        )
    return status


async def read_payment(
    runtime: Runtime, account: VirtualAccount
) -> tuple[PaymentReceived, dict[str, Any]] | None:
    """What the provider's read API says was paid on `account`, as the event its callback
    would have produced (same key), or None when nothing is paid yet."""
    providers = runtime.providers
    assert providers is not None
    if account.provider == "finan" and account.kind == "cashin":
        payment = await providers.finan.get_payment(account.virtual_account_no)
        unconfirmed = PaymentReceived(
            provider="finan",
            event_key="",
            instrument="cashin",
            amount=0,
            currency=account.currency,
            provider_payment_id=account.virtual_account_no,
            reference=str(account.id),
        )
        try:
            return providers.finan.paid_event(unconfirmed, payment), payment
        except ProviderNotYetConfirmed:
            return None
    if account.provider == "topremit" and account.kind == "qris":
        qris = await providers.topremit.inquire_qris(
            account.provider_reference, account.virtual_account_no
        )
        if qris.status != "PAID":
            return None
        info = qris.raw.get("additionalInfo")
        payment_id = info.get("paymentId") if isinstance(info, dict) else None
        event = PaymentReceived(
            provider="topremit",
            event_key=f"qris:{qris.provider_reference}",
            instrument="qris",
            reference=account.provider_reference,
            amount=qris.amount,
            currency=qris.currency,
            paid_at=qris.paid_at,
            provider_payment_id=str(payment_id or qris.provider_reference),
            raw=qris.raw,
        )
        return event, qris.raw
    if account.provider == "topremit" and account.kind == "va":
        found = await providers.topremit.inquire_virtual_account(
            base.VirtualAccount(
                provider="topremit",
                reference=account.provider_reference,
                virtual_account_no=account.virtual_account_no,
                customer_no=account.customer_no or "",
                bank_code=account.bank_code,
                status="",
                amount=None,
                currency=account.currency,
                expires_at=None,
                provider_payment_id=None,
            )
        )
        if found.status != "PAID" or found.amount is None or not found.provider_payment_id:
            return None
        event = PaymentReceived(
            provider="topremit",
            event_key=f"va:{found.provider_payment_id}",
            instrument="va",
            virtual_account_no=account.virtual_account_no,
            reference=account.provider_reference,
            amount=found.amount,
            currency=found.currency,
            provider_payment_id=found.provider_payment_id,
            raw=found.raw,
        )
        return event, found.raw
    return None


async def _instrument_of(
    repository: DepositReconciliationRepository, row: ProviderCallback
) -> VirtualAccount | None:
    """The instrument an unconfirmed callback is about, from its key or its body."""
    key = row.event_key or ""
    if row.provider == "finan" and key.startswith("payment:"):
        return await repository.instrument_by_number("finan", key.split(":")[1])
    if row.provider == "topremit" and key.startswith("qris:"):
        return await repository.instrument_by_number("topremit", key.split(":", 1)[1])
    try:
        document = json.loads(row.body)
    except ValueError:
        return None
    reference = _reference_in(document)
    instrument_id = parse_uuid(reference or "")
    if instrument_id is None:
        return None
    found = await repository.instruments([instrument_id])
    return found[0] if found else None


def _reference_in(document: Any) -> str | None:
    if not isinstance(document, dict):
        return None
    for holder in (document, document.get("data"), document.get("virtualAccountData")):
        if isinstance(holder, dict):
            for name in ("trxId", "originalPartnerReferenceNo", "reference_id", "reference_code"):
                if isinstance(holder.get(name), str):
                    return str(holder[name])
    return None


async def _settle(runtime: Runtime, row_ids: list[uuid.UUID]) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        inbox = InboxRepository(session)
        for row_id in row_ids:
            await inbox.mark(row_id, CallbackStatus.DUPLICATE, error=CONFIRMED_NOTE)
