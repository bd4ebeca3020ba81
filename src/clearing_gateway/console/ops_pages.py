"""Operator pages: overview, search, lists, a withdrawal's timeline, work queues with
their actions, merchants. Every action is CSRF-checked and audited with the operator."""

from __future__ import annotations

import datetime as dt
import statistics
import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from clearing_gateway.console import service as console
from clearing_gateway.console import settlement_pages
from clearing_gateway.console.chart import hourly_volume_svg
from clearing_gateway.console.models import Role
from clearing_gateway.console.passwords import generate_password
from clearing_gateway.console.reads import PROVIDERS, ConsoleReads, ListFilters
from clearing_gateway.console.repository import ConsoleRepository
from clearing_gateway.console.timeline import withdrawal_timeline
from clearing_gateway.console.ui import (
    action,
    card,
    cards,
    cell,
    field,
    form,
    kv,
    money,
    percent,
    pre,
    raw_svg,
    row,
    secret,
    table,
    timeline,
    when,
)
from clearing_gateway.console.web import (
    DbDep,
    OperatorDep,
    checked_form,
    client_ip,
    done,
    missing,
    render,
    runtime_of,
    text,
    uuid_or_404,
)
from clearing_gateway.deposits import service as deposits
from clearing_gateway.deposits.models import Deposit
from clearing_gateway.deposits.repository import DepositRepository
from clearing_gateway.jobs import service as jobs
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.errors import GatewayError
from clearing_gateway.kit.listing import parse_rfc3339
from clearing_gateway.kit.money import AmountError, parse_amount
from clearing_gateway.ledger import fees
from clearing_gateway.ledger import service as ledger
from clearing_gateway.merchants.repository import MerchantRepository
from clearing_gateway.merchants.service import MerchantError, MerchantService
from clearing_gateway.providers.models import CallbackStatus
from clearing_gateway.providers.replay import ReplayRefused, replay_stored
from clearing_gateway.providers.repository import InboxRepository
from clearing_gateway.reconciliation import service as reconciliation
from clearing_gateway.webhooks import service as webhooks
from clearing_gateway.withdrawals import reconciliation as withdrawal_checks
from clearing_gateway.withdrawals import service as withdrawals
from clearing_gateway.withdrawals.models import Withdrawal, WithdrawalStatus
from clearing_gateway.withdrawals.repository import WithdrawalRepository

router = APIRouter(prefix="/console/ops", include_in_schema=False)
PAGE = 50


def start_of_day(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _tone(status: str) -> str | None:
    return {
        "COMPLETED": "ok",
        "SUCCESS": "ok",
        "FAILED": "bad",
        "REFUNDED": "warn",
        "succeeded": "ok",
        "failed": "bad",
        "applied": "ok",
        "rejected": "bad",
        "open": "warn",
    }.get(status)


# --- overview ------------------------------------------------------------------------------


@router.get("")
async def overview(request: Request, principal: OperatorDep, session: DbDep) -> Response:
    now = utcnow()
    today = start_of_day(now)
    reads = ConsoleReads(session)
    flows = await reads.flows(today)
    counts = await reads.counters(now, today, now - dt.timedelta(hours=24))
    lags = await reads.webhook_lags(today)
    lag = f"{statistics.median(lags):.1f} s" if lags else "—"
    flow_rows = [
        row(
            f.kind,
            f.provider,
            cell(f.count, cls="num"),
            cell(", ".join(money(v, c) for c, v in sorted(f.volume.items())) or "—", cls="num"),
            cell(percent(f.succeeded, f.finished), cls="num"),
            cell(
                "list",
                href=f"/console/ops/{f.kind}s?"
                + urlencode({"provider": f.provider, "startDate": today.date().isoformat()}),
            ),
        )
        for f in flows
    ]
    sections = [
        cards(
            [
                card("Stuck withdrawals", counts["stuck"], "/console/ops/queues/withdrawals"),
                card("Open exceptions", counts["exceptions"], "/console/ops/queues/exceptions"),
                card("Reconciliation breaks", counts["breaks"], "/console/ops/queues/breaks"),
                card(
                    "Webhook success today",
                    percent(counts["webhook_succeeded"], counts["webhook_attempts"]),
                    "/console/ops/queues/webhooks",
                    f"{counts['webhook_attempts']} attempts · median lag {lag}",
                ),
                card(
                    "Job queue",
                    counts["jobs_due"],
                    "/console/ops/queues/jobs",
                    f"due now · {counts['jobs_pending']} pending · "
                    f"{counts['jobs_running']} running · {counts['jobs_failed']} failed",
                ),
                card(
                    "Callbacks",
                    counts["callbacks_rejected"],
                    "/console/ops/queues/callbacks?status=rejected",
                    f"rejected in 24 h · {counts['callbacks_waiting']} waiting",
                ),
            ]
        ),
        table(
            "Today by provider (UTC)",
            ["flow", "provider", "count", "volume", "success rate", ""],
            flow_rows,
            empty="No deposits or withdrawals today yet.",
            test_id="flows",
        ),
        raw_svg(
            "Volume by hour today (UTC, IDR)", hourly_volume_svg(await reads.hourly_volume(today))
        ),
    ]
    return render(request, principal, "Overview", sections, active="/console/ops")


# --- search --------------------------------------------------------------------------------


@router.get("/search")
async def search(request: Request, principal: OperatorDep, session: DbDep) -> Response:
    query = request.query_params.get("q", "")[:128]
    reads = ConsoleReads(session)
    hits = await reads.search(query)
    names = await reads.merchant_names({h.merchant_id for h in hits if h.merchant_id})
    if len(hits) == 1 and hits[0].kind in ("deposit", "withdrawal"):
        # One exact answer: go straight to it.
        return done(hits[0].href, f"Found {hits[0].kind} for {query!r}")
    rows = [
        row(
            h.kind,
            cell(h.label, href=h.href),
            names.get(h.merchant_id, "") if h.merchant_id else "",
        )
        for h in hits
    ]
    return render(
        request,
        principal,
        "Search",
        [
            table(
                f"Results for {query!r}",
                ["kind", "match", "merchant"],
                rows,
                empty="Nothing matches: ids, merchant or provider references, VA numbers and "
                "webhook ids are searched exactly.",
                test_id="results",
            )
        ],
        query=query,
    )


# --- lists ---------------------------------------------------------------------------------


def _when_param(request: Request, name: str, *, end: bool = False) -> dt.datetime | None:
    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    if len(value) == 10:  # a plain date: the whole day
        day = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
        return day + dt.timedelta(days=1) - dt.timedelta(microseconds=1) if end else day
    return parse_rfc3339(name, value)


def list_filters(request: Request, merchant_id: uuid.UUID | None = None) -> ListFilters:
    """The seed's list filters (status, userId, startDate, endDate, offset) plus, for
    operators, merchant and provider. Bad values raise ValueError/GatewayError."""
    params = request.query_params
    merchant = params.get("merchant", "").strip()
    offset = int(params.get("offset", "0") or 0)
    if not 0 <= offset <= 1_000_000:
        raise ValueError("offset out of range")
    provider = params.get("provider", "").strip().lower() or None
    if provider and provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}")
    return ListFilters(
        merchant_id=merchant_id or (uuid.UUID(merchant) if merchant else None),
        provider=provider,
        status=params.get("status", "").strip().upper()[:16] or None,
        user_id=params.get("userId", "").strip()[:64] or None,
        created_from=_when_param(request, "startDate"),
        created_to=_when_param(request, "endDate", end=True),
        limit=PAGE,
        offset=offset,
    )


