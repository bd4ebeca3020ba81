"""Statement reconciliation: each sandbox's daily statement matched line by line against
the ledger, each kind of break produced on demand, stored once, listed and resolved."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.cli import app
from clearing_gateway.db import unit_of_work
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.reconciliation.service import (
    BreakError,
    list_breaks,
    reconcile_statement,
    resolve_break,
)
from clearing_gateway.reconciliation.statements import StatementError, StatementReport
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.deposits.conftest import Merchant
from tests.providers.conftest import LiveGateway, eventually, settled_inbox

TODAY = utcnow().date().isoformat()


async def statement(gateway: LiveGateway, provider: str) -> str:
    response = await gateway.http.get(f"{gateway.sandbox_url(provider)}/statements/{TODAY}")
    assert response.status_code == 200
    return response.text


async def reconcile(runtime: Runtime, gateway: LiveGateway, provider: str) -> StatementReport:
    text = await statement(gateway, provider)
    async with unit_of_work(runtime.sessionmaker) as session:
        return await reconcile_statement(session, provider, TODAY, text)


async def pay_three_topremit_payments(merchant: Merchant, gateway: LiveGateway) -> None:
    user = await merchant.user()
    account = await merchant.virtual_account(user["userId"])
    assert (await merchant.pay(account, "50000.00")).status_code == 201
    assert (await merchant.pay(account, "70000.00")).status_code == 201
    created = await merchant.client.post(
        "/v1/qris", {"requestId": str(uuid.uuid4()), "userId": user["userId"], "amount": "55000.00"}
    )
    qris: dict[str, Any] = created.json()["data"]
    await gateway.control("topremit", f"qris/{qris['paymentInstrumentId']}/pay", {})


async def test_a_clean_day_matches_and_each_break_kind_is_found_once(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    await pay_three_topremit_payments(live_merchant, gateway)
    await settled_inbox(runtime, "topremit", 3)
    clean = await reconcile(runtime, gateway, "topremit")
    assert (clean.lines, clean.matched, clean.breaks) == (3, 3, [])

    for kind in ("missing_in_ledger", "missing_at_provider", "amount_mismatch", "status_mismatch"):
        await gateway.control("topremit", "statements/breaks", {"date": TODAY, "kind": kind})
    broken = await reconcile(runtime, gateway, "topremit")
    assert sorted(b.kind.value for b in broken.breaks) == [
        "amount_mismatch",
        "missing_at_provider",
        "missing_in_ledger",
        "status_mismatch",
    ]
    assert broken.new_breaks == 4
    again = await reconcile(runtime, gateway, "topremit")
    assert (len(again.breaks), again.new_breaks) == (4, 0)  # stored once

    async with unit_of_work(runtime.sessionmaker) as session:
        stored = await list_breaks(session, status="open", provider="topremit")
        amount = next(b for b in stored if b.kind == "amount_mismatch")
        assert amount.provider_amount is not None
        assert amount.ledger_amount is not None
        assert amount.provider_amount - amount.ledger_amount == 100
        resolved = await resolve_break(
            session, amount.id, note="bank fee shown gross; ticket 42", actor="ops:ana"
        )
        assert (resolved.status, resolved.resolved_by) == ("resolved", "ops:ana")
    async with unit_of_work(runtime.sessionmaker) as session:
        assert len(await list_breaks(session, status="open")) == 3
        assert len(await list_breaks(session, status="resolved", provider="topremit")) == 1
        with pytest.raises(BreakError):
            await resolve_break(session, amount.id, note="again", actor="ops:ana")
        with pytest.raises(BreakError):
            await resolve_break(session, stored[0].id, note="  ", actor="ops:ana")


async def test_finan_steps_and_payouts_match(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    user = await live_merchant.user()
    created = await live_merchant.client.post(
        "/v1/cash-in",
        {"requestId": str(uuid.uuid4()), "userId": user["userId"], "amount": "125000.00"},
    )
    pay = f"payments/{created.json()['data']['virtualAccountNo']}/pay"
    await gateway.control("finan", pay, {"amount": 100000})
    await settled_inbox(runtime, "finan", 1)
    await gateway.control("finan", pay, {"amount": 25000})
    await settled_inbox(runtime, "finan", 2)
    report = await eventually(
        lambda: reconcile(runtime, gateway, "finan"), lambda r: r.matched == 1
    )
    assert (report.lines, report.matched, report.breaks) == (2, 1, []), report.breaks


def test_statement_errors_are_refused() -> None:
    from clearing_gateway.reconciliation.statements import parse_statement

    header = "date,type,reference,provider_id,amount,currency,status\n"
    for bad in (
        "",
        "a,b\n",
        header + f"{TODAY},credit,R,P,1e3,IDR,PAID\n",
        header + f"{TODAY},credit,R,P,-5,IDR,PAID\n",
        header + "2000-01-01,credit,R,P,10.00,IDR,PAID\n",
        header + f"{TODAY},transfer,R,P,10.00,IDR,PAID\n",
    ):
        with pytest.raises(StatementError):
            parse_statement(bad, TODAY)


def finan_statement_cli(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[CliRunner, list[str]]:
    """The CLI on `database_url`, and the arguments that reconcile a one-line Finan
    statement (a payment PAY-9 to reference REF-9 the gateway never heard of)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("GATEWAY_ENCRYPTION_KEY", TEST_ENCRYPTION_KEY)
    file = tmp_path / "finan.csv"
    file.write_text(
        "date,type,reference,provider_id,amount,currency,status\n"
        f"{TODAY},credit,REF-9,PAY-9,10000,IDR,PAID\n"
    )
    return CliRunner(), ["reconcile", "--provider", "finan", "--date", TODAY, "--file", str(file)]


def test_cli_reconcile_lists_and_resolves(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    runner, args = finan_statement_cli(database_url, monkeypatch, tmp_path)
    first = runner.invoke(app, [*args, "--json"])
    assert first.exit_code == 0, first.output
    assert '"missing_in_ledger": 1' in first.output
    listed = runner.invoke(app, ["reconcile", "breaks", "--json"])
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.output.splitlines()[-1])
    assert (row["kind"], row["reference"], row["providerAmount"]) == (
        "missing_in_ledger",
        "PAY-9",
        "10000.00",
    )
    done = runner.invoke(app, ["reconcile", "resolve", row["id"], "--note", "test payment"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output.splitlines()[-1])["resolutionNote"] == "test payment"
    after = runner.invoke(app, ["reconcile", "breaks", "--json"]).output
    assert json.loads(after.splitlines()[-1]) == []
    bad = runner.invoke(app, ["reconcile", "--provider", "nobody", "--date", TODAY])
    assert bad.exit_code == 1
