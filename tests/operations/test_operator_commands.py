"""Operator commands that act without SQL: the callback inbox, failed and stuck jobs,
a withdrawal re-checked with its provider, `--version`, and a one-line error when the
database is not migrated."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from clearing_gateway import jobs
from clearing_gateway.api.runtime import Runtime
from clearing_gateway.cli import app
from clearing_gateway.db import unit_of_work
from clearing_gateway.jobs import repository
from clearing_gateway.jobs.models import Job, JobStatus
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.providers.models import CallbackStatus, ProviderCallback
from clearing_gateway.withdrawals.models import WithdrawalStatus
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.withdrawals.conftest import Payouts


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def cli_env(payouts: Payouts, monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands see the database and the sandboxes the gateway under test uses."""
    settings = payouts.runtime.settings
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("GATEWAY_ENCRYPTION_KEY", TEST_ENCRYPTION_KEY)
    monkeypatch.setenv("PUBLIC_BASE_URL", payouts.gateway.url)
    monkeypatch.setenv("PROVIDER_READ_TIMEOUT_SECONDS", "2")


async def processing_withdrawal(payouts: Payouts) -> str:
    await payouts.fund(10_000_000)
    await payouts.control("settings", {"autoSettle": False})
    created = await payouts.create()
    assert created.status_code == 201, created.text
    tx = str(created.json()["data"]["transactionId"])
    await payouts.run_jobs()
    assert await payouts.status(tx) == "PROCESSING"
    return tx


async def inbox(runtime: Runtime) -> list[ProviderCallback]:
    async with runtime.sessionmaker() as session:
        rows = await session.scalars(
            select(ProviderCallback).order_by(ProviderCallback.received_at)
        )
        return list(rows)


async def test_a_callback_left_unconfirmed_is_listed_shown_and_replayed_once(
    payouts: Payouts, cli_env: None
) -> None:
    tx = await processing_withdrawal(payouts)
    row = await payouts.row(tx)
    # Finpay's Check Status fails once: the callback cannot be confirmed and stays
    # `received` (the provider is told to try again later).
    await payouts.control("faults", {"mode": "5xx", "count": 1})
    await payouts.control(f"transfers/{row.provider_reference}/settle")

    async def one_received() -> list[ProviderCallback]:
        return [r for r in await inbox(payouts.runtime) if r.status == CallbackStatus.RECEIVED]

    for _ in range(100):
        if await one_received():
            break
        await asyncio.sleep(0.05)
    (stored,) = await one_received()
    assert await payouts.status(tx) == "PROCESSING"

    code, out, _ = await asyncio.to_thread(
        run, "callbacks", "list", "--provider", "finpay", "--status", "received", "--json"
    )
    assert code == 0
    assert [r["callbackId"] for r in json.loads(out)] == [str(stored.id)]
    assert "confirmation failed" in json.loads(out)[0]["error"]
    code, out, _ = await asyncio.to_thread(run, "callbacks", "show", str(stored.id))
    assert code == 0
    shown = json.loads(out)
    assert shown["body"]
    assert shown["path"].endswith("/callbacks/finpay/disbursement")

    code, out, err = await asyncio.to_thread(run, "callbacks", "replay", str(stored.id))
    assert code == 0, err
    # (The live gateway's log lines share this stdout; the command's answer is last.)
    assert out.splitlines()[-1] == f"callback {stored.id}: received -> applied"
    assert await payouts.status(tx) == "SUCCESS"
    # Applied once: a second replay is refused and moves nothing.
    code, _, err = await asyncio.to_thread(run, "callbacks", "replay", str(stored.id))
    assert code == 1
    assert "applied already" in err
    assert [h[1] for h in await payouts.history(tx)].count("SUCCESS") == 1


