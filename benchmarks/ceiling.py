"""The ceiling: the deposit path's own SQL, in its own transactions, replayed by a raw
asyncpg loop with no framework — the most deposits/s this database commits here.

Capture: the gateway app runs in this process against the scratch database with
SQLAlchemy cursor and transaction hooks on its engine, and takes two real signed
callbacks (two payments to the same VA). Every statement and its driver parameters are
recorded, grouped by transaction. Parameters that differ between the two captures are the
per-deposit ones (row ids, payment id, keys built from them, timestamps): the replay gives
each deposit fresh values for them and keeps the rest, so every replayed transaction
passes the same unique constraints and touches the same hot rows the gateway would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event

from benchmarks.deposits import Account, signed_callbacks
from benchmarks.harness import Gateway, Merchant
from benchmarks.httpload import percentile_ms
from clearing_gateway.app import create_app
from clearing_gateway.config import Settings

# (statement, parameters, executemany): parameters is a list of rows for executemany.
Transaction = list[tuple[str, Any, bool]]


async def capture(gateway: Gateway, accounts: Sequence[Account]) -> list[list[Transaction]]:
    """The statements of two deposits, each a list of transactions."""
    env = gateway.env(8000, RUN_WORKER_IN_PROCESS="false")
    settings = Settings(
        database_url=env["DATABASE_URL"],
        gateway_encryption_key=env["GATEWAY_ENCRYPTION_KEY"],
        run_worker_in_process=False,
        log_level="WARNING",
    )
    app = create_app(settings)
    engine = app.state.runtime.engine.sync_engine
    current: list[Transaction] = []
    open_tx: Transaction | None = None

    def on_begin(_conn: Any) -> None:
        nonlocal open_tx
        open_tx = []

    def on_end(_conn: Any) -> None:
        nonlocal open_tx
        if open_tx:
            current.append(open_tx)
        open_tx = None

    def on_execute(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, many: bool) -> None:
        if open_tx is not None:
            # A multi-row INSERT … RETURNING ("insertmanyvalues") is reported as many
            # but carries one flat parameter list: it runs as one statement.
            many = many and all(isinstance(row, tuple | list) for row in params or ())
            rows = [tuple(row) for row in params] if many else tuple(params or ())
            open_tx.append((statement, rows, many))

    event.listen(engine, "begin", on_begin)
    event.listen(engine, "commit", on_end)
    event.listen(engine, "rollback", on_end)
    event.listen(engine, "before_cursor_execute", on_execute)
    requests, _ = signed_callbacks("http://127.0.0.1:8000", accounts[:1], 2, "CAPTURE-")
    captures = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        for raw in requests:
            head, _, body = raw.partition(b"\r\n\r\n")
            headers = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:])
            headers.pop("Content-Length", None)
            headers.pop("Host", None)
            current = []
            answer = await client.post("/callbacks/topremit/va", content=body, headers=headers)
            assert answer.status_code == 200, answer.text
            captures.append(current)
    await app.state.runtime.aclose()
    return captures


def _template(first: list[Transaction], second: list[Transaction]) -> list[list[Any]]:
    """Per statement: the parameters, with those that differ marked as per-deposit."""
    assert [len(t) for t in first] == [len(t) for t in second], "paths differ between captures"
    plan = []
    for tx_a, tx_b in zip(first, second, strict=True):
        statements = []
        for (sql, pa, many), (sql_b, pb, _) in zip(tx_a, tx_b, strict=True):
            assert sql == sql_b
            if many:
                rows = [_mark(ra, rb) for ra, rb in zip(pa, pb, strict=True)]
                statements.append((sql, rows, True))
            else:
                statements.append((sql, _mark(pa, pb), False))
        plan.append(statements)
    return plan


def _mark(a: Sequence[Any], b: Sequence[Any]) -> list[tuple[Any, bool]]:
    return [(x, x != y) for x, y in zip(a, b, strict=True)]


class _Fresh:
    """Consistent fresh values for one replayed deposit: the same old value always maps
    to the same new one, so ids written by one statement are found by the next."""

    def __init__(self, payment_old: str, payment_new: str) -> None:
        self.strings: dict[str, str] = {payment_old: payment_new}

    def row(self, params: list[tuple[Any, bool]]) -> list[Any]:
        return [self.value(v) if varies else v for v, varies in params]

    def value(self, old: Any) -> Any:
        if isinstance(old, uuid.UUID):
            key = str(old)
            if key not in self.strings:
                self.strings[key] = str(uuid.uuid4())
            return uuid.UUID(self.strings[key])
        if isinstance(old, dt.datetime):
            return dt.datetime.now(old.tzinfo)
        if isinstance(old, str):
            return self.text(old)
        if isinstance(old, bytes):
            return self.text(old.decode()).encode()
        return old

    def text(self, old: str) -> str:
        for before, after in self.strings.items():
            old = old.replace(before, after)
        return old


async def measure(
    *,
    gateway: Gateway,
    dsn: str,
    accounts: Sequence[Account],
    merchant: Merchant,
    concurrency: int,
    count: int,
    max_seconds: float,
) -> dict[str, Any]:
    first, second = await capture(gateway, accounts)
    plan = _template(first, second)
    payment_old = _payment_id(first)
    statements = sum(len(tx) for tx in plan)
    queue = iter(range(count))
    latencies: list[float] = []
    failures: list[str] = []
    started = time.perf_counter()
    deadline = started + max_seconds

    async def lane() -> None:
        connection = await asyncpg.connect(dsn)
        await connection.set_type_codec(
            "jsonb", encoder=_json, decoder=json.loads, schema="pg_catalog"
        )
        await connection.set_type_codec(
            "json", encoder=_json, decoder=json.loads, schema="pg_catalog"
        )
        try:
            for n in queue:
                if time.perf_counter() > deadline:
                    return
                fresh = _Fresh(payment_old, f"CEIL{n:07d}{uuid.uuid4().hex[:6]}")
                t0 = time.perf_counter()
                try:
                    for tx in plan:
                        async with connection.transaction():
                            balances: dict[Any, Any] = {}
                            for sql, params, many in tx:
                                rows = (
                                    [fresh.row(r) for r in params] if many else [fresh.row(params)]
                                )
                                if sql.startswith("INSERT INTO ledger_entries"):
                                    rows = [_from_balance(row, balances) for row in rows]
                                if many:
                                    await connection.executemany(sql, rows)
                                    continue
                                answer = await connection.fetch(sql, *rows[0])
                                if sql.startswith("UPDATE ledger_accounts") and answer:
                                    balances[rows[0][6]] = answer[0]
                except asyncpg.PostgresError as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                latencies.append(time.perf_counter() - t0)
        finally:
            await connection.close()

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "concurrency": concurrency,
        "transactions_per_deposit": len(plan),
        "statements_per_deposit": statements,
        "deposits": len(latencies),
        "failures": len(failures),
        "first_failure": failures[0] if failures else None,
        "elapsed_s": round(elapsed, 2),
        "deposits_per_s": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": percentile_ms(latencies, 50),
        "p99_ms": percentile_ms(latencies, 99),
        "statements": [[sql for sql, _, _ in tx] for tx in plan],
    }


def _from_balance(row: list[Any], balances: dict[Any, Any]) -> list[Any]:
    """A ledger entry snapshots the account row its UPDATE … RETURNING produced (version
    and the four balances): the one place where the replay takes values from the database
    rather than from the capture, exactly as the gateway does."""
    account = balances[row[0]]
    row = list(row)
    row[1] = account["version"]
    row[8:12] = [
        account["debits_pending"],
        account["debits_posted"],
        account["credits_pending"],
        account["credits_posted"],
    ]
    return row


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _payment_id(transactions: list[Transaction]) -> str:
    for tx in transactions:
        for sql, params, _many in tx:
            if "INSERT INTO deposits" in sql:
                for value in params:
                    if isinstance(value, str) and value.startswith("CAPTURE-"):
                        return value
    raise LookupError("no deposit insert captured")
