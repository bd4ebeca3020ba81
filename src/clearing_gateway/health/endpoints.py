from __future__ import annotations

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from starlette.responses import Response

from clearing_gateway.api.deps import RuntimeDep
from clearing_gateway.health.exposition import render
from clearing_gateway.kit.envelope import EnvelopeResponse
from clearing_gateway.kit.errors import ErrorCode

router = APIRouter(tags=["Operations"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> Response:
    return EnvelopeResponse({"status": "ok"})


@router.get("/readyz", summary="Readiness (database reachable)")
async def readyz(runtime: RuntimeDep) -> Response:
    if runtime.draining:
        # Shutting down: the load balancer stops sending, requests in flight finish.
        return EnvelopeResponse(
            {"status": "draining"},
            code=503,
            message=ErrorCode.SERVICE_UNAVAILABLE,
            reason="shutting down",
        )
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return EnvelopeResponse(
            {"status": "unavailable", "database": "unreachable"},
            code=503,
            message=ErrorCode.SERVICE_UNAVAILABLE,
            reason="database: unreachable",
        )
    return EnvelopeResponse({"status": "ok", "database": runtime.engine.dialect.name})


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(runtime: RuntimeDep) -> Response:
    return Response(await render(runtime), media_type=CONTENT_TYPE_LATEST)
