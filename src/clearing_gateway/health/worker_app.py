"""The HTTP face of a standalone `clearing-gateway worker`: `/metrics`, `/healthz` and
`/readyz` (503 once it is draining), served on WORKER_METRICS_PORT."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.health.exposition import render

if TYPE_CHECKING:  # the worker serves this app; the app never drives the worker
    from clearing_gateway.jobs.worker import Worker


def worker_app(runtime: Runtime, worker: Worker) -> Starlette:
    async def metrics(_request: Request) -> Response:
        return Response(await render(runtime), media_type=CONTENT_TYPE_LATEST)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "worker": worker.name})

    async def readyz(_request: Request) -> Response:
        if worker.draining:
            return JSONResponse({"status": "draining", "worker": worker.name}, status_code=503)
        return JSONResponse({"status": "ok", "worker": worker.name, "inFlight": worker.in_flight})

    return Starlette(
        routes=[
            Route("/metrics", metrics),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ]
    )
