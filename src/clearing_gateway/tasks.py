"""Every job handler, imported in one place so a worker knows every kind."""

from clearing_gateway.crosscheck import tasks as crosscheck_tasks
from clearing_gateway.idempotency import tasks as idempotency_tasks
from clearing_gateway.jobs import tasks as jobs_tasks
from clearing_gateway.providers import tasks as providers_tasks
from clearing_gateway.reconciliation import tasks as reconciliation_tasks
from clearing_gateway.settlements import tasks as settlements_tasks
from clearing_gateway.webhooks import tasks as webhooks_tasks
from clearing_gateway.withdrawals import tasks as withdrawals_tasks

__all__ = [
    "crosscheck_tasks",
    "idempotency_tasks",
    "jobs_tasks",
    "providers_tasks",
    "reconciliation_tasks",
    "settlements_tasks",
    "webhooks_tasks",
    "withdrawals_tasks",
]
