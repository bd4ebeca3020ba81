"""The deposit reconciliation pass is a periodic job every worker knows."""

from __future__ import annotations

import datetime as dt

from clearing_gateway import tasks  # noqa: F401  (registers every handler)
from clearing_gateway.jobs import registry
from clearing_gateway.reconciliation.tasks import DEPOSITS_JOB


def test_deposit_reconciliation_runs_every_minute() -> None:
    spec = registry.get(DEPOSITS_JOB)
    assert spec is not None
    assert spec.every == dt.timedelta(seconds=60)
    assert spec in registry.periodic()