def filter_form(request: Request, url: str, statuses: list[str], *, operator: bool) -> Any:
    params = request.query_params
    fields = [
        field(
            "status",
            "Status",
            kind="select",
            value=params.get("status", ""),
            options=["", *statuses],
        ),
        field("userId", "User id", value=params.get("userId", "")),
        field("startDate", "From (YYYY-MM-DD or RFC 3339)", value=params.get("startDate", "")),
        field("endDate", "To", value=params.get("endDate", "")),
    ]
    if operator:
        fields[:0] = [
            field("merchant", "Merchant id", value=params.get("merchant", "")),
            field(
                "provider",
                "Provider",
                kind="select",
                value=params.get("provider", ""),
                options=["", *PROVIDERS],
            ),
        ]
    return form("Filter", url, fields, "Apply", method="get")


def pager(
    request: Request, url: str, filters: ListFilters, more: bool
) -> tuple[str | None, str | None]:
    params = dict(request.query_params)
    params.pop("flash", None)
    older = newer = None
    if more:
        older = f"{url}?{urlencode({**params, 'offset': filters.offset + filters.limit})}"
    if filters.offset:
        newer = f"{url}?{urlencode({**params, 'offset': max(0, filters.offset - filters.limit)})}"
    return newer, older


def deposit_rows(rows: list[Deposit], names: dict[uuid.UUID, str], base: str) -> list[Any]:
    return [
        row(
            cell(str(d.id), href=f"{base}/{d.id}"),
            when(d.created_at),
            *([names.get(d.merchant_id, str(d.merchant_id))] if names else []),
            d.user_ref,
            d.provider,
            d.virtual_account_no,
            cell(money(d.amount, d.currency), cls="num"),
            cell(money(d.fee, d.currency), cls="num"),
            cell(d.status, cls=_tone(d.status)),
        )
        for d in rows
    ]


def withdrawal_rows(rows: list[Withdrawal], names: dict[uuid.UUID, str], base: str) -> list[Any]:
    return [
        row(
            cell(str(w.id), href=f"{base}/{w.id}"),
            when(w.created_at),
            *([names.get(w.merchant_id, str(w.merchant_id))] if names else []),
            w.merchant_reference,
            w.user_ref,
            w.provider,
            f"{w.beneficiary_bank_code} {w.beneficiary_account_no}",
            cell(money(w.amount, w.currency), cls="num"),
            cell(w.status + (" · stuck" if w.stuck_since else ""), cls=_tone(w.status)),
        )
        for w in rows
    ]


@router.get("/deposits")
async def deposit_list(request: Request, principal: OperatorDep, session: DbDep) -> Response:
    url = "/console/ops/deposits"
    try:
        filters = list_filters(request)
    except (ValueError, GatewayError) as exc:
        return done(url, f"Filter refused: {getattr(exc, 'reason', exc)}", error=True)
    reads = ConsoleReads(session)
    found = list(await reads.deposits(filters, va=request.query_params.get("va") or None))
    more, found = len(found) > filters.limit, found[: filters.limit]
    names = await reads.merchant_names({d.merchant_id for d in found}) or {uuid.UUID(int=0): ""}
    newer, older = pager(request, url, filters, more)
    sections = [
        filter_form(request, url, ["COMPLETED", "FAILED"], operator=True),
        table(
            "Deposits",
            [
                "transaction id",
                "created (UTC)",
                "merchant",
                "user",
                "provider",
                "VA",
                "amount",
                "fee",
                "status",
            ],
            deposit_rows(found, names, url),
            next_url=older,
            prev_url=newer,
            empty="No deposits match.",
            test_id="deposits",
        ),
    ]
    return render(request, principal, "Deposits", sections, active=url)


@router.get("/withdrawals")
async def withdrawal_list(request: Request, principal: OperatorDep, session: DbDep) -> Response:
    url = "/console/ops/withdrawals"
    try:
        filters = list_filters(request)
    except (ValueError, GatewayError) as exc:
        return done(url, f"Filter refused: {getattr(exc, 'reason', exc)}", error=True)
    reads = ConsoleReads(session)
    found = list(await reads.withdrawals(filters))
    more, found = len(found) > filters.limit, found[: filters.limit]
    names = await reads.merchant_names({w.merchant_id for w in found}) or {uuid.UUID(int=0): ""}
    newer, older = pager(request, url, filters, more)
    sections = [
        filter_form(request, url, [s.value for s in WithdrawalStatus], operator=True),
        table(
            "Withdrawals",
            [
                "transaction id",
                "created (UTC)",
                "merchant",
                "reference",
                "user",
                "provider",
                "beneficiary",
                "amount",
                "status",
            ],
            withdrawal_rows(found, names, url),
            next_url=older,
            prev_url=newer,
            empty="No withdrawals match.",
            test_id="withdrawals",
        ),
    ]
    return render(request, principal, "Withdrawals", sections, active=url)


