"""Ledger throughput on PostgreSQL: transfers and postings per second.

    .venv/bin/python -m benchmarks.ledger_postings [--seconds 3] [--workers 16]

Creates a private database on BENCH_DATABASE_URL (default: the test server), migrates it,
runs each scenario for a fixed time with N concurrent transactions (one ledger transfer
per committed transaction, as a deposit or withdrawal would), verifies the ledger, and
writes benchmarks/results/ledger.json.

Scenarios:
- hot_vault: every deposit credits ONE merchant vault (and one clearing and one fee
  account): all writers queue on the same three rows.
- many_merchants: deposits spread over 500 merchants at 3 providers: vaults rarely
  collide, but each provider's clearing and fee accounts are touched by every deposit.
- many_vaults: vault-to-vault moves over 500 merchants: no shared row at all.
- holds_posted: withdrawal holds over 500 merchants, each posted in a second transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import secrets
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from clearing_gateway.config import Settings
from clearing_gateway.db import create_engine, create_sessionmaker, unit_of_work
from clearing_gateway.kit.ids import new_id
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import (
    PROVIDERS,
    AccountKey,
    Posting,
    deposit_postings,
    withdrawal_postings,
)
from clearing_gateway.ledger.verify import verify
from clearing_gateway.merchants.models import Merchant
from clearing_gateway.migrations.runner import upgrade

RESULTS = Path(__file__).parent / "results" / "ledger.json"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"

Operation = Callable[[Any, int], Awaitable[int]]  # (sessionmaker, n) -> postings written


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(_dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _run_scenario(
    sessionmaker: Any, operation: Operation, *, workers: int, seconds: float
) -> dict[str, Any]:
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))
    latencies: list[float] = []
    postings = 0

    async def worker() -> None:
        nonlocal postings
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            written = await operation(sessionmaker, next(counter))
            postings += written
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "transfers": len(latencies),
        "postings": postings,
        "seconds": round(elapsed, 2),
        "transfers_per_second": round(len(latencies) / elapsed),
        "postings_per_second": round(postings / elapsed),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
    }


async def _main(url: str, seconds: float, workers: int) -> dict[str, Any]:
    name = f"cgw_bench_{secrets.token_hex(3)}"
    await _admin(url, f'CREATE DATABASE "{name}"')
    bench_url = make_url(url).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade, bench_url)
        settings = Settings(database_url=bench_url, db_pool_size=workers, db_max_overflow=0)
        engine = create_engine(settings)
        sessionmaker = create_sessionmaker(engine)
        try:
            return await _scenarios(sessionmaker, seconds, workers)
        finally:
            await engine.dispose()
    finally:
        await _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _scenarios(sessionmaker: Any, seconds: float, workers: int) -> dict[str, Any]:
    merchant_ids = [new_id() for _ in range(500)]
    async with unit_of_work(sessionmaker) as session:
        session.add_all(Merchant(id=m, name=f"bench {i}") for i, m in enumerate(merchant_ids))
        for m in merchant_ids:  # float for moves and holds
            for provider in PROVIDERS:
                for vault in ("deposit", "withdrawal"):
                    key = AccountKey.vault(m, provider, vault)
                    posting = Posting(AccountKey.clearing(provider), key, 10**12)
                    await ledger.post(session, f"float:{key.code}", [posting], kind="top_up")
    rng = random.Random(7)
    hot = merchant_ids[0]

    async def hot_vault(sm: Any, n: int) -> int:
        postings = deposit_postings(hot, "topremit", 1_000_000, 2_500)
        async with unit_of_work(sm) as session:
            await ledger.post(session, f"hot:{n}", postings, kind="deposit")
        return len(postings)

    async def many_merchants(sm: Any, n: int) -> int:
        m, provider = rng.choice(merchant_ids), rng.choice(PROVIDERS)
        postings = deposit_postings(m, provider, 1_000_000, 2_500)
        async with unit_of_work(sm) as session:
            await ledger.post(session, f"dep:{n}", postings, kind="deposit")
        return len(postings)

    async def many_vaults(sm: Any, n: int) -> int:
        m, provider = rng.choice(merchant_ids), rng.choice(PROVIDERS)
        source, target = rng.sample(["deposit", "withdrawal"], 2)
        posting = Posting(
            AccountKey.vault(m, provider, source), AccountKey.vault(m, provider, target), 100
        )
        async with unit_of_work(sm) as session:
            await ledger.post(session, f"move:{n}", [posting], kind="vault_transfer")
        return 1

    async def holds_posted(sm: Any, n: int) -> int:
        m, provider = rng.choice(merchant_ids), rng.choice(PROVIDERS)
        postings = withdrawal_postings(m, provider, 500_000, 4_000)
        async with unit_of_work(sm) as session:
            await ledger.hold(session, f"wd:{n}", postings, kind="withdrawal")
        async with unit_of_work(sm) as session:
            await ledger.post_pending(session, f"wd:{n}")
        return 2 * len(postings)

    results = {}
    for label, operation in [
        ("hot_vault", hot_vault),
        ("many_merchants", many_merchants),
        ("many_vaults", many_vaults),
        ("holds_posted", holds_posted),
    ]:
        results[label] = await _run_scenario(
            sessionmaker, operation, workers=workers, seconds=seconds
        )
        print(label, results[label], flush=True)
    async with unit_of_work(sessionmaker) as session:
        findings = await verify(session)
        version = (await session.execute(text("SHOW server_version"))).scalar_one()
    results["verify_findings"] = len(findings)  # type: ignore[assignment]
    results["postgres_version"] = version  # type: ignore[assignment]
    return results


def _machine() -> dict[str, Any]:
    memory_kb = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "commit": commit,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    scenarios = asyncio.run(_main(url, args.seconds, args.workers))
    document = {
        "benchmark": "ledger_postings",
        "run_id": str(uuid.uuid4()),
        "machine": _machine(),
        "workers": args.workers,
        "seconds_per_scenario": args.seconds,
        "scenarios": scenarios,
    }
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
