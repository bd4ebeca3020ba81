"""A merchant's settlement in the console: its policy and recent sweeps on the operator's
merchant page (with the form to change it and "sweep now"), read-only for the merchant's
admins. The rules are the settlement service's (docs/settlement.md); this only shows
them and passes the operator's form through."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from clearing_gateway.console import service as console
from clearing_gateway.console.ui import Section, field, form, kv, money, row, table, when
from clearing_gateway.console.web import (
    DbDep,
    MemberDep,
    OperatorDep,
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
from clearing_gateway.kit.ids import new_id
from clearing_gateway.kit.money import CURRENCY_EXPONENT, DEFAULT_CURRENCY
from clearing_gateway.ledger.accounts import PROVIDERS
from clearing_gateway.ledger.errors import LedgerError
from clearing_gateway.merchants.repository import MerchantRepository
from clearing_gateway.settlements import service as settlements
from clearing_gateway.settlements.models import SettlementPolicy, SettlementSweep

ops_router = APIRouter(prefix="/console/ops", include_in_schema=False)
merchant_router = APIRouter(prefix="/console/m", include_in_schema=False)
RECENT_SWEEPS = 20


# --- sections --------------------------------------------------------------------------


def environment_note(env: str) -> str:
    """The gateway runs in one environment; a merchant has none of its own."""
    return f"{env.upper()}: the whole gateway runs in {env} (no per-merchant environment)"


def policy_section(policy: SettlementPolicy | None) -> Section:
    if policy is None:
        return kv("Settlement", [("mode", "off (no policy set)")])
    return kv(
        "Settlement",
        [
            ("mode", policy.mode),
            ("delay", f"T+{policy.delay_days}"),
            ("target", f"{policy.target_provider}:withdrawal"),
            ("daily time", f"{settlements.run_at_text(policy.run_at_minute)} WIB (scheduled)"),
            ("currency", policy.currency),
            ("changed", when(policy.updated_at)),
        ],
    )


def sweep_table(sweeps: list[SettlementSweep]) -> Section:
    return table(
        "Recent sweeps",
        ["at (UTC)", "amount", "trigger", "delay", "cutoff (UTC)", "target", "key", "note"],
        [
            row(
                when(s.created_at),
                money(s.amount, s.currency),
                s.trigger,
                f"T+{s.delay_days}",
                when(s.cutoff),
                s.target_provider,
                s.sweep_key,
                s.note or "",
            )
            for s in sweeps
        ],
        empty="No sweeps yet.",
        test_id="sweeps",
    )


def policy_form(policy: SettlementPolicy | None, base: str) -> Section:
    return form(
        "Change settlement",
        f"{base}/settlement",
        [
            field(
                "mode",
                "Mode",
                kind="select",
                value=policy.mode if policy else settlements.Mode.OFF.value,
                options=[m.value for m in settlements.Mode],
            ),
            field("delay", "Delay (T+0 … T+30)", value=f"T+{policy.delay_days if policy else 1}"),
            field(
                "target",
                "Target (withdrawal vault of)",
                kind="select",
                value=policy.target_provider if policy else "finpay",
                options=list(PROVIDERS),
            ),
            field(
                "run_at",
                "Daily time, HH:MM WIB (scheduled mode)",
                value=settlements.run_at_text(policy.run_at_minute) if policy else "00:00",
            ),
            field(
                "currency",
                "Currency",
                kind="select",
                value=policy.currency if policy else DEFAULT_CURRENCY,
                options=list(CURRENCY_EXPONENT),
            ),
        ],
        "Save settlement",
    )


def sweep_form(base: str) -> Section:
    # The sweep id is drawn when the page is drawn: a second click (or a re-post) of this
    # form is the same sweep, which the service finds and leaves alone.
    return form(
        "Sweep now",
        f"{base}/settlement/sweep",
        [
            field("sweep_id", "", kind="hidden", value=new_id().hex),
            field("note", "Note (kept on the sweep)"),
        ],
        "Sweep settled funds now",
    )


async def operator_sections(
    session: AsyncSession, merchant_id: uuid.UUID, base: str
) -> list[Section]:
    policy = await settlements.policy_of(session, merchant_id)
    sections = [policy_section(policy), policy_form(policy, base)]
    if policy is not None and policy.mode != settlements.Mode.OFF:
        sections.append(sweep_form(base))
    sections.append(
        sweep_table(await settlements.list_sweeps(session, merchant_id, limit=RECENT_SWEEPS))
    )
    return sections


# --- operator actions ------------------------------------------------------------------


@ops_router.post("/merchants/{merchant_id}/settlement")
async def settlement_configure(
    merchant_id: str, request: Request, principal: OperatorDep, session: DbDep
) -> Response:
    form_data = await checked_form(request, principal)
    target = uuid_or_404(merchant_id, "merchant")
    url = f"/console/ops/merchants/{target}"
    try:
        policy = await settlements.configure(
            session,
            target,
            mode=text(form_data, "mode", 32),
            delay_days=settlements.parse_delay(text(form_data, "delay", 8)),
            target_provider=text(form_data, "target", 32),
            currency=text(form_data, "currency", 8),
            run_at=text(form_data, "run_at", 8) or "00:00",
        )
    except settlements.SettlementError as exc:
        await session.rollback()
        return done(url, f"Settlement not changed: {exc}", error=True)
    summary = (
        f"mode={policy.mode} delay=T+{policy.delay_days} target={policy.target_provider} "
        f"at={settlements.run_at_text(policy.run_at_minute)} currency={policy.currency}"
    )
    await console.audit(
        session,
        principal,
        "settlement.configure",
        target=str(target),
        detail=summary,
        merchant_id=target,
        source_ip=client_ip(request),
    )
    await session.commit()
    return done(url, f"Settlement saved: {summary}")


@ops_router.post("/merchants/{merchant_id}/settlement/sweep")
async def settlement_sweep(
    merchant_id: str, request: Request, principal: OperatorDep, session: DbDep
) -> Response:
    form_data = await checked_form(request, principal)
    target = uuid_or_404(merchant_id, "merchant")
    url = f"/console/ops/merchants/{target}"
    sweep_id = text(form_data, "sweep_id", 64)
    if not sweep_id:
        return done(url, "Sweep refused: the form has no sweep id, reload the page", error=True)
    # The CLI's key space: a sweep started here and one from `settlements sweep --id` with
    # the same id are one sweep.
    key = f"manual:{sweep_id}"
    try:
        outcome = await settlements.sweep(
            session,
            target,
            sweep_key=key,
            trigger=settlements.Trigger.ON_DEMAND,
            note=text(form_data, "note", 500) or None,
        )
    except (settlements.SettlementError, LedgerError) as exc:
        await session.rollback()
        return done(url, f"Sweep refused: {exc}", error=True)
    if outcome.sweep is None:
        message = f"Nothing has settled before {when(outcome.cutoff)} UTC: nothing swept"
    elif outcome.created:
        message = f"Swept {money(outcome.sweep.amount, outcome.sweep.currency)}"
    else:
        message = "Already swept with this form: nothing more moved"
    await console.audit(
        session,
        principal,
        "settlement.sweep",
        target=key,
        detail=message,
        merchant_id=target,
        source_ip=client_ip(request),
    )
    await session.commit()
    return done(url, message)


# --- the merchant's own view -----------------------------------------------------------


@merchant_router.get("/settlement")
async def own_settlement(request: Request, principal: MemberDep, session: DbDep) -> Response:
    """Read-only: only an operator changes a policy or sweeps from the console."""
    if not principal.is_merchant_admin:
        raise forbidden("Only the merchant's admins may see its settlement.")
    assert principal.merchant_id is not None  # MemberDep guarantees it
    merchant = await MerchantRepository(session).get(principal.merchant_id)
    if merchant is None:
        raise missing("merchant")
    sections = [
        policy_section(await settlements.policy_of(session, merchant.id)),
        sweep_table(await settlements.list_sweeps(session, merchant.id, limit=RECENT_SWEEPS)),
    ]
    return render(
        request,
        principal,
        "Settlement",
        sections,
        active="/console/m/settlement",
        subtitle=environment_note(runtime_of(request).settings.gateway_env.value),
    )