@router.get("/deposits/{deposit_id}")
async def deposit_page(
    deposit_id: str, request: Request, principal: OperatorDep, session: DbDep
) -> Response:
    deposit = await session.get(Deposit, uuid_or_404(deposit_id, "deposit"))
    if deposit is None:
        raise missing("deposit")
    merchant = await MerchantRepository(session).get(deposit.merchant_id)
    deliveries = await ConsoleReads(session).deliveries_for(deposit.merchant_id, str(deposit.id))
    sections = [
        deposit_facts(deposit, merchant.name if merchant else "", operator=True),
        delivery_table(
            deliveries,
            redeliver_url="/console/ops/queues/webhooks/redeliver",
            merchant_id=deposit.merchant_id,
        ),
    ]
    return render(request, principal, f"Deposit {deposit.id}", sections)


def deposit_facts(deposit: Deposit, merchant_name: str, *, operator: bool) -> Any:
    items: list[Any] = [
        ("transaction id", deposit.id),
        ("status", deposit.status),
        ("amount", money(deposit.amount, deposit.currency)),
        ("fee", money(deposit.fee, deposit.currency)),
        ("net amount", money(deposit.net_amount, deposit.currency)),
        ("user", deposit.user_ref),
        ("instrument", deposit.instrument),
        ("provider", deposit.provider),
        ("bank", deposit.bank_code),
        ("VA number", deposit.virtual_account_no),
        ("provider reference", deposit.payment_request_id),
        ("payer", deposit.payer_name),
        ("paid at (provider)", when(deposit.trx_date_time)),
        ("created", when(deposit.created_at)),
        ("failure reason", deposit.failure_reason),
    ]
    if operator:
        items.insert(
            1, ("merchant", merchant_name, f"/console/ops/merchants/{deposit.merchant_id}")
        )
    return kv("Deposit", items)


def delivery_table(
    deliveries: Any, *, redeliver_url: str | None, merchant_id: uuid.UUID | None
) -> Any:
    rows = []
    for d in deliveries:
        actions = []
        if redeliver_url and d.status == "failed":
            actions.append(
                action(
                    "Redeliver",
                    redeliver_url,
                    field("transaction", "transaction", kind="hidden", value=d.transaction_id),
                    field("merchant", "merchant", kind="hidden", value=d.merchant_id),
                )
            )
        rows.append(
            row(
                when(d.created_at),
                d.event_type,
                d.transaction_id,
                d.url,
                f"#{d.attempt} {d.trigger}",
                cell(f"{d.status} {d.status_code or ''}", cls=_tone(d.status)),
                d.error or "",
                actions=actions,
            )
        )
    return table(
        "Webhook deliveries",
        ["at", "event", "transaction", "url", "attempt", "result", "error"],
        rows,
        empty="No webhook deliveries.",
        test_id="deliveries",
    )


@router.get("/withdrawals/{withdrawal_id}")
async def withdrawal_page(
    withdrawal_id: str, request: Request, principal: OperatorDep, session: DbDep
) -> Response:
    withdrawal = await WithdrawalRepository(session).by_id(uuid_or_404(withdrawal_id, "withdrawal"))
    if withdrawal is None:
        raise missing("withdrawal")
    merchant = await MerchantRepository(session).get(withdrawal.merchant_id)
    sections = [
        withdrawal_facts(withdrawal, merchant.name if merchant else "", operator=True),
        *withdrawal_actions(withdrawal),
        timeline("Timeline", await withdrawal_timeline(session, withdrawal, operator=True)),
    ]
    return render(request, principal, f"Withdrawal {withdrawal.id}", sections)


def withdrawal_facts(w: Withdrawal, merchant_name: str, *, operator: bool) -> Any:
    items: list[Any] = [
        ("transaction id", w.id),
        ("status", w.status + (" (outcome unknown)" if w.outcome_unknown else "")),
        ("merchant reference", w.merchant_reference),
        ("amount", money(w.amount, w.currency)),
        ("fee", money(w.fee, w.currency)),
        ("user", w.user_ref),
        (
            "beneficiary",
            f"{w.beneficiary_bank_code} {w.beneficiary_account_no} "
            f"{w.beneficiary_account_name or ''}",
        ),
        ("verified name", w.verified_account_name),
        ("provider", w.provider),
        ("provider reference", w.provider_reference),
        ("provider transaction id", w.provider_transaction_id),
        ("failure reason", w.failure_reason),
        ("created", when(w.created_at)),
        ("completed", when(w.completed_at)),
    ]
    if operator:
        items.insert(1, ("merchant", merchant_name, f"/console/ops/merchants/{w.merchant_id}"))
        items.append(("stuck since", when(w.stuck_since)))
        items.append(("review reason", w.review_reason))
    return kv("Withdrawal", items)


def withdrawal_actions(w: Withdrawal) -> list[Any]:
    status = WithdrawalStatus(w.status)
    base = f"/console/ops/withdrawals/{w.id}"
    sections = []
    if status in (WithdrawalStatus.PROCESSING, WithdrawalStatus.SUCCESS):
        sections.append(
            form("Re-check with the provider now", f"{base}/recheck", [], "Re-check now")
        )
    if status in (WithdrawalStatus.PENDING, WithdrawalStatus.PROCESSING):
        sections.append(
            form(
                "Mark resolved",
                f"{base}/resolve",
                [
                    field(
                        "status",
                        "Outcome",
                        kind="select",
                        value="SUCCESS",
                        options=["SUCCESS", "FAILED"],
                    ),
                    field("note", "Evidence (provider ticket, statement line…)", required=True),
                ],
                "Resolve",
            )
        )
    if w.submitted_at is not None and (
        status is WithdrawalStatus.PENDING
        or (status is WithdrawalStatus.PROCESSING and w.outcome_unknown)
    ):
        sections.append(
            form(
                "Send again (provider never received it)",
                f"{base}/resubmit",
                [field("note", "Why", required=True)],
                "Approve resubmission",
            )
        )
    return sections


