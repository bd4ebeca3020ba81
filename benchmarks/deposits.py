"""The deposit pipeline under load: signed Topremit VA callbacks in, webhooks out.

Every callback is built and signed by the Topremit sandbox's own code
(`TopremitSandbox._send_va_callback`, with its sender swapped for a list), so the bytes
are exactly what the sandbox would POST to the gateway.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from benchmarks.harness import Merchant, request_id, sink_arrivals
from benchmarks.httpload import RunResult, build_request, closed_loop, paced, percentile_ms
from clearing_gateway.config import Settings
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.providers.config import resolve_provider_config
from clearing_gateway.providers.sandbox_kit import OutgoingCallback
from clearing_gateway.providers.sandboxes import build_sandboxes
from clearing_gateway.providers.topremit.sandbox import SandboxVa

PAID_AMOUNT = 1_500_000  # IDR 15,000.00, above the VAs' default minimum


@dataclass
class Account:
    instrument_id: str
    number: str
    name: str
    customer_no: str


class _Collect:
    """Stands in for the sandbox's callback sender: keeps what it would have sent."""

    def __init__(self) -> None:
        self.sent: list[OutgoingCallback] = []

    def submit(self, callback: OutgoingCallback) -> None:
        self.sent.append(callback)


def setup_accounts(merchant: Merchant, port: int, users: int, sink_url: str) -> list[Account]:
    """Users and VAs through the API (the sandbox mounted in the gateway issues them) and
    one `va_payment` webhook pointing at the sink."""
    merchant.call(
        port,
        "POST",
        "/v1/webhooks",
        {"requestId": request_id(), "eventType": "va_payment", "url": sink_url},
    )
    accounts = []
    for n in range(users):
        user_ref = f"bench-user-{n}"
        merchant.call(
            port,
            "POST",
            "/v1/users",
            {
                "requestId": request_id(),
                "userId": user_ref,
                "kycName": f"Bench User {n}",
                "type": "retail",
                "email": f"user{n}@example.com",
            },
        )
        va = merchant.call(
            port,
            "POST",
            "/v1/virtual-accounts",
            {"requestId": request_id(), "userId": user_ref, "bankCode": "BCA"},
        )
        accounts.append(
            Account(
                va["paymentInstrumentId"],
                va["virtualAccountNo"],
                va["virtualAccountName"],
                user_ref,
            )
        )
    return accounts


def signed_callbacks(
    public_base_url: str, accounts: Sequence[Account], count: int, prefix: str
) -> tuple[list[bytes], list[str]]:
    """`count` distinct VA payment callbacks (raw HTTP requests) and their payment ids."""
    settings = Settings(public_base_url=public_base_url)
    sandbox = build_sandboxes(resolve_provider_config(settings)).topremit
    collector = _Collect()
    sandbox.callbacks = collector  # type: ignore[assignment]
    now = utcnow()
    payment_ids = []
    for n in range(count):
        account = accounts[n % len(accounts)]
        payment_id = f"{prefix}{n:06d}{secrets.token_hex(3).upper()}"
        payment_ids.append(payment_id)
        sandbox._send_va_callback(
            SandboxVa(
                partner_service_id=sandbox.config.partner_service_id,
                customer_no=account.customer_no,
                virtual_account_no=account.number,
                name=account.name,
                trx_id=account.instrument_id,
                channel="BCA",
                amount=None,
                currency="IDR",
                expires_at=None,
                payment_id=payment_id,
                created_at=now - dt.timedelta(minutes=5),
                status="PAID",
                paid_amount=PAID_AMOUNT,
                paid_at=now,
                payer_name="BENCH PAYER",
            )
        )
    requests = [
        build_request("POST", "/callbacks/topremit/va", callback.headers, callback.body)
        for callback in collector.sent
    ]
    return requests, payment_ids


