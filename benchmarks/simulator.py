"""The public simulator path under load, end to end: `POST /v1/simulator/deposits/payment`
→ the in-process Topremit sandbox → its signed callback back to the gateway → deposit and
ledger → webhook at the sink. The simulator answers once the deposit exists, so a
closed loop of merchants paying their own VAs measures the whole round."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from typing import Any

from benchmarks.deposits import Account, count_effects, wait_for_webhooks
from benchmarks.harness import Merchant
from benchmarks.httpload import closed_loop, percentile_ms

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
    first, arrivals, _waited = await wait_for_webhooks(sink_port, list(accepted), drain_seconds)
    effects = await count_effects(dsn, list(accepted))
    to_webhook = sorted(first[p] - accepted[p] for p in first)
    ours = [(w, p) for w, p, _ in arrivals if p in accepted]
    start = min(accepted.values(), default=0.0)
    last_webhook = max(first.values(), default=start)
    summary = result.summary()
    return {
        "concurrency": concurrency,
        "requests": summary,
        "statuses": result.statuses(),
        "deposits_per_s": summary["per_second"],
        "end_to_end_per_s": round(len(first) / (last_webhook - start), 1)
        if last_webhook > start
        else 0.0,
        "webhook_latency_p50_ms": percentile_ms(to_webhook, 50),
        "webhook_latency_p99_ms": percentile_ms(to_webhook, 99),
        "webhook_latency_mean_ms": round(statistics.fmean(to_webhook) * 1000, 1)
        if to_webhook
        else 0.0,
        "sent": len(result.samples),
        "accepted": len(accepted),
        **effects,
        "webhooks_received": len(first),
        "webhook_posts_received": len(ours),
        "distinct_webhook_ids": len({w for w, _ in ours}),
    }
