"""The public simulator path under load, end to end: `POST /v1/simulator/deposits/payment`
→ the in-process Topremit sandbox → its signed callback back to the gateway → deposit and
ledger → webhook at the sink. The simulator answers once the deposit exists, so a
closed loop of merchants paying their own VAs measures the whole round."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from benchmarks.deposits import Account, stage_effects
from benchmarks.harness import Merchant
from benchmarks.httpload import closed_loop

AMOUNT = "15000.00"  # no magic amount of docs/sandbox.md


def payment_requests(merchant: Merchant, accounts: Sequence[Account], count: int) -> list[bytes]:
    return [
        merchant.raw(
            "POST",
            "/v1/simulator/deposits/payment",
            {
                "virtualAccountNo": accounts[n % len(accounts)].number,
                "bankCode": "BCA",
                "payment": {"amount": AMOUNT, "payerName": "BENCH PAYER"},
            },
        )
        for n in range(count)
    ]


def _payment_id(body: bytes) -> str | None:
    try:
        return str(json.loads(body)["data"]["paymentRequestId"])
    except (ValueError, KeyError, TypeError):
        return None


async def run_stage(
    *,
    port: int,
    sink_port: int,
    dsn: str,
    requests: Sequence[bytes],
    concurrency: int,
    max_seconds: float,
    drain_seconds: float,
) -> dict[str, Any]:
    result = await closed_loop("127.0.0.1", [port], requests, concurrency, max_seconds)
    accepted: dict[str, float] = {}
    for sample in result.ok:
        payment = _payment_id(sample.body)
        if payment is not None:
            accepted[payment] = sample.sent
    return {
        "concurrency": concurrency,
        "requests": result.summary(),
        **await stage_effects(
            result,
            accepted,
            list(accepted),
            sink_port,
            dsn,
            drain_seconds,
            sent=len(result.samples),
        ),
    }