async def wait_for_webhooks(
    sink_port: int, payment_ids: Sequence[str], max_seconds: float
) -> tuple[dict[str, float], list[tuple[str, str, float]], float]:
    """Poll the sink until every payment's webhook arrived (or the time is up)."""
    wanted = set(payment_ids)
    started = time.monotonic()
    while True:
        arrivals = await asyncio.to_thread(sink_arrivals, sink_port)
        first: dict[str, float] = {}
        for _webhook_id, payment, at in arrivals:
            if payment in wanted and payment not in first:
                first[payment] = at
        if len(first) == len(wanted) or time.monotonic() - started > max_seconds:
            return first, arrivals, time.monotonic() - started
        await asyncio.sleep(0.25)


async def count_effects(dsn: str, payment_ids: Sequence[str]) -> dict[str, int]:
    connection = await asyncpg.connect(dsn)
    try:
        ids = list(payment_ids)
        deposits = await connection.fetchval(
            "SELECT count(*) FROM deposits WHERE payment_request_id = ANY($1::text[])"
            " AND status = 'COMPLETED'",
            ids,
        )
        transfers = await connection.fetchval(
            "SELECT count(*) FROM ledger_transfers WHERE id = ANY($1::text[])",
            [f"deposit:topremit:{p}" for p in ids],
        )
    finally:
        await connection.close()
    return {"deposits": int(deposits), "ledger_transfers": int(transfers)}


async def run_stage(
    *,
    ports: Sequence[int],
    sink_port: int,
    dsn: str,
    requests: Sequence[bytes],
    payment_ids: Sequence[str],
    concurrency: int | None = None,
    rate: float | None = None,
    max_seconds: float,
    drain_seconds: float,
) -> dict[str, Any]:
    """One load level: send, wait for the webhooks, count deposits, transfers, webhooks."""
    if rate is not None:
        result: RunResult = await paced("127.0.0.1", ports, requests, rate, max_seconds)
    else:
        assert concurrency is not None
        result = await closed_loop("127.0.0.1", ports, requests, concurrency, max_seconds)
    sent_ids = [payment_ids[s.index] for s in result.samples]
    accepted = {payment_ids[s.index]: s.sent for s in result.ok}
    return {
        "concurrency": concurrency,
        "rate": rate,
        "callbacks": result.summary(),
        **await stage_effects(result, accepted, sent_ids, sink_port, dsn, drain_seconds),
    }


async def stage_effects(
    result: RunResult,
    accepted: dict[str, float],
    sent_ids: Sequence[str],
    sink_port: int,
    dsn: str,
    drain_seconds: float,
    *,
    sent: int | None = None,
) -> dict[str, Any]:
    """What a stage's accepted payments became: the webhooks at the sink (waited for),
    their latency from the moment each request was sent, and the deposits, transfers
    and webhooks counted against what was sent (`sent` requests when not every one
    names a payment)."""
    first, arrivals, _waited = await wait_for_webhooks(sink_port, list(accepted), drain_seconds)
    effects = await count_effects(dsn, sent_ids)
    to_webhook = sorted(first[p] - accepted[p] for p in first)
    ours = [(w, p) for w, p, _ in arrivals if p in accepted]
    start = min(accepted.values(), default=0.0)
    last_webhook = max(first.values(), default=start)
    return {
        "statuses": result.statuses(),
        "deposits_per_s": result.summary()["per_second"],
        "end_to_end_per_s": round(len(first) / (last_webhook - start), 1)
        if last_webhook > start
        else 0.0,
        "webhook_latency_p50_ms": percentile_ms(to_webhook, 50),
        "webhook_latency_p99_ms": percentile_ms(to_webhook, 99),
        "webhook_latency_mean_ms": round(statistics.fmean(to_webhook) * 1000, 1)
        if to_webhook
        else 0.0,
        "sent": len(sent_ids) if sent is None else sent,
        "accepted": len(accepted),
        **effects,
        "webhooks_received": len(first),
        "webhook_posts_received": len(ours),
        "distinct_webhook_ids": len({w for w, _ in ours}),
    }