@router.post("/withdrawals/{withdrawal_id}/recheck")
async def withdrawal_recheck(
    withdrawal_id: str, request: Request, principal: OperatorDep, session: DbDep
) -> Response:
    await checked_form(request, principal)
    target = uuid_or_404(withdrawal_id, "withdrawal")
    url = f"/console/ops/withdrawals/{target}"
    try:
        status = await withdrawal_checks.recheck_now(runtime_of(request), target)
    except withdrawals.ResolveError as exc:
        return done(url, str(exc), error=True)
    await console.audit(
        session,
        principal,
        "withdrawal.recheck",
        target=str(target),
        detail=f"status after: {status}",
        source_ip=client_ip(request),
    )
    await session.commit()
    return done(url, f"Checked with the provider: {status}")


@router.post("/withdrawals/{withdrawal_id}/resolve")
async def withdrawal_resolve(
    withdrawal_id: str, request: Request, principal: OperatorDep, session: DbDep
) -> Response:
    form_data = await checked_form(request, principal)
    target = uuid_or_404(withdrawal_id, "withdrawal")
    url = f"/console/ops/withdrawals/{target}"
    note = text(form_data, "note", 1000)
    status = text(form_data, "status", 16)
    try:
        withdrawal = await withdrawals.resolve_by_operator(
            session, target, status, f"{note} (by {principal.email})" if note else ""
        )
    except withdrawals.ResolveError as exc:
        await session.rollback()
        return done(url, str(exc), error=True)
    await console.audit(
        session,
        principal,
        "withdrawal.resolve",
        target=str(target),
        detail=f"{status}: {note}",
        merchant_id=withdrawal.merchant_id,
        source_ip=client_ip(request),
    )
    await session.commit()
    return done(url, f"Withdrawal resolved: {withdrawal.status}")


@router.post("/withdrawals/{withdrawal_id}/resubmit")
async def withdrawal_resubmit(
    withdrawal_id: str, request: Request, principal: OperatorDep, session: DbDep
) -> Response:
    form_data = await checked_form(request, principal)
    target = uuid_or_404(withdrawal_id, "withdrawal")
    url = f"/console/ops/withdrawals/{target}"
    note = text(form_data, "note", 1000)
    try:
        withdrawal = await withdrawals.resubmit_by_operator(session, target, note)
    except withdrawals.ResolveError as exc:
        await session.rollback()
        return done(url, str(exc), error=True)
    await console.audit(
        session,
        principal,
        "withdrawal.resubmit",
        target=str(target),
        detail=note,
        merchant_id=withdrawal.merchant_id,
        source_ip=client_ip(request),
    )
    await session.commit()
    return done(
        url, "Resubmission approved: it is sent only if the provider still does not know it"
    )


# --- work queues ---------------------------------------------------------------------------


@router.get("/queues/exceptions")
async def exception_queue(request: Request, principal: OperatorDep, session: DbDep) -> Response:
    show_all = request.query_params.get("all") == "1"
    found = await DepositRepository(session).exceptions(unresolved_only=not show_all)
    rows = [
        row(
            str(e.id),
            when(e.created_at),
            e.provider,
            e.virtual_account_no,
            e.payment_request_id,
            cell(money(e.amount, e.currency), cls="num"),
            e.reason,
            cell(
                f"resolved {when(e.resolved_at)}: {e.resolution_note}" if e.resolved_at else "open",
                cls=None if e.resolved_at else "warn",
            ),
            actions=[]
            if e.resolved_at
            else [
                action(
                    "Resolve",
                    f"/console/ops/queues/exceptions/{e.id}/resolve",
                    field("note", "What was done", required=True),
                )
            ],
        )
        for e in list(found)[-500:]
    ]
    toggle = (
        ("show open only", "/console/ops/queues/exceptions")
        if show_all
        else ("show resolved too", "/console/ops/queues/exceptions?all=1")
    )
    sections = [
        table(
            "Payment exceptions",
            ["id", "received", "provider", "VA", "provider reference", "amount", "reason", "state"],
            rows,
            empty="No open payment exceptions.",
            test_id="exceptions",
        ),
        kv("", [("view", toggle[0], toggle[1])]),
    ]
    return render(
        request,
        principal,
        "Payment exceptions",
        sections,
        active="/console/ops/queues/exceptions",
        subtitle="Money that arrived but was not credited.",
    )


@router.post("/queues/exceptions/{exception_id}/resolve")
async def exception_resolve(
    exception_id: str, request: Request, principal: OperatorDep, session: DbDep
) -> Response:
    form_data = await checked_form(request, principal)
    note = text(form_data, "note", 500)
    url = "/console/ops/queues/exceptions"
    try:
        exception = await deposits.resolve_payment_exception(session, exception_id, note)
    except deposits.ExceptionNotOpen as exc:
        await session.rollback()
        return done(url, str(exc), error=True)
    await console.audit(
        session,
        principal,
        "exception.resolve",
        target=str(exception.id),
        detail=note,
        merchant_id=exception.merchant_id,
        source_ip=client_ip(request),
    )
    await session.commit()
    return done(url, f"Exception {exception.id} resolved")


