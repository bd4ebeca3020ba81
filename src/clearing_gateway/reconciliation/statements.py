"""Matching a provider's daily settlement statement line by line against the ledger.

The statement format is in providers/statement_kit.py and docs/reconciliation.md. Lines
are grouped by the provider's id for the movement, because one payment can settle in
steps (Finan: partial, then the rest) while the gateway books one deposit per increase.

- credit lines ↔ deposits of that payment id (credited or refused into an exception) and
  payment exceptions without a deposit (a payment to an unknown instrument): the money
  is accounted for when their sum equals the statement's.
- debit lines ↔ the withdrawal with that order reference: it must be SUCCESS (or
  REFUNDED later) for the same amount; refund lines ↔ a REFUNDED withdrawal.
- deposits (by the provider's payment time) and paid-out withdrawals of the day that no
  line mentions are missing at the provider.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.kit.money import AmountError, parse_amount
from clearing_gateway.reconciliation.models import BreakKind
from clearing_gateway.reconciliation.repository import StatementRepository

HEADER = ["date", "type", "reference", "provider_id", "amount", "currency", "status"]
PAID_STATUSES = ("PAID", "SUCCESS", "COMPLETED", "SETTLED")


class StatementError(ValueError):
    """The statement cannot be read; the message names the line."""


@dataclass(frozen=True)
class StatementLine:
    day: str
    type: str
    reference: str
    provider_id: str
    amount: int
    currency: str
    status: str


@dataclass
class Break:
    kind: BreakKind
    direction: str
    reference: str
    currency: str
    provider_amount: int | None
    ledger_amount: int | None
    provider_status: str | None
    ledger_status: str | None
    detail: str
    instrument_reference: str | None = None


@dataclass
class StatementReport:
    provider: str
    day: str
    lines: int = 0
    matched: int = 0
    breaks: list[Break] = field(default_factory=list)
    new_breaks: int = 0


def parse_statement(text: str, day: str) -> list[StatementLine]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != HEADER:
        raise StatementError(f"the first line must be the header {','.join(HEADER)}")
    lines = []
    for number, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(HEADER):
            raise StatementError(f"line {number}: {len(row)} fields, expected {len(HEADER)}")
        date, kind, reference, provider_id, amount, currency, status = (v.strip() for v in row)
        if date != day:
            raise StatementError(f"line {number}: date {date!r} is not the statement's {day}")
        if kind not in ("credit", "debit", "refund"):
            raise StatementError(f"line {number}: type {kind!r} is not credit, debit or refund")
        if not reference or not provider_id:
            raise StatementError(f"line {number}: reference and provider_id are required")
        try:
            minor = parse_amount(amount, currency)
        except AmountError as error:
            raise StatementError(f"line {number}: amount {amount!r} {error}") from None
        lines.append(
            StatementLine(day, kind, reference, provider_id, minor, currency, status.upper())
        )
    return lines


def day_window(day: str) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), dt.UTC)
    return start, start + dt.timedelta(days=1)


async def match_statement(
    session: AsyncSession, provider: str, day: str, lines: list[StatementLine]
) -> StatementReport:
    """Compare, record each break (once per statement), and report."""
    repository = StatementRepository(session)
    report = StatementReport(provider, day, lines=len(lines))
    await _match_credits(repository, report, [x for x in lines if x.type == "credit"])
    await _match_payouts(repository, report, [x for x in lines if x.type != "credit"])
    for found in report.breaks:
        values: dict[str, object] = {
            "provider": provider,
            "statement_date": day,
            "kind": found.kind.value,
            "direction": found.direction,
            "reference": found.reference[:128],
            "currency": found.currency,
            "provider_amount": found.provider_amount,
            "ledger_amount": found.ledger_amount,
            "provider_status": found.provider_status,
            "ledger_status": found.ledger_status,
            "detail": found.detail[:500],
            "instrument_reference": (found.instrument_reference or "")[:128] or None,
        }
        report.new_breaks += await repository.record_break(values)
    return report


async def _match_credits(
    repository: StatementRepository, report: StatementReport, lines: list[StatementLine]
) -> None:
    provider = report.provider
    stated: dict[str, int] = defaultdict(int)
    statuses: dict[str, set[str]] = defaultdict(set)
    currency: dict[str, str] = {}
    instrument: dict[str, str] = {}
    for line in lines:
        instrument.setdefault(line.provider_id, line.reference)
        stated[line.provider_id] += line.amount
        statuses[line.provider_id].add(line.status)
        currency[line.provider_id] = line.currency
    ids = list(stated)
    ours: dict[str, int] = defaultdict(int)
    for deposit in await repository.deposits_of_payments(provider, ids):
        ours[deposit.payment_request_id.split(":", 1)[0]] += deposit.amount
    for exception in await repository.exceptions_of_payments(provider, ids):
        # Money recorded only as an exception (no deposit: an unknown instrument, a partial
        # payment still parked); a parked one later completed is counted by its deposit.
        if exception.payment_request_id not in ours:
            ours[exception.payment_request_id] = exception.amount
    for payment_id, amount in stated.items():
        status = ",".join(sorted(statuses[payment_id]))
        if any(s not in PAID_STATUSES for s in statuses[payment_id]):
            report.breaks.append(
                Break(
                    BreakKind.STATUS_MISMATCH,
                    "credit",
                    payment_id,
                    currency[payment_id],
                    amount,
                    ours.get(payment_id),
                    status,
                    "PAID",
                    f"the provider states {status} for a payment the gateway counts as paid"
                    if payment_id in ours
                    else f"the provider states {status}",
                )
            )
        elif payment_id not in ours:
            report.breaks.append(
                Break(
                    BreakKind.MISSING_IN_LEDGER,
                    "credit",
                    payment_id,
                    currency[payment_id],
                    amount,
                    None,
                    status,
                    None,
                    "the provider settled a payment the gateway has no deposit or exception for",
                    instrument_reference=instrument[payment_id],
                )
            )
        elif ours[payment_id] != amount:
            report.breaks.append(
                Break(
                    BreakKind.AMOUNT_MISMATCH,
                    "credit",
                    payment_id,
                    currency[payment_id],
                    amount,
                    ours[payment_id],
                    status,
                    "PAID",
                    "the provider's settled amount differs from the gateway's deposits",
                )
            )
        else:
            report.matched += 1
    start, end = day_window(report.day)
    missing: dict[str, int] = defaultdict(int)
    missing_currency: dict[str, str] = {}
    for deposit in await repository.deposits_between(provider, start, end):
        payment_id = deposit.payment_request_id.split(":", 1)[0]
        if payment_id not in stated:
            missing[payment_id] += deposit.amount
            missing_currency[payment_id] = deposit.currency
    for payment_id, amount in missing.items():
        report.breaks.append(
            Break(
                BreakKind.MISSING_AT_PROVIDER,
                "credit",
                payment_id,
                missing_currency[payment_id],
                None,
                amount,
                None,
                "PAID",
                "the gateway recorded a payment the provider's statement does not list",
            )
        )


async def _match_payouts(
    repository: StatementRepository, report: StatementReport, lines: list[StatementLine]
) -> None:
    provider = report.provider
    withdrawals = {
        w.provider_reference: w
        for w in await repository.withdrawals_by_reference(provider, [x.reference for x in lines])
    }
    for line in lines:
        withdrawal = withdrawals.get(line.reference)
        wanted = ("REFUNDED",) if line.type == "refund" else ("SUCCESS", "REFUNDED")
        if withdrawal is None:
            report.breaks.append(
                Break(
                    BreakKind.MISSING_IN_LEDGER,
                    line.type,
                    line.reference,
                    line.currency,
                    line.amount,
                    None,
                    line.status,
                    None,
                    "the provider paid out for a reference the gateway has no withdrawal for",
                )
            )
        elif withdrawal.status not in wanted or line.status not in (*PAID_STATUSES, "REFUNDED"):
            report.breaks.append(
                Break(
                    BreakKind.STATUS_MISMATCH,
                    line.type,
                    line.reference,
                    line.currency,
                    line.amount,
                    withdrawal.amount,
                    line.status,
                    withdrawal.status,
                    f"statement {line.type} {line.status}, withdrawal {withdrawal.status}",
                )
            )
        elif withdrawal.amount != line.amount:
            report.breaks.append(
                Break(
                    BreakKind.AMOUNT_MISMATCH,
                    line.type,
                    line.reference,
                    line.currency,
                    line.amount,
                    withdrawal.amount,
                    line.status,
                    withdrawal.status,
                    "the provider's amount differs from the withdrawal's",
                )
            )
        else:
            report.matched += 1
    start, end = day_window(report.day)
    listed = {x.reference for x in lines if x.type == "debit"}
    for withdrawal in await repository.paid_out_between(provider, start, end):
        if withdrawal.provider_reference not in listed:
            report.breaks.append(
                Break(
                    BreakKind.MISSING_AT_PROVIDER,
                    "debit",
                    withdrawal.provider_reference,
                    withdrawal.currency,
                    None,
                    withdrawal.amount,
                    None,
                    withdrawal.status,
                    "the gateway paid out a withdrawal the provider's statement does not list",
                )
            )
