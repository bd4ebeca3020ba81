"""`clearing-gateway worker`: run the outbox worker until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from clearing_gateway.app import build_runtime
from clearing_gateway.config import get_settings
from clearing_gateway.jobs.worker import Worker
from clearing_gateway.kit.logging import configure_logging
from clearing_gateway.tasks import load_task_modules


def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Jobs in flight at once (default WORKER_CONCURRENCY)")
    ] = None,
) -> None:
    """Run the outbox worker: webhook deliveries, provider calls, scheduled tasks."""
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    load_task_modules()

    async def _main() -> None:
        runtime = build_runtime(settings)
        running = Worker(runtime, concurrency=concurrency)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        running.start()
        try:
            await stop.wait()
        finally:
            # Graceful: jobs in flight finish (each bounded by its own timeout).
            await running.stop()
            await runtime.engine.dispose()

    typer.echo(f"outbox worker on {settings.database_url} (Ctrl-C to stop)", err=True)
    asyncio.run(_main())
