"""`/metrics`: this process's (or, in multiprocess mode, every process's) event metrics,
plus the database-derived gauges, in one Prometheus text page."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.health.repository import Gauges, read_gauges
from clearing_gateway.kit import metrics
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.logging import get_logger

log = get_logger("gateway.metrics")


def multiprocess_dir() -> str | None:
    """prometheus_client's own switch: set before the process starts, it makes every
    metric value a file in this directory."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _Joined(Collector):
    def __init__(self, registries: Iterable[CollectorRegistry]) -> None:
        self.registries = list(registries)

    def collect(self) -> Iterator[Metric]:
        for registry in self.registries:
            yield from registry.collect()


class _Database(Collector):
    def __init__(self, gauges: Gauges | None) -> None:
        self.gauges = gauges

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "gateway_metrics_database_up", "1 when the database gauges below could be read"
        )
        up.add_metric([], 1 if self.gauges is not None else 0)
        yield up
        if self.gauges is None:
            return
        g = self.gauges
        money = ["provider", "status", "method", "currency"]
        yield _family(
            "gateway_deposits",
            "Deposits by provider, status, method",
            money,
            {k: v[0] for k, v in g.deposits.items()},
        )
        yield _family(
            "gateway_deposits_amount_minor",
            "Deposit amounts (minor units)",
            money,
            {k: v[1] for k, v in g.deposits.items()},
        )
        yield _family(
            "gateway_withdrawals",
            "Withdrawals by provider, status, method",
            money,
            {k: v[0] for k, v in g.withdrawals.items()},
        )
        yield _family(
            "gateway_withdrawals_amount_minor",
            "Withdrawal amounts (minor units)",
            money,
            {k: v[1] for k, v in g.withdrawals.items()},
        )
        yield _family(
            "gateway_jobs",
            "Outbox jobs not done, by kind and status (pending, running, failed)",
            ["kind", "status"],
            g.jobs,
        )
        yield _family(
            "gateway_job_oldest_due_age_seconds",
            "Age of the oldest due job, by kind",
            ["kind"],
            g.oldest_due_seconds,
        )
        yield _family(
            "gateway_withdrawals_stuck",
            "Open withdrawals past WITHDRAWAL_STUCK_AFTER_SECONDS",
            ["provider"],
            g.stuck_withdrawals,
        )
        yield _family(
            "gateway_withdrawals_outcome_unknown",
            "Open withdrawals whose submission outcome is unknown",
            ["provider"],
            g.unknown_withdrawals,
        )
        yield _family(
            "gateway_payment_exceptions_open",
            "Unresolved payment exceptions",
            ["provider"],
            g.open_exceptions,
        )
        yield _family(
            "gateway_reconciliation_breaks_open",
            "Open statement reconciliation breaks",
            ["provider", "kind"],
            g.open_breaks,
        )
        yield _family(
            "gateway_provider_callbacks_unprocessed",
            "Inbox rows still `received`",
            ["provider"],
            g.unprocessed_callbacks,
        )


def _family(
    name: str, documentation: str, labels: list[str], values: Mapping[tuple[str, ...], float]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for key, value in sorted(values.items()):
        family.add_metric(list(key), float(value))
    return family


async def render(runtime: Runtime) -> bytes:
    """The exposition of one scrape."""
    try:
        async with runtime.sessionmaker() as session:
            gauges: Gauges | None = await read_gauges(session, utcnow())
    except Exception:
        log.exception("metrics: database gauges unavailable")
        gauges = None
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        MultiProcessCollector(registry)
    else:
        registry.register(_Joined([runtime.registry, metrics.REGISTRY]))
    registry.register(_Database(gauges))
    return generate_latest(registry)
