"""Settlement sweeps: settled deposit funds reach the withdrawal vault as one idempotent
ledger transfer, visible in GET /v1/balances and announced as debit_notify."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from openapi_schema_validator import OAS31Validator

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.jobs.registry import registry
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import AccountKey
from clearing_gateway.settlements import service as settlement
from clearing_gateway.settlements.tasks import SCHEDULED_JOB, run_scheduled
from clearing_gateway.tasks import load_task_modules
from tests.conftest import MerchantFixture
from tests.ledger.conftest import Books
from tests.settlements.conftest import debit_events

Trigger = settlement.Trigger


async def configure(books: Books, merchant_id: uuid.UUID, **policy: object) -> None:
    await books.run(lambda s: settlement.configure(s, merchant_id, **policy))


async def sweep(
    books: Books, merchant_id: uuid.UUID, key: str, now: dt.datetime | None = None
) -> settlement.SweepOutcome:
    return await books.run(
        lambda s: settlement.sweep(
            s, merchant_id, sweep_key=key, trigger=Trigger.ON_DEMAND, now=now
        )
    )


def vault(merchant_id: uuid.UUID, provider: str, kind: str) -> AccountKey:
    return AccountKey.vault(merchant_id, provider, kind)


async def test_a_t0_sweep_moves_every_deposit_vault_in_one_transfer(
    merchant: MerchantFixture, books: Books, runtime: Runtime
) -> None:
    m = merchant.id
    await books.top_up(m, 15_000_000, vault="deposit", provider="topremit")
    await books.top_up(m, 2_500_000, vault="deposit", provider="finan")
    await configure(books, m, mode="on_demand", delay_days=0)

    outcome = await sweep(books, m, "first")

    assert outcome.created
    assert outcome.sweep is not None
    assert outcome.sweep.amount == 17_500_000
    transfer = await books.run(lambda s: ledger.get_transfer(s, outcome.sweep.transfer_id))
    assert transfer is not None
    assert (transfer.kind, transfer.status) == ("settlement", "posted")
    assert (await books.balance(vault(m, "topremit", "deposit"))).available == 0
    assert (await books.balance(vault(m, "finan", "deposit"))).available == 0
    assert (await books.balance(vault(m, "finpay", "withdrawal"))).available == 17_500_000
    # The funds now have to be at Finpay: provider clearing moves with them.
    assert (await books.balance(AccountKey.clearing("finpay"))).posted == -17_500_000
    assert (await books.balance(AccountKey.clearing("topremit"))).posted == 0
    assert await books.verify() == []

    response = await merchant.client.get("/v1/balances")
    assert response.status_code == 200, response.text
    by_vault = {
        (p["provider"], b["vaultType"]): b["available"]
        for p in response.json()["data"]
        for b in p["balances"]
    }
    assert by_vault == {
        ("finan", "deposit"): "0.00",
        ("finpay", "withdrawal"): "175000.00",
        ("topremit", "deposit"): "0.00",
    }

    events = await debit_events(runtime, m)
    assert [(e["provider"], e["amount"]["value"], e["debitType"]) for e in events] == [
        ("finan", "25000.00", "SETTLEMENT"),
        ("topremit", "150000.00", "SETTLEMENT"),
    ]
    topremit = events[1]
    assert topremit["vaultType"] == "deposit"
    assert topremit["destinationAccountNo"] == "finpay:withdrawal"
    assert topremit["originalReferenceNo"] == outcome.sweep.transfer_id
    assert topremit["additionalInfo"]["balanceAfter"] == "0.00"

    # The body is the one the OpenAPI document publishes, and so is the read API's answer.
    document = (await merchant.client.http.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    for event in events:
        OAS31Validator(schemas["DebitNotifyEvent"]).validate(event)
    confirmed = await merchant.client.get(f"/v1/debits/{topremit['additionalInfo']['caciTxId']}")
    assert confirmed.status_code == 200, confirmed.text
    data = confirmed.json()["data"]
    assert data["caciTxId"] == topremit["additionalInfo"]["caciTxId"]
    assert (data["debitType"], data["status"], data["amount"]) == (
        "SETTLEMENT",
        "SUCCESS",
        "150000.00",
    )
    envelope = {**schemas["DebitEnvelope"], "components": document["components"]}
    OAS31Validator(envelope).validate(confirmed.json())


async def test_the_same_sweep_again_moves_nothing_and_announces_nothing(
    merchant: MerchantFixture, books: Books, runtime: Runtime
) -> None:
    m = merchant.id
    await books.top_up(m, 1_000_000, vault="deposit", provider="topremit")
    await configure(books, m, mode="on_demand", delay_days=0)
    first = await sweep(books, m, "daily")
    await books.top_up(m, 700_000, vault="deposit", provider="topremit")
    again = await sweep(books, m, "daily")
    assert first.sweep is not None
    assert again.sweep is not None
    assert not again.created
    assert again.sweep.id == first.sweep.id
    assert (await books.balance(vault(m, "topremit", "deposit"))).available == 700_000
    assert (await books.balance(vault(m, "finpay", "withdrawal"))).available == 1_000_000
    assert len(await debit_events(runtime, m)) == 1
    # A new key sweeps what arrived since.
    later = await sweep(books, m, "next")
    assert later.sweep is not None
    assert later.sweep.amount == 700_000
    assert len(await debit_events(runtime, m)) == 2
    assert await books.verify() == []


async def test_concurrent_twins_of_one_sweep_move_the_money_once(
    merchant: MerchantFixture, books: Books, runtime: Runtime
) -> None:
    m = merchant.id
    await books.top_up(m, 3_000_000, vault="deposit", provider="topremit")
    await configure(books, m, mode="on_demand", delay_days=0)
    outcomes = await asyncio.gather(*(sweep(books, m, "twin") for _ in range(3)))
    ids = {o.sweep.id for o in outcomes if o.sweep is not None}
    assert len(ids) == 1
    assert (await books.balance(vault(m, "finpay", "withdrawal"))).available == 3_000_000
    assert (await books.balance(vault(m, "topremit", "deposit"))).available == 0
    assert len(await debit_events(runtime, m)) == 1
    assert await books.verify() == []


async def test_t1_leaves_what_was_credited_today_for_tomorrow(
    merchant: MerchantFixture, books: Books
) -> None:
    m = merchant.id
    await books.top_up(m, 4_000_000, vault="deposit", provider="topremit")
    await configure(books, m, mode="on_demand", delay_days=1)
    now = utcnow()

    today = await sweep(books, m, "today", now=now)
    assert today.sweep is None  # credited today (WIB): not settled under T+1
    assert today.cutoff <= now
    assert (await books.balance(vault(m, "topremit", "deposit"))).available == 4_000_000

    tomorrow = await sweep(books, m, "tomorrow", now=now + dt.timedelta(days=1))
    assert tomorrow.sweep is not None
    assert tomorrow.sweep.amount == 4_000_000
    assert tomorrow.sweep.delay_days == 1
    assert (await books.balance(vault(m, "finpay", "withdrawal"))).available == 4_000_000


def test_cutoffs_follow_the_wib_calendar_day() -> None:
    # 2026-12-01 18:30 UTC is 2026-12-02 01:30 WIB.
    now = dt.datetime(2026, 12, 1, 18, 30, tzinfo=dt.UTC)
    assert settlement.cutoff_for(now, 0) == now
    assert settlement.cutoff_for(now, 1) == dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC)
    assert settlement.cutoff_for(now, 2) == dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC)
    assert settlement.scheduled_key(now) == "scheduled:2026-12-02"


async def test_settlement_off_refuses_to_sweep(merchant: MerchantFixture, books: Books) -> None:
    m = merchant.id
    await books.top_up(m, 1_000_000, vault="deposit", provider="topremit")
    with pytest.raises(settlement.SettlementError, match="off"):
        await sweep(books, m, "x")
    await configure(books, m, mode="off")
    with pytest.raises(settlement.SettlementError, match="off"):
        await sweep(books, m, "x")
    assert (await books.balance(vault(m, "topremit", "deposit"))).available == 1_000_000


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        ({"mode": "weekly"}, "mode"),
        ({"mode": "scheduled", "delay_days": 31}, "delay"),
        ({"mode": "scheduled", "target_provider": "bca"}, "target provider"),
        ({"mode": "scheduled", "run_at": "25:00"}, "HH:MM"),
        ({"mode": "scheduled", "run_at": "noon"}, "HH:MM"),
    ],
)
async def test_bad_policies_are_refused(
    merchant: MerchantFixture, books: Books, policy: dict[str, object], problem: str
) -> None:
    with pytest.raises(settlement.SettlementError, match=problem):
        await configure(books, merchant.id, **policy)


async def test_the_scheduled_sweep_runs_once_per_wib_day_from_its_time(
    merchant: MerchantFixture,
    other_merchant: MerchantFixture,
    books: Books,
    runtime: Runtime,
) -> None:
    m, late = merchant.id, other_merchant.id
    await books.top_up(m, 2_000_000, vault="deposit", provider="topremit")
    await books.top_up(late, 3_000_000, vault="deposit", provider="topremit")
    await configure(books, m, mode="scheduled", delay_days=0, run_at="00:00")
    await configure(books, late, mode="scheduled", delay_days=0, run_at="23:59")
    # 2100-01-01 05:00 UTC = 12:00 WIB: the first merchant is due, the second is not yet.
    noon = dt.datetime(2100, 1, 1, 5, 0, tzinfo=dt.UTC)

    assert await run_scheduled(runtime, noon) == 1
    assert await run_scheduled(runtime, noon + dt.timedelta(minutes=5)) == 0
    assert (await books.balance(vault(m, "finpay", "withdrawal"))).available == 2_000_000
    assert (await books.balance(vault(late, "topremit", "deposit"))).available == 3_000_000
    async with unit_of_work(runtime.sessionmaker) as session:
        (made,) = await settlement.list_sweeps(session, m)
    assert (made.sweep_key, made.trigger) == ("scheduled:2100-01-01", "scheduled")

    last_minute = noon + dt.timedelta(hours=11, minutes=59)  # 23:59 WIB, same day
    assert await run_scheduled(runtime, last_minute) == 1
    assert (await books.balance(vault(late, "finpay", "withdrawal"))).available == 3_000_000


async def test_debits_are_private_to_their_merchant(
    merchant: MerchantFixture, other_merchant: MerchantFixture, books: Books, runtime: Runtime
) -> None:
    m = merchant.id
    await books.top_up(m, 1_000_000, vault="deposit", provider="topremit")
    await configure(books, m, mode="on_demand", delay_days=0)
    await sweep(books, m, "one")
    (event,) = await debit_events(runtime, m)
    caci_tx_id = event["additionalInfo"]["caciTxId"]
    other = await other_merchant.client.get(f"/v1/debits/{caci_tx_id}")
    assert other.status_code == 404
    assert other.json()["message"] == "NOT_FOUND"
    malformed = await merchant.client.get("/v1/debits/not-a-debit")
    assert malformed.status_code == 422
    assert malformed.json()["reason"].startswith("caciTxId")
    unsigned = await merchant.client.http.get(f"/v1/debits/{caci_tx_id}")
    assert unsigned.status_code == 401


def test_the_scheduled_sweep_is_a_periodic_job_of_every_worker() -> None:
    load_task_modules()
    spec = registry.get(SCHEDULED_JOB)
    assert spec is not None
    assert spec in registry.periodic()
    assert spec.every == dt.timedelta(minutes=5)


async def test_a_merchant_sweeps_its_settled_deposits_through_the_api(
    merchant: MerchantFixture, books: Books, runtime: Runtime
) -> None:
    m = merchant.id
    await books.top_up(m, 15_000_000, vault="deposit", provider="topremit")
    request = {"requestId": str(uuid.uuid4())}

    off = await merchant.client.post("/v1/settlements/sweeps", request)
    assert off.status_code == 409, off.text
    assert off.json()["message"] == "CONFLICT"
    assert "settlement is off" in off.json()["reason"]

    await configure(books, m, mode="on_demand", delay_days=0)
    request = {"requestId": str(uuid.uuid4())}
    swept = await merchant.client.post("/v1/settlements/sweeps", request)
    assert swept.status_code == 201, swept.text
    data = swept.json()["data"]
    assert (data["swept"], data["amount"], data["targetProvider"], data["delay"]) == (
        True,
        "150000.00",
        "finpay",
        "T+0",
    )
    replay = await merchant.client.post("/v1/settlements/sweeps", request)
    assert replay.content == swept.content  # the same requestId sweeps once
    nothing = await merchant.client.post("/v1/settlements/sweeps", {"requestId": "again-1"})
    assert nothing.status_code == 201
    assert (nothing.json()["data"]["swept"], nothing.json()["data"]["amount"]) == (False, "0.00")

    assert (await books.balance(vault(m, "finpay", "withdrawal"))).available == 15_000_000
    (event,) = await debit_events(runtime, m)
    assert event["description"] == "Settlement on request"
    assert event["originalReferenceNo"] == data["transferId"]
    missing = await merchant.client.post("/v1/settlements/sweeps", {})
    assert missing.status_code == 422
    assert await books.verify() == []