@router.get("/queues/withdrawals")
async def stuck_queue(request: Request, principal: OperatorDep, session: DbDep) -> Response:
    found = await WithdrawalRepository(session).stuck()
    rows = []
    for w in found:
        base = f"/console/ops/withdrawals/{w.id}"
        actions = []
        if w.status in (WithdrawalStatus.PROCESSING, WithdrawalStatus.SUCCESS):
            actions.append(action("Re-check now", f"{base}/recheck"))
        if w.status in (WithdrawalStatus.PENDING, WithdrawalStatus.PROCESSING):
            actions.append(
                action(
                    "Mark resolved",
                    f"{base}/resolve",
                    field(
                        "status",
                        "Outcome",
                        kind="select",
                        value="SUCCESS",
                        options=["SUCCESS", "FAILED"],
                    ),
                    field("note", "Evidence", required=True),
                )
            )
        rows.append(
            row(
                cell(str(w.id), href=base),
                w.status + (" · unknown" if w.outcome_unknown else ""),
                w.provider,
                cell(money(w.amount, w.currency), cls="num"),
                when(w.stuck_since),
                w.polls,
                w.review_reason or "",
                actions=actions,
            )
        )
    sections = [
        table(
            "Stuck or unknown withdrawals",
            ["withdrawal", "status", "provider", "amount", "stuck since", "checks", "why"],
            rows,
            empty="No withdrawal waits for an operator.",
            test_id="stuck",
        )
    ]
    return render(
        request, principal, "Stuck withdrawals", sections, active="/console/ops/queues/withdrawals"
    )


@router.get("/queues/breaks")
async def break_queue(request: Request, principal: OperatorDep, session: DbDep) -> Response:
    status = request.query_params.get("status", "open")
    found = await reconciliation.list_breaks(
        session, status=None if status == "all" else status, limit=500
    )
    rows = [
        row(
            str(b.id),
            b.statement_date,
            b.provider,
            b.kind,
            b.reference,
            cell(money(b.provider_amount, b.currency), cls="num"),
            cell(money(b.ledger_amount, b.currency), cls="num"),
            b.detail,
            cell(
                b.status
                if b.status == "open"
                else f"resolved by {b.resolved_by}: {b.resolution_note}",
                cls=_tone(b.status),
            ),
            actions=[]
            if b.status != "open"
            else [
                action(
                    "Resolve",
                    f"/console/ops/queues/breaks/{b.id}/resolve",
                    field("note", "Why it is settled", required=True),
                )
            ],
        )
        for b in found
    ]
    sections = [
        form(
            "Show",
            "/console/ops/queues/breaks",
            [
                field(
                    "status",
                    "Status",
                    kind="select",
                    value=status,
                    options=["open", "resolved", "all"],
                )
            ],
            "Show",
            method="get",
        ),
        table(
            "Reconciliation breaks",
            [
                "id",
                "day",
                "provider",
                "kind",
                "reference",
                "provider amount",
                "ledger amount",
                "detail",
                "state",
            ],
            rows,
            empty="No breaks.",
            test_id="breaks",
        ),
    ]
    return render(
        request, principal, "Reconciliation breaks", sections, active="/console/ops/queues/breaks"
    )


@router.post("/queues/breaks/{break_id}/resolve")
async def break_resolve(
    break_id: str, request: Request, principal: OperatorDep, session: DbDep
) -> Response:
    form_data = await checked_form(request, principal)
    note = text(form_data, "note", 1000)
    url = "/console/ops/queues/breaks"
    target = uuid_or_404(break_id, "break")
    try:
        await reconciliation.resolve_break(
            session, target, note=note, actor=f"console:{principal.email}"
        )
    except reconciliation.BreakError as exc:
        await session.rollback()
        return done(url, str(exc), error=True)
    await console.audit(
        session,
        principal,
        "break.resolve",
        target=str(target),
        detail=note,
        source_ip=client_ip(request),
    )
    await session.commit()
    return done(url, f"Break {target} resolved")


@router.get("/queues/callbacks")
async def callback_queue(request: Request, principal: OperatorDep, session: DbDep) -> Response:
    provider = request.query_params.get("provider") or None
    status = request.query_params.get("status") or None
    found = await InboxRepository(session).list(provider=provider, status=status, limit=100)
    rows = [
        row(
            cell(str(c.id), href=f"/console/ops/queues/callbacks/{c.id}"),
            when(c.received_at),
            f"{c.provider}/{c.channel}",
            c.event_type or "",
            c.event_key or "",
            cell(c.status, cls=_tone(c.status)),
            c.error or "",
            c.source or "",
        )
        for c in found
    ]
    statuses = [
        "",
        CallbackStatus.RECEIVED,
        CallbackStatus.REJECTED,
        CallbackStatus.VERIFIED,
        CallbackStatus.APPLIED,
        CallbackStatus.DUPLICATE,
        CallbackStatus.IGNORED,
    ]
    sections = [
        form(
            "Filter",
            "/console/ops/queues/callbacks",
            [
                field(
                    "provider",
                    "Provider",
                    kind="select",
                    value=provider or "",
                    options=["", *PROVIDERS],
                ),
                field("status", "Verdict", kind="select", value=status or "", options=statuses),
            ],
            "Apply",
            method="get",
        ),
        table(
            "Provider callbacks",
            ["id", "received", "from", "event", "key", "verdict", "error", "source"],
            rows,
            empty="No callbacks match.",
            test_id="callbacks",
        ),
    ]
    return render(
        request, principal, "Callbacks inbox", sections, active="/console/ops/queues/callbacks"
    )


@router.get("/queues/callbacks/{callback_id}")
async def callback_page(
    callback_id: str, request: Request, principal: OperatorDep, session: DbDep
) -> Response:
    callback = await InboxRepository(session).get(uuid_or_404(callback_id, "callback"))
    if callback is None:
        raise missing("callback")
    body = bytes(callback.body or b"").decode("utf-8", errors="replace")
    headers = "\n".join(f"{k}: {v}" for k, v in sorted((callback.headers or {}).items()))
    sections = [
        kv(
            "Callback",
            [
                ("id", callback.id),
                ("provider", callback.provider),
                ("channel", callback.channel),
                ("path", callback.path),
                ("received", when(callback.received_at)),
                ("processed", when(callback.processed_at)),
                ("verdict", callback.status),
                ("error", callback.error),
                ("event", callback.event_type),
                ("event key", callback.event_key),
                ("attempts", callback.attempts),
                ("source", callback.source),
                ("body size", callback.body_size),
                ("body sha256", callback.body_sha256),
            ],
        ),
        pre("Headers", headers or "—"),
        pre("Raw body", body or "(not kept: rejected callbacks keep only their digest)"),
        form(
            "Replay",
            f"/console/ops/queues/callbacks/{callback.id}/replay",
            [],
            "Replay this callback",
        ),
    ]
    return render(
        request,
        principal,
        f"Callback {callback.id}",
        sections,
        active="/console/ops/queues/callbacks",
    )


