"""`clearing-gateway worker`: run the outbox worker until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import Iterator
from typing import Annotated, Any

import typer
import uvicorn

from clearing_gateway.app import build_runtime
from clearing_gateway.config import get_settings
from clearing_gateway.health.worker_app import worker_app
from clearing_gateway.jobs import repository
from clearing_gateway.jobs.models import Job, JobStatus
from clearing_gateway.jobs.worker import Worker
from clearing_gateway.kit import tracing
from clearing_gateway.kit.cli import fail, parse_id, run_in_transaction
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.logging import configure_logging
from clearing_gateway.tasks import load_task_modules

jobs_app = typer.Typer(no_args_is_help=True, help="Outbox jobs: failed and stuck ones")


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the worker decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Jobs in flight at once (default WORKER_CONCURRENCY)")
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve /metrics, /healthz, /readyz here (default WORKER_METRICS_PORT)"),
    ] = None,
) -> None:
    """Run the outbox worker: webhook deliveries, provider calls, scheduled tasks."""
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    tracing.configure(settings.otel_enabled, f"{settings.otel_service_name}-worker")
    load_task_modules()
    port = metrics_port if metrics_port is not None else settings.worker_metrics_port

    async def _main() -> None:
        runtime = build_runtime(settings)
        running = Worker(runtime, concurrency=concurrency)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        server: uvicorn.Server | None = None
        served: asyncio.Task[None] | None = None
        if port:
            config = uvicorn.Config(
                worker_app(runtime, running),
                host=settings.worker_metrics_host,
                port=port,
                log_config=None,
                access_log=False,
                lifespan="off",
            )
            server = _QuietServer(config)
            served = asyncio.create_task(server.serve())
        running.start()
        try:
            await stop.wait()
        finally:
            # Graceful: no new claims (readyz turns 503), jobs in flight finish (each
            # bounded by its own timeout), then the HTTP face and the database close.
            await running.stop(grace=settings.shutdown_timeout_seconds)
            if server is not None and served is not None:
                server.should_exit = True
                await served
            await runtime.aclose()

    typer.echo(f"outbox worker on {settings.database_url} (Ctrl-C to stop)", err=True)
    asyncio.run(_main())


def job_out(job: Job) -> dict[str, Any]:
    return {
        "jobId": str(job.id),
        "kind": job.kind,
        "status": job.status,
        "attempts": job.attempts,
        "runAt": job.run_at.isoformat(),
        "createdAt": job.created_at.isoformat(),
        "lockedBy": job.locked_by,
        "lastError": job.last_error,
        "payload": job.payload,
    }


@jobs_app.command("list")
def jobs_list(
    status: Annotated[
        list[str] | None,
        typer.Option(help="pending, running, failed, cancelled or done (repeatable)"),
    ] = None,
    kind: Annotated[str | None, typer.Option(help="Only this job kind")] = None,
    stuck: Annotated[
        bool, typer.Option("--stuck", help="Only overdue ones (expired lease, or due and idle)")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Jobs oldest first; without options the failed ones."""
    statuses = status or ([] if stuck else [JobStatus.FAILED])
    known = {"pending", "running", "failed", "cancelled", "done"}
    if unknown := set(statuses) - known:
        fail(f"unknown status {sorted(unknown)}; one of {sorted(known)}")

    async def _list(session: Any) -> list[dict[str, Any]]:
        found = await repository.listing(
            session, now=utcnow(), statuses=statuses, kind=kind, stuck=stuck, limit=limit
        )
        return [job_out(job) for job in found]

    rows = run_in_transaction(_list)
    if as_json:
        typer.echo(json.dumps(rows))
        return
    if not rows:
        typer.echo("no jobs")
    for row in rows:
        error = f"  {row['lastError'][:120]}" if row["lastError"] else ""
        typer.echo(
            f"{row['jobId']}  {row['kind']}  {row['status']}  attempts={row['attempts']}  "
            f"run_at={row['runAt']}{error}"
        )


@jobs_app.command("retry")
def jobs_retry(job_id: Annotated[str, typer.Argument(help="Job id")]) -> None:
    """Run a failed, cancelled or stuck job again now, with a fresh attempt budget
    (handlers are idempotent: a job that did act is recognised when it runs again)."""
    parsed = parse_id(job_id, "job id")
    if not run_in_transaction(lambda s: repository.requeue(s, parsed, now=utcnow())):
        fail(f"job {parsed} not found, done, or running with a live lease")
    typer.echo(f"job {parsed} is due now")


@jobs_app.command("cancel")
def jobs_cancel(job_id: Annotated[str, typer.Argument(help="Job id")]) -> None:
    """Cancel a pending, failed or stuck job so that it never runs (kept for the record)."""
    parsed = parse_id(job_id, "job id")
    if not run_in_transaction(lambda s: repository.cancel(s, parsed, now=utcnow())):
        fail(f"job {parsed} not found, done, or running with a live lease")
    typer.echo(f"job {parsed} is cancelled")