async def test_withdrawal_recheck_asks_the_provider_now(payouts: Payouts, cli_env: None) -> None:
    tx = await processing_withdrawal(payouts)
    row = await payouts.row(tx)
    await payouts.control("callbacks/mode", {"mode": "drop"})  # the notification is lost
    await payouts.control(f"transfers/{row.provider_reference}/settle")
    assert await payouts.status(tx) == "PROCESSING"

    code, out, err = await asyncio.to_thread(run, "withdrawals", "recheck", tx)
    assert code == 0, err
    assert out.splitlines()[-1] == f"withdrawal {tx}: PROCESSING -> SUCCESS"
    assert (await payouts.row(tx)).status == WithdrawalStatus.SUCCESS

    code, _, err = await asyncio.to_thread(run, "withdrawals", "recheck", str(uuid.uuid4()))
    assert code == 1
    assert err.startswith("error: no withdrawal")


async def _job(runtime: Runtime, **values: object) -> uuid.UUID:
    async with unit_of_work(runtime.sessionmaker) as session:
        job_id = await jobs.enqueue(session, "test.operator", {"n": 1})
        assert job_id is not None
        job = await session.get(Job, job_id)
        assert job is not None
        for key, value in values.items():
            setattr(job, key, value)
    return job_id


async def _status(runtime: Runtime, job_id: uuid.UUID) -> str:
    async with runtime.sessionmaker() as session:
        job = await repository.get(session, job_id)
        assert job is not None
        return job.status


async def test_failed_and_stuck_jobs_are_listed_retried_and_cancelled(
    runtime: Runtime, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("GATEWAY_ENCRYPTION_KEY", TEST_ENCRYPTION_KEY)
    now = utcnow()
    failed = await _job(runtime, status=JobStatus.FAILED, attempts=10, last_error="boom")
    stuck = await _job(
        runtime, status=JobStatus.RUNNING, run_at=now - dt.timedelta(minutes=5), attempts=1
    )
    live = await _job(
        runtime, status=JobStatus.RUNNING, run_at=now + dt.timedelta(minutes=5), attempts=1
    )

    code, out, _ = await asyncio.to_thread(run, "jobs", "list", "--json")
    assert code == 0
    assert [(r["jobId"], r["lastError"]) for r in json.loads(out)] == [(str(failed), "boom")]
    code, out, _ = await asyncio.to_thread(run, "jobs", "list", "--stuck", "--json")
    assert [r["jobId"] for r in json.loads(out)] == [str(stuck)]

    assert (await asyncio.to_thread(run, "jobs", "retry", str(failed)))[0] == 0
    async with runtime.sessionmaker() as session:
        retried = await repository.get(session, failed)
        assert retried is not None
        assert (retried.status, retried.attempts) == (JobStatus.PENDING, 0)
    assert (await asyncio.to_thread(run, "jobs", "retry", str(stuck)))[0] == 0
    assert await _status(runtime, stuck) == JobStatus.PENDING

    # A job whose worker still holds a live lease is left alone.
    code, _, err = await asyncio.to_thread(run, "jobs", "cancel", str(live))
    assert code == 1
    assert "live lease" in err
    assert await _status(runtime, live) == JobStatus.RUNNING
    assert (await asyncio.to_thread(run, "jobs", "cancel", str(failed)))[0] == 0
    assert await _status(runtime, failed) == JobStatus.CANCELLED
    code, _, err = await asyncio.to_thread(run, "jobs", "list", "--status", "bogus")
    assert code == 1
    assert "unknown status" in err


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0
    assert out.startswith("clearing-gateway ")


def test_an_unmigrated_database_is_one_line_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    monkeypatch.setenv("GATEWAY_ENCRYPTION_KEY", TEST_ENCRYPTION_KEY)
    for command in (["jobs", "list"], ["merchants", "list"], ["serve"], ["worker"]):
        code, out, err = run(*command)
        assert code == 1, command
        assert err == "error: the database is not migrated; run `clearing-gateway migrate`\n"
        assert out == ""


def test_an_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    code, _, err = run("callbacks", "list")
    assert code == 1
    assert err.startswith("error: cannot reach the database")
    assert len(err.strip().splitlines()) == 1