@router.post("/queues/callbacks/{callback_id}/replay")
async def callback_replay(
    callback_id: str, request: Request, principal: OperatorDep, session: DbDep
) -> Response:
    await checked_form(request, principal)
    target = uuid_or_404(callback_id, "callback")
    url = f"/console/ops/queues/callbacks/{target}"
    runtime = runtime_of(request)
    if runtime.providers is None:
        return done(url, "providers are not configured", error=True)
    try:
        before, status = await replay_stored(runtime, target)
    except ReplayRefused as exc:
        return done(url, str(exc), error=True)
    await console.audit(
        session,
        principal,
        "callback.replay",
        target=str(target),
        detail=f"verdict {before} -> {status}",
        source_ip=client_ip(request),
    )
    await session.commit()
    return done(url, f"Replayed: verdict {before} → {status}")


@router.get("/queues/jobs")
async def job_queue(request: Request, principal: OperatorDep, session: DbDep) -> Response:
    found = await ConsoleReads(session).failed_jobs()
    rows = [
        row(
            str(j.id),
            j.kind,
            when(j.finished_at),
            j.attempts,
            (j.last_error or "")[:300],
            str(j.payload)[:200],
            actions=[action("Retry", f"/console/ops/queues/jobs/{j.id}/retry")],
        )
        for j in found
    ]
    sections = [
        table(
            "Failed jobs",
            ["id", "kind", "failed at", "attempts", "last error", "payload"],
            rows,
            empty="No failed jobs.",
            test_id="jobs",
        )
    ]
    return render(request, principal, "Failed jobs", sections, active="/console/ops/queues/jobs")


@router.post("/queues/jobs/{job_id}/retry")
async def job_retry(
    job_id: str, request: Request, principal: OperatorDep, session: DbDep
) -> Response:
    await checked_form(request, principal)
    target = uuid_or_404(job_id, "job")
    url = "/console/ops/queues/jobs"
    if not await jobs.retry_failed(session, target):
        await session.rollback()
        return done(url, f"job {target} is not failed", error=True)
    await console.audit(
        session, principal, "job.retry", target=str(target), source_ip=client_ip(request)
    )
    await session.commit()
    return done(url, f"Job {target} will run again")


@router.get("/queues/webhooks")
async def webhook_queue(request: Request, principal: OperatorDep, session: DbDep) -> Response:
    params = request.query_params
    merchant = params.get("merchant") or None
    transaction = params.get("transaction") or None
    status = params.get("status", "failed") or None
    try:
        merchant_id = uuid.UUID(merchant) if merchant else None
        found = await webhooks.list_deliveries(
            session,
            merchant_id,
            transaction_id=transaction,
            webhook_id=params.get("webhook") or None,
            status=None if status == "all" else status,
            limit=50,
        )
    except (ValueError, GatewayError) as exc:
        return done(
            "/console/ops/queues/webhooks",
            f"Filter refused: {getattr(exc, 'reason', exc)}",
            error=True,
        )
    sections = [
        form(
            "Filter",
            "/console/ops/queues/webhooks",
            [
                field("merchant", "Merchant id", value=merchant or ""),
                field("transaction", "Transaction id", value=transaction or ""),
                field(
                    "status",
                    "Result",
                    kind="select",
                    value=status or "all",
                    options=["failed", "succeeded", "all"],
                ),
            ],
            "Apply",
            method="get",
        ),
        delivery_table(
            found, redeliver_url="/console/ops/queues/webhooks/redeliver", merchant_id=merchant_id
        ),
    ]
    return render(
        request, principal, "Webhook deliveries", sections, active="/console/ops/queues/webhooks"
    )


@router.post("/queues/webhooks/redeliver")
async def webhook_redeliver(request: Request, principal: OperatorDep, session: DbDep) -> Response:
    form_data = await checked_form(request, principal)
    url = "/console/ops/queues/webhooks"
    transaction = text(form_data, "transaction", 64)
    try:
        merchant_id = uuid.UUID(text(form_data, "merchant", 64))
        result = await webhooks.redeliver_transaction(session, merchant_id, transaction)
    except (ValueError, GatewayError) as exc:
        await session.rollback()
        return done(url, f"Redelivery refused: {getattr(exc, 'reason', exc)}", error=True)
    await console.audit(
        session,
        principal,
        "webhook.redeliver",
        target=transaction,
        detail=f"{len(result['scheduled'])} webhook(s)",
        merchant_id=merchant_id,
        source_ip=client_ip(request),
    )
    await session.commit()
    return done(
        url, f"Redelivery scheduled to {len(result['scheduled'])} webhook(s) for {transaction}"
    )


# --- merchants -----------------------------------------------------------------------------


@router.get("/merchants")
async def merchant_list(request: Request, principal: OperatorDep, session: DbDep) -> Response:
    found = await MerchantRepository(session).list()
    rows = [
        row(
            cell(m.name, href=f"/console/ops/merchants/{m.id}"),
            str(m.id),
            m.status,
            ", ".join(m.allowed_ips) or "any (sandbox)",
            when(m.created_at),
        )
        for m in found
    ]
    fee_rows = [
        row(
            f.provider,
            f.method,
            cell(money(f.flat, "IDR"), cls="num"),
            cell(f"{f.percent_bps / 100:.2f}%", cls="num"),
        )
        for f in await fees.list_fees(session)
    ]
    sections = [
        table(
            "Merchants",
            ["name", "id", "status", "allowed IPs", "created"],
            rows,
            empty="No merchants yet.",
            test_id="merchants",
        ),
        form(
            "New merchant",
            "/console/ops/merchants",
            [
                field("name", "Name", required=True),
                field("ips", "Allowed IPs or CIDRs (comma separated)"),
            ],
            "Create merchant",
        ),
        table(
            "Fee schedule (per provider and method)",
            ["provider", "method", "flat", "percent"],
            fee_rows,
            empty="No fees set: every fee is 0.",
            test_id="fees",
        ),
        form(
            "Set a fee",
            "/console/ops/fees",
            [
                field(
                    "provider", "Provider", kind="select", value="topremit", options=list(PROVIDERS)
                ),
                field("method", "Method (va, qris, disbursement, …)", required=True),
                field("flat", "Flat fee (IDR, e.g. 2500.00)", value="0"),
                field("percent_bps", "Percent in basis points (100 = 1%)", value="0"),
            ],
            "Set fee",
        ),
    ]
    return render(request, principal, "Merchants", sections, active="/console/ops/merchants")


