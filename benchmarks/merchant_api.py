"""The merchant API under load: signed reads over a merchant with 1 M deposits, and writes."""

from __future__ import annotations

from typing import Any

import asyncpg

from benchmarks.harness import Merchant, request_id
from benchmarks.httpload import RunResult, closed_loop, paced

BULK_SQL = """
INSERT INTO deposits (id, merchant_id, payment_instrument_id, user_pk, user_ref, instrument,
    provider, bank_code, virtual_account_no, payment_request_id, payer_name, amount, fee,
    net_amount, currency, status, failure_reason, trx_date_time, created_at)
SELECT gen_random_uuid(), va.merchant_id, va.id, va.user_pk, va.user_ref, 'va', 'topremit',
    va.bank_code, va.virtual_account_no, 'BULK' || g, 'BULK PAYER', 1500000, 0, 1500000, 'IDR',
    CASE WHEN g % 50 = 0 THEN 'FAILED' ELSE 'COMPLETED' END,
    CASE WHEN g % 50 = 0 THEN 'virtual account is CANCELLED' END,
    now() - g * interval '5 seconds', now() - g * interval '5 seconds'
FROM virtual_accounts va, generate_series(1, $2::int) AS g
WHERE va.id = $1::uuid
"""


async def bulk_deposits(dsn: str, instrument_id: str, count: int) -> list[str]:
    """`count` deposits of one merchant, written by SQL (not through the API), spread over
    the last ~58 days (inside the list's default 90-day window). Returns a sample of ids."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(BULK_SQL, instrument_id, count)
        await connection.execute("ANALYZE deposits")
        rows = await connection.fetch(
            "SELECT id FROM deposits TABLESAMPLE SYSTEM (1) WHERE payment_instrument_id = $1"
            " LIMIT 5000",
            instrument_id,
        )
    finally:
        await connection.close()
    return [str(row["id"]) for row in rows]


def _first_status(result: RunResult) -> dict[int, int]:
    return result.statuses()


async def run_endpoints(
    *,
    port: int,
    merchant: Merchant,
    deposit_ids: list[str],
    user_refs: list[str],
    concurrency: int,
    count: int,
    max_seconds: float,
    paced_rate: float,
) -> dict[str, Any]:
    ids = (deposit_ids * (count // max(1, len(deposit_ids)) + 1))[:count]
    loads: dict[str, list[bytes]] = {
        "GET /v1/deposits/{id}": [merchant.raw("GET", f"/v1/deposits/{i}") for i in ids],
        "GET /v1/deposits?limit=20": [
            merchant.raw("GET", "/v1/deposits?limit=20&offset=0") for _ in range(count // 4)
        ],
        "GET /v1/deposits?status=FAILED&limit=20": [
            merchant.raw("GET", "/v1/deposits?status=FAILED&limit=20") for _ in range(count // 4)
        ],
        "POST /v1/virtual-accounts": [
            merchant.raw(
                "POST",
                "/v1/virtual-accounts",
                {
                    "requestId": request_id(),
                    "userId": user_refs[n % len(user_refs)],
                    "bankCode": "BCA",
                },
            )
            for n in range(count // 2)
        ],
        # Reserves amount + fee in the (topped-up) withdrawal vault and enqueues the
        # submission; the worker then checks the beneficiary at the Finpay sandbox.
        "POST /v1/withdrawals": [
            merchant.raw(
                "POST",
                "/v1/withdrawals",
                {
                    "requestId": request_id(),
                    "userId": user_refs[n % len(user_refs)],
                    "merchantReference": f"BENCH-{n}-{request_id()[:8]}",
                    "beneficiaryBankCode": "014",
                    "beneficiaryAccountNo": "1234567890",
                    "amount": "10000.00",
                },
            )
            for n in range(count // 2)
        ],
    }
    results: dict[str, Any] = {}
    writes = ("POST /v1/virtual-accounts", "POST /v1/withdrawals")
    for name, requests in loads.items():
        if name in writes:
            continue
        run = await closed_loop("127.0.0.1", [port], requests, concurrency, max_seconds)
        results[name] = {"concurrency": concurrency, **run.summary(), "statuses": run.statuses()}

    # The steady read rate is measured before the writes: every withdrawal leaves the
    # in-process worker a backlog (submission, provider callbacks, webhooks) that would
    # otherwise be measured as read latency.
    paced_ids = (deposit_ids * (int(paced_rate * 10) // max(1, len(deposit_ids)) + 1))[
        : int(paced_rate * 10)
    ]
    steady = await paced(
        "127.0.0.1",
        [port],
        [merchant.raw("GET", f"/v1/deposits/{i}") for i in paced_ids],
        paced_rate,
        max_seconds,
    )
    results[f"GET /v1/deposits/{{id}} at {paced_rate:g} req/s"] = {
        "rate": paced_rate,
        **steady.summary(),
        "statuses": steady.statuses(),
    }
    for name in writes:
        run = await closed_loop("127.0.0.1", [port], loads[name], concurrency, max_seconds)
        results[name] = {"concurrency": concurrency, **run.summary(), "statuses": run.statuses()}
    return results
