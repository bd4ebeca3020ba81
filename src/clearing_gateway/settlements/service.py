"""Settlement sweeps: settled deposit funds into the merchant's withdrawal vault.

A merchant's deposits land in a deposit vault per provider (Topremit VAs, Finan cash-in);
payouts spend the withdrawal vault of the payout provider (Finpay). A sweep moves what has
settled (T+n: credited before the cutoff) from every deposit vault into that withdrawal
vault as ONE ledger transfer, keyed by the sweep: running it again (a retried job, a
re-run command, a concurrent twin) finds the first sweep and moves nothing. Each vault
debited is announced to the merchant as a `debit_notify` (debits/).

When the funds sit with another provider, the same transfer moves provider clearing too
(the money now has to be at the payout provider), so `ledger verify` and the provider
statements keep agreeing with what each provider holds for us.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.debits import service as debits
from clearing_gateway.debits.schemas import DebitType
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.ids import new_id
from clearing_gateway.kit.money import CURRENCY_EXPONENT, DEFAULT_CURRENCY
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import PROVIDERS, AccountKey, Posting
from clearing_gateway.ledger.errors import TransferConflict
from clearing_gateway.merchants.repository import MerchantRepository
from clearing_gateway.settlements.models import SettlementPolicy, SettlementSweep
from clearing_gateway.settlements.repository import SettlementRepository

# Indonesia's banking day: "T+1" means the next WIB calendar day (no DST in Jakarta).
WIB = dt.timezone(dt.timedelta(hours=7), "WIB")
TRANSFER_KIND = "settlement"
MAX_DELAY_DAYS = 30
MAX_SWEEP_KEY = 64


class Mode(StrEnum):
    OFF = "off"
    ON_DEMAND = "on_demand"
    SCHEDULED = "scheduled"


class Trigger(StrEnum):
    SCHEDULED = "scheduled"
    ON_DEMAND = "on_demand"


class SettlementError(ValueError):
    """A sweep or a policy the rules refuse (shown to the operator as is)."""


@dataclass(frozen=True)
class SweepOutcome:
    sweep: SettlementSweep | None  # None: nothing had settled yet
    created: bool  # False: this key had already been swept (a replay)
    cutoff: dt.datetime


def cutoff_for(now: dt.datetime, delay_days: int) -> dt.datetime:
    """Deposits credited before the cutoff have settled. T+0: everything until now;
    T+n: everything credited before the start of the WIB day n-1 days ago."""
    if delay_days == 0:
        return now
    today = now.astimezone(WIB).replace(hour=0, minute=0, second=0, microsecond=0)
    return (today - dt.timedelta(days=delay_days - 1)).astimezone(dt.UTC)


def scheduled_key(now: dt.datetime) -> str:
    return f"scheduled:{now.astimezone(WIB).date().isoformat()}"


def transfer_id_for(merchant_id: uuid.UUID, sweep_key: str) -> str:
    return f"settlement:{merchant_id}:{sweep_key}"


# --- policy ----------------------------------------------------------------------------


async def configure(
    session: AsyncSession,
    merchant_id: uuid.UUID,
    *,
    mode: str,
    delay_days: int = 1,
    target_provider: str = "finpay",
    currency: str = DEFAULT_CURRENCY,
    run_at: str = "00:00",
) -> SettlementPolicy:
    try:
        chosen = Mode(mode)
    except ValueError:
        raise SettlementError(f"mode must be one of {', '.join(m.value for m in Mode)}") from None
    if not 0 <= delay_days <= MAX_DELAY_DAYS:
        raise SettlementError(f"delay must be 0 to {MAX_DELAY_DAYS} days (T+0 … T+30)")
    if target_provider not in PROVIDERS:
        raise SettlementError(f"target provider must be one of {', '.join(PROVIDERS)}")
    if currency not in CURRENCY_EXPONENT:
        raise SettlementError(f"unsupported currency {currency!r}")
    if await MerchantRepository(session).get(merchant_id) is None:
        raise SettlementError(f"no merchant {merchant_id}")
    await SettlementRepository(session).save_policy(
        {
            "merchant_id": merchant_id,
            "mode": chosen.value,
            "delay_days": delay_days,
            "target_provider": target_provider,
            "currency": currency,
            "run_at_minute": _minute_of_day(run_at),
            "updated_at": utcnow(),
        }
    )
    policy = await SettlementRepository(session).policy(merchant_id)
    assert policy is not None
    return policy


def parse_delay(text: str) -> int:
    """ "T+1", "t+1" or "1" as days (the form and the command accept either)."""
    days = text.strip().upper().removeprefix("T+")
    if not days.isdigit():
        raise SettlementError(f"delay must be T+0 … T+{MAX_DELAY_DAYS} or a number of days")
    return int(days)


def run_at_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _minute_of_day(text: str) -> int:
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise SettlementError(f"run time must be HH:MM (WIB), got {text!r}")
    value = int(hours) * 60 + int(minutes)
    if int(hours) > 23 or int(minutes) > 59:
        raise SettlementError(f"run time must be HH:MM (WIB), got {text!r}")
    return value


async def policy_of(session: AsyncSession, merchant_id: uuid.UUID) -> SettlementPolicy | None:
    return await SettlementRepository(session).policy(merchant_id)


async def policies(session: AsyncSession) -> list[SettlementPolicy]:
    return await SettlementRepository(session).policies()


# --- sweeping --------------------------------------------------------------------------


async def settled_postings(
    session: AsyncSession, policy: SettlementPolicy, cutoff: dt.datetime, now: dt.datetime
) -> list[Posting]:
    """What has settled in each deposit vault, as postings into the withdrawal vault."""
    merchant_id, currency = policy.merchant_id, policy.currency
    target = policy.target_provider
    destination = AccountKey.vault(merchant_id, target, "withdrawal", currency)
    postings: list[Posting] = []
    for provider in PROVIDERS:
        source = AccountKey.vault(merchant_id, provider, "deposit", currency)
        available = (await ledger.account_balance(session, source)).available
        if available <= 0:
            continue
        # Money credited since the cutoff has not settled yet: it stays behind.
        unsettled = await ledger.credited_since(session, source, cutoff) if cutoff < now else 0
        amount = available - unsettled
        if amount <= 0:
            continue
        postings.append(Posting(source, destination, amount))
        if provider != target:
            # The funds move from this provider to the payout provider: clearing follows.
            postings.append(
                Posting(
                    AccountKey.clearing(target, currency),
                    AccountKey.clearing(provider, currency),
                    amount,
                )
            )
    return postings


async def sweep(
    session: AsyncSession,
    merchant_id: uuid.UUID,
    *,
    sweep_key: str,
    trigger: Trigger,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> SweepOutcome:
    """Sweep what has settled, once per `sweep_key`. Refused when settlement is off."""
    sweep_key = sweep_key.strip()
    if not 0 < len(sweep_key) <= MAX_SWEEP_KEY:
        raise SettlementError(f"the sweep id must be 1 to {MAX_SWEEP_KEY} characters")
    now = now or utcnow()
    repository = SettlementRepository(session)
    policy = await repository.policy(merchant_id)
    if policy is None or policy.mode == Mode.OFF:
        raise SettlementError(
            f"settlement is off for merchant {merchant_id} (clearing-gateway settlements configure)"
        )
    existing = await repository.sweep_by_key(merchant_id, sweep_key)
    if existing is not None:
        return SweepOutcome(existing, False, existing.cutoff)
    cutoff = cutoff_for(now, policy.delay_days)
    postings = await settled_postings(session, policy, cutoff, now)
    if not postings:
        return SweepOutcome(None, False, cutoff)
    transfer_id = transfer_id_for(merchant_id, sweep_key)
    description = note or f"Settlement T+{policy.delay_days}"
    try:
        transfer = await ledger.post(
            session, transfer_id, postings, kind=TRANSFER_KIND, note=description
        )
    except TransferConflict:
        # A twin swept this key first (with other balances): its sweep is the sweep.
        twin = await repository.sweep_by_key(merchant_id, sweep_key)
        if twin is None:
            raise
        return SweepOutcome(twin, False, twin.cutoff)
    amount = sum(p.amount for p in postings if p.debit.merchant_id is not None)
    inserted = await repository.insert_sweep(
        {
            "id": new_id(),
            "merchant_id": merchant_id,
            "sweep_key": sweep_key,
            "trigger": trigger.value,
            "transfer_id": transfer.id,
            "target_provider": policy.target_provider,
            "currency": policy.currency,
            "amount": amount,
            "delay_days": policy.delay_days,
            "cutoff": cutoff,
            "note": description,
            "created_at": now,
        }
    )
    await debits.record_transfer_debits(session, transfer, DebitType.SETTLEMENT, description)
    found = await repository.sweep_by_key(merchant_id, sweep_key)
    assert found is not None
    return SweepOutcome(found, inserted, cutoff)


async def due_scheduled(session: AsyncSession, now: dt.datetime) -> list[uuid.UUID]:
    """Merchants whose daily sweep time has come today (WIB) and who have none yet."""
    local = now.astimezone(WIB)
    minute = local.hour * 60 + local.minute
    repository = SettlementRepository(session)
    key = scheduled_key(now)
    due = []
    for policy in await repository.policies(Mode.SCHEDULED.value):
        if (
            minute >= policy.run_at_minute
            and await repository.sweep_by_key(policy.merchant_id, key) is None
        ):
            due.append(policy.merchant_id)
    return due


async def list_sweeps(
    session: AsyncSession,
    merchant_id: uuid.UUID | None = None,
    *,
    since: dt.datetime | None = None,
    limit: int = 100,
) -> list[SettlementSweep]:
    return await SettlementRepository(session).sweeps(merchant_id, since=since, limit=limit)