@router.post("/merchants")
async def merchant_create(request: Request, principal: OperatorDep, session: DbDep) -> Response:
    form_data = await checked_form(request, principal)
    name = text(form_data, "name", 200)
    ips = [p.strip() for p in text(form_data, "ips").split(",") if p.strip()]
    try:
        issued = await MerchantService(runtime_of(request).settings).create(
            session, name=name, ips=ips
        )
    except MerchantError as exc:
        await session.rollback()
        return done("/console/ops/merchants", str(exc), error=True)
    await console.audit(
        session,
        principal,
        "merchant.create",
        target=str(issued.merchant_id),
        detail=name,
        merchant_id=issued.merchant_id,
        source_ip=client_ip(request),
    )
    await session.commit()
    sections = [
        secret(
            "API credentials",
            [
                ("merchantId", str(issued.merchant_id)),
                ("apiKey", issued.api_key),
                ("apiSecret", issued.api_secret),
            ],
        ),
        kv("Next", [("merchant page", name, f"/console/ops/merchants/{issued.merchant_id}")]),
    ]
    return render(
        request, principal, f"Merchant {name} created", sections, active="/console/ops/merchants"
    )


@router.post("/fees")
async def fee_set(request: Request, principal: OperatorDep, session: DbDep) -> Response:
    form_data = await checked_form(request, principal)
    url = "/console/ops/merchants"
    provider, method = text(form_data, "provider", 16), text(form_data, "method", 32)
    try:
        flat = parse_amount(text(form_data, "flat", 32) or "0", "IDR", positive=False)
        bps = int(text(form_data, "percent_bps", 8) or "0")
        fee = await fees.set_fee(session, provider, method, flat=flat, percent_bps=bps)
    except (AmountError, ValueError) as exc:
        await session.rollback()
        return done(url, f"Fee refused: {exc}", error=True)
    await console.audit(
        session,
        principal,
        "fee.set",
        target=f"{provider}/{method}",
        detail=f"flat={fee.flat} bps={fee.percent_bps}",
        source_ip=client_ip(request),
    )
    await session.commit()
    return done(url, f"Fee for {provider}/{method} set")


@router.get("/merchants/{merchant_id}")
async def merchant_page(
    merchant_id: str, request: Request, principal: OperatorDep, session: DbDep
) -> Response:
    target = uuid_or_404(merchant_id, "merchant")
    repository = MerchantRepository(session)
    merchant = await repository.get(target)
    if merchant is None:
        raise missing("merchant")
    settings = runtime_of(request).settings
    base = f"/console/ops/merchants/{target}"
    sections = [
        kv(
            "Merchant",
            [
                ("name", merchant.name),
                ("id", merchant.id),
                ("status", merchant.status),
                ("environment", f"{settings.gateway_env.value} (gateway-wide, not per merchant)"),
                ("created", when(merchant.created_at)),
                ("deposits", "list", f"/console/ops/deposits?merchant={target}"),
                ("withdrawals", "list", f"/console/ops/withdrawals?merchant={target}"),
                (
                    "webhook deliveries",
                    "log",
                    f"/console/ops/queues/webhooks?merchant={target}&status=all",
                ),
            ],
        ),
        balance_table(await ledger.balances(session, target)),
        *await settlement_pages.operator_sections(session, target, base),
        *key_sections(await repository.live_keys(target, utcnow()), base),
        form(
            "IP allowlist",
            f"{base}/ips",
            [
                field(
                    "ips",
                    "Addresses or CIDRs, one per line (empty: any address in sandbox, "
                    "none in production)",
                    kind="textarea",
                    value="\n".join(merchant.allowed_ips),
                ),
            ],
            "Save allowlist",
        ),
        table(
            "Console users",
            ["email", "role", "created", "last login"],
            [
                row(a.email, a.role, when(a.created_at), when(a.last_login_at))
                for a in await ConsoleRepository(session).merchant_accounts(target)
            ],
            empty="No console users yet.",
            test_id="team",
        ),
        form(
            "New console user",
            f"{base}/users",
            [
                field("email", "Email", kind="email", required=True),
                field(
                    "role",
                    "Role",
                    kind="select",
                    value=Role.MERCHANT_ADMIN,
                    options=list(Role.MERCHANT_ROLES),
                ),
                field("password", "Password (empty: generated and shown once)", kind="password"),
            ],
            "Create user",
        ),
    ]
    return render(
        request,
        principal,
        merchant.name,
        sections,
        active="/console/ops/merchants",
        subtitle=settlement_pages.environment_note(settings.gateway_env.value),
    )


def balance_table(balances: Any) -> Any:
    return table(
        "Balances (provider x vault)",
        ["provider", "vault", "currency", "available", "pending", "updated"],
        [
            row(
                b.provider,
                b.vault_type,
                b.currency,
                cell(money(b.available, b.currency), cls="num"),
                cell(money(b.pending, b.currency), cls="num"),
                when(b.updated_at),
            )
            for b in balances
        ],
        empty="No balances yet.",
        test_id="balances",
    )


