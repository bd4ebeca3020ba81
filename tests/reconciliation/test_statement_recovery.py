"""A payment only the statement knows of: a lost callback on an open-amount Topremit VA
(whose inquiry states no paid amount) is found as a `missing_in_ledger` break, applied by
an operator through the callback path, credited once and announced once; the callback
arriving afterwards is a duplicate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.cli import app
from clearing_gateway.handlers import load_callback_handlers
from clearing_gateway.providers.callbacks import CallbackHandlers
from clearing_gateway.reconciliation.deposits import reconcile_deposits
from clearing_gateway.reconciliation.recovery import apply_break
from clearing_gateway.reconciliation.service import BreakError, list_breaks
from tests.deposits.conftest import Merchant, events, ledger_findings
from tests.providers.conftest import LiveGateway, eventually, inbox
from tests.reconciliation.test_deposit_reconciliation import later
from tests.reconciliation.test_deposit_scenario import vaults
from tests.reconciliation.test_statements import TODAY, finan_statement_cli, reconcile


def registry() -> CallbackHandlers:
    handlers = CallbackHandlers()
    load_callback_handlers(handlers)
    return handlers


async def test_a_lost_open_va_payment_is_applied_from_the_statement_once(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    user = await live_merchant.user()
    account = await live_merchant.virtual_account(user["userId"])
    await gateway.control("topremit", "callbacks/mode", {"mode": "drop"})
    va = account["paymentInstrumentId"]
    await gateway.control("topremit", f"va/{va}/pay", {"amount": "40000.00"})

    # The read API cannot tell what an open-amount VA was paid: the job finds nothing.
    assert (await reconcile_deposits(runtime, later())).applied == 0
    report = await reconcile(runtime, gateway, "topremit")
    (found,) = report.breaks
    assert (found.kind.value, found.provider_amount) == ("missing_in_ledger", 4_000_000)
    assert found.instrument_reference == va
    async with runtime.sessionmaker() as session:
        (row,) = await list_breaks(session, status="open")

    with pytest.raises(BreakError, match="note"):
        await apply_break(runtime.sessionmaker, row.id, note=" ", actor="ops", registry=registry())
    applied = await apply_break(
        runtime.sessionmaker,
        row.id,
        note="bank mutation checked",
        actor="ops:ana",
        registry=registry(),
    )
    assert applied.status == "applied"
    assert applied.event_key == f"va:{row.reference}"
    assert applied.found.status == "resolved"
    assert applied.found.resolved_by == "ops:ana"
    assert await vaults(live_merchant) == {"topremit": "40000.00"}
    assert len(await events(runtime, "va_payment")) == 1

    # Applying again is refused; the callback that turns up late is a duplicate.
    with pytest.raises(BreakError, match="already resolved"):
        await apply_break(
            runtime.sessionmaker, row.id, note="again", actor="ops", registry=registry()
        )
    await gateway.control("topremit", "callbacks/mode", {"mode": "deliver"})
    await gateway.control("topremit", "callbacks/resend-last")
    rows = await eventually(
        lambda: inbox(runtime, "topremit"),
        lambda rows: any(r.channel != "statement" and r.processed_at for r in rows),
    )
    assert sorted(r.status for r in rows) == ["applied", "duplicate"]
    assert await vaults(live_merchant) == {"topremit": "40000.00"}
    assert len(await events(runtime, "va_payment")) == 1
    assert (await reconcile(runtime, gateway, "topremit")).breaks == []
    assert await ledger_findings(runtime) == []


async def test_only_a_topremit_credit_missing_in_ledger_can_be_applied(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    user = await live_merchant.user()
    account = await live_merchant.virtual_account(user["userId"])
    assert (await live_merchant.pay(account, "50000.00")).status_code == 201
    await eventually(lambda: inbox(runtime, "topremit"), lambda rows: len(rows) == 1)
    # The sandbox adds a payment to no instrument of ours, and a wrong amount.
    for kind in ("missing_in_ledger", "amount_mismatch"):
        await gateway.control("topremit", "statements/breaks", {"date": TODAY, "kind": kind})
    report = await reconcile(runtime, gateway, "topremit")
    assert sorted(b.kind.value for b in report.breaks) == ["amount_mismatch", "missing_in_ledger"]
    async with runtime.sessionmaker() as session:
        rows = {b.kind: b for b in await list_breaks(session, status="open")}
    with pytest.raises(BreakError, match="only a missing_in_ledger credit"):
        await apply_break(
            runtime.sessionmaker,
            rows["amount_mismatch"].id,
            note="n",
            actor="o",
            registry=registry(),
        )
    with pytest.raises(BreakError, match="none of our Topremit instruments"):
        await apply_break(
            runtime.sessionmaker,
            rows["missing_in_ledger"].id,
            note="n",
            actor="o",
            registry=registry(),
        )
    assert await vaults(live_merchant) == {"topremit": "50000.00"}


def test_cli_apply_refuses_other_providers_and_unknown_breaks(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    runner, args = finan_statement_cli(database_url, monkeypatch, tmp_path)
    assert runner.invoke(app, args).exit_code == 0
    (row,) = json.loads(runner.invoke(app, ["reconcile", "breaks", "--json"]).output)
    assert row["instrumentReference"] == "REF-9"
    refused = runner.invoke(app, ["reconcile", "apply", row["id"], "--note", "checked"])
    assert refused.exit_code == 1
    assert "deposit reconciliation job" in refused.output
    unknown = runner.invoke(
        app, ["reconcile", "apply", "00000000-0000-0000-0000-000000000000", "--note", "x"]
    )
    assert unknown.exit_code == 1
    assert "no break" in unknown.output


async def test_applying_a_payment_already_credited_meanwhile_only_resolves_the_break(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    # The callback (or an earlier apply cut short before it resolved the break) credits
    # the payment after the statement found it missing: applying it again moves nothing.
    user = await live_merchant.user()
    account = await live_merchant.virtual_account(user["userId"])
    await gateway.control("topremit", "callbacks/mode", {"mode": "drop"})
    await gateway.control(
        "topremit", f"va/{account['paymentInstrumentId']}/pay", {"amount": "40000.00"}
    )
    (found,) = (await reconcile(runtime, gateway, "topremit")).breaks
    assert found.kind.value == "missing_in_ledger"
    await gateway.control("topremit", "callbacks/mode", {"mode": "deliver"})
    await gateway.control("topremit", "callbacks/resend-last")
    await eventually(
        lambda: inbox(runtime, "topremit"),
        lambda rows: len(rows) == 1 and rows[0].processed_at is not None,
    )
    async with runtime.sessionmaker() as session:
        (row,) = await list_breaks(session, status="open")
    applied = await apply_break(
        runtime.sessionmaker, row.id, note="checked", actor="ops", registry=registry()
    )
    assert applied.status == "duplicate"
    assert applied.found.status == "resolved"
    assert await vaults(live_merchant) == {"topremit": "40000.00"}
    assert len(await events(runtime, "va_payment")) == 1
    assert await ledger_findings(runtime) == []
