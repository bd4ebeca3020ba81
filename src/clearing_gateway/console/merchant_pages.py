"""Pages for a merchant's users: only that merchant's data, ever.

Every query here is scoped by the logged-in user's merchant id; a row of another merchant
answers 404, exactly like a row that does not exist, so ids cannot be probed."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from clearing_gateway.console import service as console
from clearing_gateway.console.models import Role
from clearing_gateway.console.ops_pages import (
    balance_table,
    create_member_page,
    delivery_table,
    deposit_facts,
    deposit_rows,
    filter_form,
    list_filters,
    pager,
    rotate_key_page,
    start_of_day,
    withdrawal_facts,
    withdrawal_rows,
)
from clearing_gateway.console.reads import ConsoleReads, merchant_users
from clearing_gateway.console.repository import ConsoleRepository
from clearing_gateway.console.service import Principal
from clearing_gateway.console.timeline import withdrawal_timeline
from clearing_gateway.console.ui import (
    action,
    card,
    cards,
    cell,
    field,
    form,
    kv,
    percent,
    row,
    table,
    timeline,
    when,
)
from clearing_gateway.console.web import (
    DbDep,
    MemberDep,
    checked_form,
    client_ip,
    done,
    forbidden,
    missing,
    render,
    runtime_of,
    text,
    uuid_or_404,
)
from clearing_gateway.deposits.models import Deposit
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.errors import GatewayError
from clearing_gateway.ledger import service as ledger
from clearing_gateway.merchants.repository import MerchantRepository
from clearing_gateway.merchants.service import MerchantError, MerchantService
from clearing_gateway.webhooks import service as webhooks
from clearing_gateway.withdrawals.models import WithdrawalStatus
from clearing_gateway.withdrawals.repository import WithdrawalRepository

router = APIRouter(prefix="/console/m", include_in_schema=False)
PAGE = 50


def merchant_of(principal: Principal) -> uuid.UUID:
    assert principal.merchant_id is not None  # MemberDep guarantees it
    return principal.merchant_id


def admin_only(principal: Principal) -> None:
    if not principal.is_merchant_admin:
        raise forbidden("Only the merchant's admins may do this.")


@router.get("")
async def overview(request: Request, principal: MemberDep, session: DbDep) -> Response:
    merchant_id = merchant_of(principal)
    merchant = await MerchantRepository(session).get(merchant_id)
    if merchant is None:
        raise missing("merchant")
    today = start_of_day(utcnow())
    reads = ConsoleReads(session)
    counts = await reads.own_counts(merchant_id, today)
    sections = [
        cards(
            [
                card(
                    f"{kind.title()}s today",
                    counts[kind][0],
                    f"/console/m/{kind}s",
                    percent(counts[kind][1], counts[kind][0]) + " succeeded",
                )
                for kind in ("deposit", "withdrawal")
            ]
        ),
        balance_table(await ledger.balances(session, merchant_id)),
        kv(
            "Account",
            [
                ("merchant", merchant.name),
                ("merchant id", merchant.id),
                ("environment", runtime_of(request).settings.gateway_env.value),
                ("allowed IPs", ", ".join(merchant.allowed_ips) or "any (sandbox)"),
                ("your role", principal.role),
                *(
                    [("settlement", "policy and sweeps", "/console/m/settlement")]
                    if principal.is_merchant_admin
                    else []
                ),
            ],
        ),
    ]
    return render(request, principal, merchant.name, sections, active="/console/m")


@router.get("/deposits")
async def deposit_list(request: Request, principal: MemberDep, session: DbDep) -> Response:
    url = "/console/m/deposits"
    try:
        filters = list_filters(request, merchant_id=merchant_of(principal))
    except (ValueError, GatewayError) as exc:
        return done(url, f"Filter refused: {getattr(exc, 'reason', exc)}", error=True)
    found = list(
        await ConsoleReads(session).deposits(filters, va=request.query_params.get("va") or None)
    )
    more, found = len(found) > filters.limit, found[: filters.limit]
    newer, older = pager(request, url, filters, more)
    sections = [
        filter_form(request, url, ["COMPLETED", "FAILED"], operator=False),
        table(
            "Deposits",
            [
                "transaction id",
                "created (UTC)",
                "user",
                "provider",
                "VA",
                "amount",
                "fee",
                "status",
            ],
            deposit_rows(found, {}, url),
            next_url=older,
            prev_url=newer,
            empty="No deposits match.",
            test_id="deposits",
        ),
    ]
    return render(request, principal, "Deposits", sections, active=url)


@router.get("/deposits/{deposit_id}")
async def deposit_page(
    deposit_id: str, request: Request, principal: MemberDep, session: DbDep
) -> Response:
    deposit = await session.get(Deposit, uuid_or_404(deposit_id, "deposit"))
    if deposit is None or deposit.merchant_id != merchant_of(principal):
        raise missing("deposit")
    deliveries = await ConsoleReads(session).deliveries_for(deposit.merchant_id, str(deposit.id))
    sections = [
        deposit_facts(deposit, "", operator=False),
        delivery_table(
            deliveries, redeliver_url="/console/m/webhooks/retry", merchant_id=deposit.merchant_id
        ),
    ]
    return render(request, principal, f"Deposit {deposit.id}", sections)


@router.get("/withdrawals")
async def withdrawal_list(request: Request, principal: MemberDep, session: DbDep) -> Response:
    url = "/console/m/withdrawals"
    try:
        filters = list_filters(request, merchant_id=merchant_of(principal))
    except (ValueError, GatewayError) as exc:
        return done(url, f"Filter refused: {getattr(exc, 'reason', exc)}", error=True)
    found = list(await ConsoleReads(session).withdrawals(filters))
    more, found = len(found) > filters.limit, found[: filters.limit]
    newer, older = pager(request, url, filters, more)
    sections = [
        filter_form(request, url, [s.value for s in WithdrawalStatus], operator=False),
        table(
            "Withdrawals",
            [
                "transaction id",
                "created (UTC)",
                "reference",
                "user",
                "provider",
                "beneficiary",
                "amount",
                "status",
            ],
            withdrawal_rows(found, {}, url),
            next_url=older,
            prev_url=newer,
            empty="No withdrawals match.",
            test_id="withdrawals",
        ),
    ]
    return render(request, principal, "Withdrawals", sections, active=url)


@router.get("/withdrawals/{withdrawal_id}")
async def withdrawal_page(
    withdrawal_id: str, request: Request, principal: MemberDep, session: DbDep
) -> Response:
    withdrawal = await WithdrawalRepository(session).get(
        merchant_of(principal), uuid_or_404(withdrawal_id, "withdrawal")
    )
    if withdrawal is None:
        raise missing("withdrawal")
    sections = [
        withdrawal_facts(withdrawal, "", operator=False),
        timeline("Timeline", await withdrawal_timeline(session, withdrawal, operator=False)),
    ]
    return render(request, principal, f"Withdrawal {withdrawal.id}", sections)


@router.get("/users")
async def user_list(request: Request, principal: MemberDep, session: DbDep) -> Response:
    offset = _offset(request)
    found = list(await merchant_users(session, merchant_of(principal), PAGE, offset))
    more, found = len(found) > PAGE, found[:PAGE]
    rows = [
        row(
            u.user_id,
            u.kyc_name,
            u.type,
            u.email or "",
            u.phone or "",
            when(u.created_at),
            "deleted" if u.deleted_at else "active",
            cell("deposits", href=f"/console/m/deposits?userId={u.user_id}"),
        )
        for u in found
    ]
    return render(
        request,
        principal,
        "Users",
        [
            table(
                "Users",
                ["user id", "KYC name", "type", "email", "phone", "created", "state", ""],
                rows,
                next_url=f"/console/m/users?offset={offset + PAGE}" if more else None,
                empty="No users yet.",
                test_id="users",
            )
        ],
        active="/console/m/users",
    )


def _offset(request: Request) -> int:
    try:
        return max(0, min(int(request.query_params.get("offset", "0")), 1_000_000))
    except ValueError:
        return 0


@router.get("/virtual-accounts")
async def va_list(request: Request, principal: MemberDep, session: DbDep) -> Response:
    offset = _offset(request)
    found = list(await ConsoleReads(session).virtual_accounts(merchant_of(principal), PAGE, offset))
    more, found = len(found) > PAGE, found[:PAGE]
    now = utcnow()
    rows = [
        row(
            cell(va.virtual_account_no, href=f"/console/m/deposits?va={va.virtual_account_no}"),
            va.kind,
            va.bank_code,
            va.provider,
            va.user_ref,
            va.virtual_account_name,
            va.status_at(now),
            when(va.expired_date),
            when(va.created_at),
        )
        for va in found
    ]
    return render(
        request,
        principal,
        "Virtual accounts",
        [
            table(
                "Virtual accounts",
                [
                    "number",
                    "kind",
                    "bank",
                    "provider",
                    "user",
                    "name",
                    "status",
                    "expires",
                    "created",
                ],
                rows,
                next_url=f"/console/m/virtual-accounts?offset={offset + PAGE}" if more else None,
                empty="No virtual accounts yet.",
                test_id="vas",
            )
        ],
        active="/console/m/virtual-accounts",
    )


@router.get("/webhooks")
async def webhook_page(request: Request, principal: MemberDep, session: DbDep) -> Response:
    merchant_id = merchant_of(principal)
    hooks = await webhooks.list_webhooks(session, merchant_id)
    status = request.query_params.get("status") or None
    deliveries = await webhooks.list_deliveries(
        session, merchant_id, status=None if status in (None, "all") else status, limit=50
    )
    hook_rows = [
        row(
            str(h.id),
            h.event_type,
            h.url,
            "active" if h.is_active else f"inactive {h.disabled_reason or ''}",
            when(h.created_at),
            actions=[action("Send test event", f"/console/m/webhooks/{h.id}/test")]
            if h.is_active
            else [],
        )
        for h in hooks
    ]
    sections = [
        table(
            "Webhooks",
            ["id", "event", "url", "state", "created"],
            hook_rows,
            empty="No webhooks configured: create them with POST /v1/webhooks.",
            test_id="webhooks",
        ),
        form(
            "Filter deliveries",
            "/console/m/webhooks",
            [
                field(
                    "status",
                    "Result",
                    kind="select",
                    value=status or "all",
                    options=["all", "failed", "succeeded"],
                )
            ],
            "Apply",
            method="get",
        ),
        delivery_table(
            deliveries, redeliver_url="/console/m/webhooks/retry", merchant_id=merchant_id
        ),
    ]
    return render(request, principal, "Webhooks", sections, active="/console/m/webhooks")


@router.post("/webhooks/retry")
async def webhook_retry(request: Request, principal: MemberDep, session: DbDep) -> Response:
    form_data = await checked_form(request, principal)
    merchant_id = merchant_of(principal)  # never the form's: a merchant retries its own
    transaction = text(form_data, "transaction", 64)
    url = "/console/m/webhooks"
    try:
        result = await webhooks.redeliver_transaction(session, merchant_id, transaction)
    except GatewayError as exc:
        await session.rollback()
        return done(url, f"Retry refused: {exc.reason}", error=True)
    await console.audit(
        session,
        principal,
        "webhook.redeliver",
        target=transaction,
        detail=f"{len(result['scheduled'])} webhook(s)",
        source_ip=client_ip(request),
    )
    await session.commit()
    return done(url, f"Retry scheduled to {len(result['scheduled'])} webhook(s) for {transaction}")


@router.post("/webhooks/{webhook_id}/test")
async def webhook_test(
    webhook_id: str, request: Request, principal: MemberDep, session: DbDep
) -> Response:
    await checked_form(request, principal)
    url = "/console/m/webhooks"
    try:
        event = await webhooks.send_test_event(session, merchant_of(principal), webhook_id)
    except GatewayError:
        await session.rollback()
        raise missing("webhook") from None
    await console.audit(
        session,
        principal,
        "webhook.test",
        target=webhook_id[:64],
        detail=event.transaction_id,
        source_ip=client_ip(request),
    )
    await session.commit()
    return done(url, f"Test event {event.transaction_id} scheduled")


@router.get("/keys")
async def key_page(request: Request, principal: MemberDep, session: DbDep) -> Response:
    merchant_id = merchant_of(principal)
    keys = await MerchantRepository(session).live_keys(merchant_id, utcnow())
    admin = principal.is_merchant_admin
    rows = [
        row(
            k.api_key,
            when(k.created_at),
            when(k.expires_at) if k.expires_at else "never",
            actions=[action("Revoke now", f"/console/m/keys/{k.id}/revoke", danger=True)]
            if admin
            else [],
        )
        for k in keys
    ]
    sections: list[Any] = [
        table(
            "API keys", ["key", "created", "expires"], rows, empty="No live keys.", test_id="keys"
        )
    ]
    if admin:
        sections.append(
            form(
                "Rotate key",
                "/console/m/keys/rotate",
                [field("overlap_hours", "Hours the old keys keep working", value="24")],
                "Rotate key",
            )
        )
    return render(request, principal, "API keys", sections, active="/console/m/keys")


@router.post("/keys/rotate")
async def key_rotate(request: Request, principal: MemberDep, session: DbDep) -> Response:
    admin_only(principal)
    form_data = await checked_form(request, principal)
    return await rotate_key_page(
        request, principal, session, merchant_of(principal), form_data, "/console/m/keys"
    )


@router.post("/keys/{key_id}/revoke")
async def key_revoke(
    key_id: str, request: Request, principal: MemberDep, session: DbDep
) -> Response:
    admin_only(principal)
    await checked_form(request, principal)
    url = "/console/m/keys"
    try:
        key = await MerchantService(runtime_of(request).settings).revoke_key(
            session, merchant_of(principal), uuid_or_404(key_id, "key")
        )
    except MerchantError:
        await session.rollback()
        raise missing("key") from None
    await console.audit(
        session, principal, "key.revoke", target=key.api_key, source_ip=client_ip(request)
    )
    await session.commit()
    return done(url, f"Key {key.api_key} revoked")


@router.get("/team")
async def team_page(request: Request, principal: MemberDep, session: DbDep) -> Response:
    merchant_id = merchant_of(principal)
    accounts = await ConsoleRepository(session).merchant_accounts(merchant_id)
    sections: list[Any] = [
        table(
            "Console users",
            ["email", "role", "created", "last login"],
            [row(a.email, a.role, when(a.created_at), when(a.last_login_at)) for a in accounts],
            test_id="team",
        )
    ]
    if principal.is_merchant_admin:
        sections.append(
            form(
                "New console user",
                "/console/m/team",
                [
                    field("email", "Email", kind="email", required=True),
                    field(
                        "role",
                        "Role",
                        kind="select",
                        value=Role.MERCHANT_VIEWER,
                        options=list(Role.MERCHANT_ROLES),
                    ),
                    field(
                        "password", "Password (empty: generated and shown once)", kind="password"
                    ),
                ],
                "Create user",
            )
        )
    return render(request, principal, "Team", sections, active="/console/m/team")


@router.post("/team")
async def team_create(request: Request, principal: MemberDep, session: DbDep) -> Response:
    admin_only(principal)
    form_data = await checked_form(request, principal)
    return await create_member_page(
        request, principal, session, merchant_of(principal), form_data, "/console/m/team"
    )