def key_sections(keys: Any, base: str) -> list[Any]:
    rows = [
        row(
            k.api_key,
            when(k.created_at),
            when(k.expires_at) if k.expires_at else "never",
            actions=[action("Revoke now", f"{base}/keys/{k.id}/revoke", danger=True)],
        )
        for k in keys
    ]
    return [
        table(
            "API keys", ["key", "created", "expires"], rows, empty="No live keys.", test_id="keys"
        ),
        form(
            "Rotate key",
            f"{base}/keys/rotate",
            [
                field("overlap_hours", "Hours the old keys keep working", value="24"),
            ],
            "Rotate key",
        ),
    ]


@router.post("/merchants/{merchant_id}/keys/rotate")
async def merchant_rotate(
    merchant_id: str, request: Request, principal: OperatorDep, session: DbDep
) -> Response:
    form_data = await checked_form(request, principal)
    target = uuid_or_404(merchant_id, "merchant")
    return await rotate_key_page(
        request, principal, session, target, form_data, f"/console/ops/merchants/{target}"
    )


async def rotate_key_page(
    request: Request,
    principal: console.Principal,
    session: Any,
    merchant_id: uuid.UUID,
    form_data: Any,
    back: str,
) -> Response:
    try:
        hours = float(text(form_data, "overlap_hours", 8) or "24")
        if not 0 <= hours <= 24 * 30:
            raise ValueError("overlap must be between 0 and 720 hours")
        issued = await MerchantService(runtime_of(request).settings).rotate_key(
            session, merchant_id, overlap=dt.timedelta(hours=hours)
        )
    except (MerchantError, ValueError) as exc:
        await session.rollback()
        return done(back, f"Rotation refused: {exc}", error=True)
    await console.audit(
        session,
        principal,
        "key.rotate",
        target=issued.api_key,
        detail=f"overlap {hours:g} h",
        merchant_id=merchant_id,
        source_ip=client_ip(request),
    )
    await session.commit()
    sections = [
        secret("New API key", [("apiKey", issued.api_key), ("apiSecret", issued.api_secret)]),
        kv("", [("old keys", f"keep working for {hours:g} h"), ("back", "keys", back)]),
    ]
    return render(request, principal, "Key rotated", sections)


@router.post("/merchants/{merchant_id}/keys/{key_id}/revoke")
async def merchant_revoke(
    merchant_id: str, key_id: str, request: Request, principal: OperatorDep, session: DbDep
) -> Response:
    await checked_form(request, principal)
    target = uuid_or_404(merchant_id, "merchant")
    url = f"/console/ops/merchants/{target}"
    try:
        key = await MerchantService(runtime_of(request).settings).revoke_key(
            session, target, uuid_or_404(key_id, "key")
        )
    except MerchantError as exc:
        await session.rollback()
        return done(url, str(exc), error=True)
    await console.audit(
        session,
        principal,
        "key.revoke",
        target=key.api_key,
        merchant_id=target,
        source_ip=client_ip(request),
    )
    await session.commit()
    return done(url, f"Key {key.api_key} revoked")


@router.post("/merchants/{merchant_id}/ips")
async def merchant_ips(
    merchant_id: str, request: Request, principal: OperatorDep, session: DbDep
) -> Response:
    form_data = await checked_form(request, principal)
    target = uuid_or_404(merchant_id, "merchant")
    url = f"/console/ops/merchants/{target}"
    ips = [
        p.strip()
        for p in text(form_data, "ips", 10_000).replace(",", "\n").splitlines()
        if p.strip()
    ]
    try:
        allowed = await MerchantService(runtime_of(request).settings).allow_ips(
            session, target, ips, replace=True
        )
    except MerchantError as exc:
        await session.rollback()
        return done(url, str(exc), error=True)
    await console.audit(
        session,
        principal,
        "merchant.allow_ips",
        target=str(target),
        detail=", ".join(allowed),
        merchant_id=target,
        source_ip=client_ip(request),
    )
    await session.commit()
    return done(url, "Allowlist saved")


@router.post("/merchants/{merchant_id}/users")
async def merchant_user_create(
    merchant_id: str, request: Request, principal: OperatorDep, session: DbDep
) -> Response:
    form_data = await checked_form(request, principal)
    target = uuid_or_404(merchant_id, "merchant")
    return await create_member_page(
        request, principal, session, target, form_data, f"/console/ops/merchants/{target}"
    )


async def create_member_page(
    request: Request,
    principal: console.Principal,
    session: Any,
    merchant_id: uuid.UUID,
    form_data: Any,
    back: str,
) -> Response:
    role = text(form_data, "role", 32)
    if role not in Role.MERCHANT_ROLES:
        return done(back, f"unknown role {role!r}", error=True)
    password = text(form_data, "password", 1024)
    generated = not password
    password = password or generate_password()
    try:
        account = await console.create_account(
            session,
            email=text(form_data, "email", 254),
            password=password,
            role=role,
            merchant_id=merchant_id,
        )
    except console.AccountError as exc:
        await session.rollback()
        return done(back, str(exc), error=True)
    await console.audit(
        session,
        principal,
        "account.create",
        target=account.email,
        detail=f"role={role}",
        merchant_id=merchant_id,
        source_ip=client_ip(request),
    )
    await session.commit()
    if not generated:
        return done(back, f"User {account.email} created")
    sections = [
        secret("Sign-in for " + account.email, [("email", account.email), ("password", password)]),
        kv("", [("back", "team", back)]),
    ]
    return render(request, principal, "User created", sections)


@router.get("/audit")
async def audit_log(request: Request, principal: OperatorDep, session: DbDep) -> Response:
    entries = await ConsoleRepository(session).audit(limit=200)
    rows = [
        row(
            when(e.created_at),
            e.actor_email,
            e.action,
            e.target or "",
            e.detail or "",
            str(e.merchant_id or ""),
            e.source_ip or "",
        )
        for e in entries
    ]
    return render(
        request,
        principal,
        "Audit log",
        [
            table(
                "Console actions",
                ["at", "who", "action", "target", "detail", "merchant", "from"],
                rows,
                empty="Nothing audited yet.",
                test_id="audit",
            )
        ],
        active="/console/ops/audit",
    )
