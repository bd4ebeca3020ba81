"""Console page latency over a merchant with 1 M deposits (PostgreSQL).

    .tools/bin/uv run --frozen python -m benchmarks.console_pages [--deposits N] [--rounds R]

Creates a scratch database, migrates it, writes N deposits (default 1 M, by SQL, spread
over ~58 days), 20 k withdrawals and a failed webhook delivery per 100 deposits' worth,
starts `clearing-gateway serve` (no worker), signs in an operator and a merchant's admin
through the login form, then fetches every page R times one after another (a console is
a few people clicking, not a load test) and reports p50 / p95 / max per page. Results:
benchmarks/results/console_pages.json. Not part of CI; figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from benchmarks.harness import (
    GATEWAY,
    Gateway,
    create_database,
    database_dsn,
    drop_database,
    free_port,
    wait_ready,
)
from benchmarks.merchant_api import bulk_deposits

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
RESULTS = Path(__file__).parent / "results" / "console_pages.json"

SEED_SQL = """
INSERT INTO users (id, merchant_id, user_id, kyc_name, type, whitelisted_kyc_names,
    whitelisted_withdrawal_accounts, created_at, updated_at)
VALUES ($1::uuid, $2::uuid, 'bench-user', 'Bench User', 'retail', '[]', '[]', now(), now());
"""
VA_SQL = """
INSERT INTO virtual_accounts (id, merchant_id, user_pk, user_ref, kind, provider, bank_code,
    virtual_account_no, virtual_account_name, provider_reference, currency, min_amount,
    max_amount, status, created_at, updated_at)
VALUES ($1::uuid, $2::uuid, $3::uuid, 'bench-user', 'va', 'topremit', '014', $4,
    'Bench User', 'bench-va', 'IDR', 0, 0, 'ACTIVE', now(), now())
"""
WITHDRAWALS_SQL = """
INSERT INTO withdrawals (id, merchant_id, user_pk, user_ref, merchant_reference,
    beneficiary_bank_code, beneficiary_account_no, amount, fee, currency, status, provider,
    provider_reference, outcome_unknown, polls, created_at, updated_at)
SELECT gen_random_uuid(), $1::uuid, $2::uuid, 'bench-user', 'BENCH-' || g, '014', '500654309',
    2000000, 0, 'IDR', CASE WHEN g % 20 = 0 THEN 'FAILED' ELSE 'SUCCESS' END, 'finpay',
    'WDBENCH' || g, false, 1, now() - g * interval '4 minutes', now() - g * interval '4 minutes'
FROM generate_series(1, $3::int) AS g
"""
DELIVERIES_SQL = """
INSERT INTO webhook_deliveries (id, merchant_id, webhook_id, event_id, event_type,
    transaction_id, url, attempt, trigger, status, status_code, latency_ms, error, created_at)
SELECT gen_random_uuid(), $1::uuid, gen_random_uuid(), gen_random_uuid(), 'va_payment',
    'tx-' || g, 'https://hooks.example.com/bench', 1, 'initial',
    CASE WHEN g % 10 = 0 THEN 'failed' ELSE 'succeeded' END, 200, 40, NULL,
    now() - g * interval '30 seconds'
