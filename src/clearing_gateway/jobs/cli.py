"""`clearing-gateway worker`: run the outbox worker until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from typing import Annotated

import typer
import uvicorn

from clearing_gateway.app import build_runtime
from clearing_gateway.config import get_settings
from clearing_gateway.health.worker_app import worker_app
from clearing_gateway.jobs.worker import Worker, load_task_modules
from clearing_gateway.kit.logging import configure_logging


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
            await running.stop()
            if server is not None and served is not None:
                server.should_exit = True
                await served
            await runtime.aclose()

    typer.echo(f"outbox worker on {settings.database_url} (Ctrl-C to stop)", err=True)
    asyncio.run(_main())
