"""A withdrawal's whole story in time order: reserve, provider calls, callbacks, status
changes, ledger transfers, webhooks sent, operators' actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.console.reads import ConsoleReads
from clearing_gateway.console.ui import money, when
from clearing_gateway.withdrawals import service as withdrawals
from clearing_gateway.withdrawals.models import Withdrawal
from clearing_gateway.withdrawals.repository import WithdrawalRepository


def _item(at: dt.datetime | None, kind: str, title: str, detail: str = "") -> dict[str, Any]:
    return {"sort": at, "at": when(at), "kind": kind, "title": title, "detail": detail}


async def withdrawal_timeline(
    session: AsyncSession, withdrawal: Withdrawal, *, operator: bool
) -> list[dict[str, Any]]:
    """Operators also see provider callbacks and console actions; a merchant sees what
    concerns it (its request, statuses, its money, its webhooks)."""
    reads = ConsoleReads(session)
    w = withdrawal
    items = [
        _item(
            w.created_at,
            "request",
            f"Withdrawal requested: {money(w.amount, w.currency)} to "
            f"{w.beneficiary_bank_code} {w.beneficiary_account_no}",
            f"merchant reference {w.merchant_reference}, user {w.user_ref}",
        )
    ]
    transfer_names = {
        withdrawals.hold_id(w.id): "hold (amount + fee reserved from the withdrawal vault)",
        withdrawals.refund_id(w.id): "refund back to the vault",
        withdrawals.provider_fee_id(w.id): "provider fee",
    }
    for transfer in await reads.ledger_transfers(list(transfer_names)):
        name = transfer_names.get(transfer.id, transfer.id)
        items.append(_item(transfer.created_at, "ledger", f"Ledger: {name}", transfer.id))
        if transfer.posted_at and transfer.held_at:
            items.append(_item(transfer.posted_at, "ledger", f"Ledger: {name} posted"))
        if transfer.voided_at:
            items.append(_item(transfer.voided_at, "ledger", f"Ledger: {name} voided (released)"))
    if w.submitted_at:
        detail = f"order id {w.provider_reference}"
        if w.provider_transaction_id:
            detail += f", provider id {w.provider_transaction_id}"
        items.append(_item(w.submitted_at, "provider", f"Submitted to {w.provider}", detail))
    if w.provider_status_code or w.provider_message:
        items.append(
            _item(
                w.updated_at,
                "provider",
                f"Latest provider answer: {w.provider_status_code or '—'}",
                (w.provider_message or "")
                + (" · outcome unknown (answer lost)" if w.outcome_unknown else ""),
            )
        )
    if w.polls:
        items.append(
            _item(
                w.updated_at,
                "provider",
                f"Checked with the provider {w.polls} time(s)",
                f"next check {when(w.next_poll_at)}" if w.next_poll_at else "",
            )
        )
    for change in await WithdrawalRepository(session).history(w.id):
        items.append(
            _item(
                change.created_at,
                "status",
                f"Status {change.from_status or '—'} → {change.to_status}",
                f"by {change.source}" + (f": {change.note}" if change.note else ""),
            )
        )
    if operator:
        for callback in await reads.callbacks_mentioning(w.provider, w.provider_reference):
            items.append(
                _item(
                    callback.received_at,
                    "callback",
                    f"Callback from {callback.provider} ({callback.channel}): {callback.status}",
                    f"event {callback.event_key or '—'}"
                    + (f" · {callback.error}" if callback.error else ""),
                )
            )
        for entry in await reads.audit_for(str(w.id)):
            items.append(
                _item(
                    entry.created_at,
                    "operator",
                    f"Console: {entry.action} by {entry.actor_email}",
                    entry.detail or "",
                )
            )
    if w.stuck_since:
        items.append(
            _item(w.stuck_since, "review", "Flagged for an operator", w.review_reason or "")
        )
    for delivery in await reads.deliveries_for(w.merchant_id, str(w.id)):
        code = delivery.status_code if delivery.status_code is not None else "—"
        items.append(
            _item(
                delivery.created_at,
                "webhook",
                f"Webhook {delivery.event_type} attempt {delivery.attempt} "
                f"({delivery.trigger}): {delivery.status} {code}",
                delivery.url + (f" · {delivery.error}" if delivery.error else ""),
            )
        )
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)
    items.sort(key=lambda i: i["sort"] or floor)
    return items
