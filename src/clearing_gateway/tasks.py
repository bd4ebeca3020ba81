"""Every job handler, imported in one place so a worker knows every kind.

Only entry points import this module (app.py, `clearing-gateway worker`, tests): the
domains register their handlers on import and never import the worker or this module,
so task registration flows one way.
"""

from clearing_gateway.crosscheck import tasks as crosscheck_tasks
from clearing_gateway.idempotency import tasks as idempotency_tasks
from clearing_gateway.jobs import tasks as jobs_tasks
from clearing_gateway.jobs.registry import registry
from clearing_gateway.providers import tasks as providers_tasks
from clearing_gateway.reconciliation import tasks as reconciliation_tasks
from clearing_gateway.settlements import tasks as settlements_tasks
from clearing_gateway.webhooks import tasks as webhooks_tasks
from clearing_gateway.withdrawals import tasks as withdrawals_tasks


def load_task_modules() -> list[str]:
    """The job kinds a worker of this process runs: every domain's handlers registered
    themselves when this module imported them."""
    return registry.kinds()


__all__ = [
    "crosscheck_tasks",
    "idempotency_tasks",
    "jobs_tasks",
    "load_task_modules",
    "providers_tasks",
    "reconciliation_tasks",
    "settlements_tasks",
    "webhooks_tasks",
    "withdrawals_tasks",
]
