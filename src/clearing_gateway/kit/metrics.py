"""Event metrics: what happened in this process (provider calls, callbacks, jobs, webhook
deliveries, ledger checks), counted where it happens.

The metrics live in one module-level registry, so every runtime of a process shares them.
With PROMETHEUS_MULTIPROC_DIR set (before the process starts) prometheus_client keeps their
values in files of that directory, and a scrape of any process sums every process's files
(`health/exposition.py`): `serve --workers N` and separate `worker` processes then report
one truth. Numbers derived from the database (queue depth, stuck withdrawals, open breaks)
are not here: they are read at scrape time (`health/gauges.py`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30)
_LAG_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 14400)

PROVIDER_CALLS = Histogram(
    "gateway_provider_call_duration_seconds",
    "Calls to upstream providers by provider, operation and outcome "
    "(ok, rejected, unavailable, unknown)",
    ["provider", "operation", "outcome"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
CALLBACKS = Counter(
    "gateway_provider_callbacks",
    "Provider callbacks by provider and verdict (accepted, duplicate, rejected, "
    "unconfirmed, failed, throttled)",
    ["provider", "verdict"],
    registry=REGISTRY,
)
JOB_RUNS = Histogram(
    "gateway_job_run_duration_seconds",
    "Outbox job runs by kind and outcome (done, retry, failed)",
    ["kind", "outcome"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES = Counter(
    "gateway_webhook_deliveries",
    "Merchant webhook delivery attempts by event type and outcome (succeeded, failed)",
    ["event_type", "outcome"],
    registry=REGISTRY,
)
WEBHOOK_LAG = Histogram(
    "gateway_webhook_delivery_lag_seconds",
    "From the event being recorded to its first successful delivery",
    ["event_type"],
    buckets=_LAG_BUCKETS,
    registry=REGISTRY,
)
# The last `ledger verify` result any process computed (mostrecent across processes).
LEDGER_FINDINGS = Gauge(
    "gateway_ledger_verify_findings",
    "Findings of the most recent ledger verification (0 = sound)",
    registry=REGISTRY,
    multiprocess_mode="mostrecent",
)
LEDGER_VERIFIED_AT = Gauge(
    "gateway_ledger_verify_last_run_timestamp_seconds",
    "Unix time the ledger was last verified",
    registry=REGISTRY,
    multiprocess_mode="mostrecent",
)

# Inbox statuses (providers/models.CallbackStatus) as the verdicts an operator reads.
_VERDICTS = {
    "applied": "accepted",
    "verified": "accepted",
    "ignored": "accepted",
    "duplicate": "duplicate",
    "rejected": "rejected",
    "received": "unconfirmed",
}


def count_callback(provider: str, status: str) -> None:
    CALLBACKS.labels(provider, _VERDICTS.get(status, status)).inc()


@contextmanager
def provider_call(provider: str, operation: str) -> Iterator[dict[str, str]]:
    """Time one provider call; the caller sets `outcome` in the yielded dict when it
    knows better than "ok" / "unknown" (an exception that escapes counts as unknown)."""
    started = time.perf_counter()
    result = {"outcome": "unknown"}
    try:
        yield result
    finally:
        PROVIDER_CALLS.labels(provider, operation, result["outcome"]).observe(
            time.perf_counter() - started
        )


def record_ledger_verification(findings: int) -> None:
    LEDGER_FINDINGS.set(findings)
    LEDGER_VERIFIED_AT.set(time.time())
