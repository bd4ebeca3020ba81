"""Health, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

import httpx

from clearing_gateway.app import API_TITLE
from tests.conftest import MerchantFixture


async def test_healthz(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json()["data"] == {"status": "ok"}
    assert response.headers["x-request-id"]


async def test_request_id_is_echoed(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


async def test_readyz_checks_database(http: httpx.AsyncClient, backend: str) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 200
    assert response.json()["data"]["database"] == backend


async def test_readyz_unavailable_when_database_is_gone(
    http: httpx.AsyncClient, runtime: object
) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    runtime.engine = create_async_engine(  # type: ignore[attr-defined]
        "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    )
    response = await http.get("/readyz")
    assert response.status_code == 503
    assert response.json()["message"] == "SERVICE_UNAVAILABLE"


async def test_metrics_by_route_and_status(
    http: httpx.AsyncClient, merchant: MerchantFixture
) -> None:
    await merchant.client.get("/v1/users/nobody")
    await http.get("/healthz")
    text = (await http.get("/metrics")).text
    assert (
        'gateway_http_requests_total{method="GET",route="/v1/users/{userId}",status="404"}' in text
    )
    assert (
        'gateway_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz",status="200"}'
        in text
    )


async def test_openapi_and_docs(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()
    assert document["info"]["title"] == API_TITLE == "CACI Clearing Gateway API"
    assert "/v1/users" in document["paths"]
    schemes = document["components"]["securitySchemes"]
    assert {"X-Api-Key", "X-Signature", "X-Timestamp"} <= {s["name"] for s in schemes.values()}
    docs = await http.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
