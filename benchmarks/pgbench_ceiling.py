"""The physical ceiling: what this PostgreSQL commits per second for the rows one deposit
must write, in the gateway's own table shapes, replayed by `pgbench`.

`pgbench/schema.sql` creates the tables a deposit writes (columns, keys, indexes as the
migrations make them); `pgbench/deposit_hot.sql` is one deposit with the provider
clearing and fee revenue rows updated last (their locks held only through COMMIT),
`pgbench/deposit.sql` the same without the shared rows. Each runs in a scratch database
of its own, dropped afterwards, so the gateway's tables are never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import asyncpg

from benchmarks.harness import admin_dsn, database_dsn

SCRIPTS = Path(__file__).parent / "pgbench"
VARIANTS = {"hot": "deposit_hot.sql", "cold": "deposit.sql"}
_TPS = re.compile(r"tps = ([0-9.]+) \(without initial connection time\)")
_PROCESSED = re.compile(r"number of transactions actually processed: (\d+)")
_FAILED = re.compile(r"number of failed transactions: (\d+)")
_LATENCY = re.compile(r"latency average = ([0-9.]+) ms")


def pgbench_binary() -> str:
    found = shutil.which("pgbench")
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True):
        return str(candidate)
    raise FileNotFoundError("pgbench not found: install postgresql-client")


async def create(database: str) -> None:
    """A scratch database with the ceiling's tables and accounts."""
    connection = await asyncpg.connect(admin_dsn())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()
    connection = await asyncpg.connect(database_dsn(database))
    try:
        await connection.execute((SCRIPTS / "schema.sql").read_text())
    finally:
        await connection.close()


async def drop(database: str) -> None:
    connection = await asyncpg.connect(admin_dsn())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await connection.close()


def parse(output: str) -> dict[str, Any]:
    """The figures of one pgbench run from its report."""
    tps = _TPS.search(output)
    processed = _PROCESSED.search(output)
    failed = _FAILED.search(output)
    latency = _LATENCY.search(output)
    if tps is None or processed is None:
        raise RuntimeError(f"pgbench printed no result:\n{output[-2000:]}")
    return {
        "deposits_per_s": round(float(tps.group(1)), 1),
        "deposits": int(processed.group(1)),
        "failures": int(failed.group(1)) if failed else 0,
        "latency_avg_ms": float(latency.group(1)) if latency else None,
    }


def run_variant(
    database: str, variant: str, clients: int, *, seconds: int = 0, transactions: int = 0
) -> dict[str, Any]:
    """One pgbench run: for `seconds`, or `transactions` per client."""
    threads = min(clients, os.cpu_count() or 1)
    length = ("-T", str(seconds)) if seconds else ("-t", str(transactions))
    command = [
        *(pgbench_binary(), "-n", "-f", str(SCRIPTS / VARIANTS[variant])),
        *("-c", str(clients), "-j", str(threads), *length, database_dsn(database)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pgbench failed ({done.returncode}): {done.stderr[-2000:]}")
    return {"clients": clients, "seconds": seconds, "script": VARIANTS[variant]} | parse(
        done.stdout
    )


async def measure(*, clients: int = 16, seconds: int = 10) -> dict[str, Any]:
    """Both ceilings, each on a freshly created schema."""
    database = f"ceiling_{os.getpid()}"
    results: dict[str, Any] = {"load_average_at_start": os.getloadavg()}
    try:
        for variant in VARIANTS:
            await create(database)
            results[variant] = run_variant(database, variant, clients, seconds=seconds)
    finally:
        await drop(database)
    return results