FROM generate_series(1, $2::int) AS g
"""


async def seed(dsn: str, merchant_id: str, deposits: int) -> dict[str, Any]:
    user_pk, va_pk = str(uuid.uuid4()), str(uuid.uuid4())
    va_no = "8889000012345678"
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(SEED_SQL, user_pk, merchant_id)
        await connection.execute(VA_SQL, va_pk, merchant_id, user_pk, va_no)
    finally:
        await connection.close()
    started = time.monotonic()
    deposit_ids = await bulk_deposits(dsn, va_pk, deposits)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(WITHDRAWALS_SQL, merchant_id, user_pk, 20_000)
        await connection.execute(DELIVERIES_SQL, merchant_id, max(1000, deposits // 100))
        await connection.execute("ANALYZE")
        withdrawal = await connection.fetchval(
            "SELECT id FROM withdrawals ORDER BY created_at DESC LIMIT 1"
        )
    finally:
        await connection.close()
    return {
        "deposit_ids": deposit_ids,
        "withdrawal_id": str(withdrawal),
        "va_no": va_no,
        "seconds": round(time.monotonic() - started, 1),
    }


def serve(gateway: Gateway, port: int) -> None:
    """`clearing-gateway serve` without its worker; a loaded machine may take a while to
    import it, hence the longer wait than the harness's."""
    env = gateway.env(port, RUN_WORKER_IN_PROCESS="false")
    log = (gateway.workdir / f"serve-{port}.log").open("ab")
    process = subprocess.Popen(
        [*GATEWAY, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=gateway.workdir,
    )
    gateway.processes.append(process)
    wait_ready(port, process, timeout=180)


def sign_in(base: str, email: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
    token = CSRF.search(client.get("/console/login").text)
    assert token is not None
    answer = client.post(
        "/console/login", data={"email": email, "password": password, "csrf_token": token[1]}
    )
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in failed: {answer.status_code}")
    return client


def measure(client: httpx.Client, path: str, rounds: int) -> dict[str, Any]:
    for _ in range(3):  # warm: connection pool, template cache, PostgreSQL buffers
        client.get(path)
    timings, statuses = [], set()
    for _ in range(rounds):
        started = time.perf_counter()
        answer = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        statuses.add(answer.status_code)
    timings.sort()
    return {
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
        "max_ms": round(timings[-1], 1),
        "statuses": sorted(statuses),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    name = f"cgw_console_bench_{uuid.uuid4().hex[:6]}"
    await create_database(name)
    workdir = Path(tempfile.mkdtemp(prefix="console-bench-"))
    gateway = Gateway(name, workdir, extra_env={"LOG_LEVEL": "WARNING"})
    try:
        gateway.cli("migrate")
        merchant = json.loads(gateway.cli("merchants", "create", "--name", "Bench", "--json"))
        operator = json.loads(gateway.cli("operators", "create", "--email", "ops@bench.test"))
        member = json.loads(
            gateway.cli(
                "operators",
                "create",
                "--email",
                "admin@bench.test",
                "--merchant",
                merchant["merchantId"],
            )
        )
        seeded = await seed(database_dsn(name), merchant["merchantId"], args.deposits)
        print(f"seeded {args.deposits} deposits in {seeded['seconds']} s", flush=True)
        port = free_port()
        serve(gateway, port)
        base = f"http://127.0.0.1:{port}"
        ops = sign_in(base, operator["email"], operator["password"])
        mine = sign_in(base, member["email"], member["password"])
        deposit = seeded["deposit_ids"][len(seeded["deposit_ids"]) // 2]
        m = merchant["merchantId"]
        pages = {
            # The noise floor: no database work at all, so what it costs is the machine.
            "noise floor: /healthz": (ops, "/healthz"),
            "ops overview": (ops, "/console/ops"),
            "ops search: deposit id": (ops, f"/console/ops/search?q={deposit}"),
            "ops search: provider reference": (ops, "/console/ops/search?q=BULK500000"),
            "ops search: VA number": (ops, f"/console/ops/search?q={seeded['va_no']}"),
            "ops search: merchant reference": (ops, "/console/ops/search?q=BENCH-777"),
            "ops deposits": (ops, "/console/ops/deposits"),
            "ops deposits page 100": (ops, "/console/ops/deposits?offset=5000"),
            "ops deposits FAILED": (ops, "/console/ops/deposits?status=FAILED"),
            "ops deposits of merchant": (ops, f"/console/ops/deposits?merchant={m}"),
            "ops deposits by VA": (ops, f"/console/ops/deposits?va={seeded['va_no']}"),
            "ops deposit": (ops, f"/console/ops/deposits/{deposit}"),
            "ops withdrawals": (ops, "/console/ops/withdrawals"),
            "ops withdrawal timeline": (ops, f"/console/ops/withdrawals/{seeded['withdrawal_id']}"),
            "ops exceptions": (ops, "/console/ops/queues/exceptions"),
            "ops stuck": (ops, "/console/ops/queues/withdrawals"),
            "ops callbacks": (ops, "/console/ops/queues/callbacks"),
            "ops webhooks failed": (ops, "/console/ops/queues/webhooks"),
            "ops merchant": (ops, f"/console/ops/merchants/{m}"),
            "merchant overview": (mine, "/console/m"),
            "merchant deposits": (mine, "/console/m/deposits"),
            "merchant deposits FAILED": (mine, "/console/m/deposits?status=FAILED"),
            "merchant deposit": (mine, f"/console/m/deposits/{deposit}"),
            "merchant withdrawals": (mine, "/console/m/withdrawals"),
            "merchant webhooks": (mine, "/console/m/webhooks"),
        }
        results = {}
        for label, (client, path) in pages.items():
            results[label] = measure(client, path, args.rounds)
            print(f"{label:<34} {results[label]}", flush=True)
        return {"deposits": args.deposits, "rounds": args.rounds, "pages": results}
    finally:
        gateway.stop_all()
        await drop_database(name)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deposits", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    results = asyncio.run(main(args))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    slow = {k: v["p95_ms"] for k, v in results["pages"].items() if v["p95_ms"] >= 100}
    print(f"pages with p95 >= 100 ms: {slow or 'none'}")


if __name__ == "__main__":
    cli()
