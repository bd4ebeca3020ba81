"""Property-based fuzzing of the merchant API from its own /openapi.json (schemathesis).

Every operation gets generated requests, signed the way the seed tells merchants to
sign, sent over real HTTP to a live gateway. Two properties must hold for all of them:
no 5xx, and every documented response matches its schema. The seed is fixed, so a CI run
is reproducible; FUZZ_EXAMPLES (per operation) sets the budget, `make fuzz` raises it.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from clearing_gateway.app import build_runtime, create_app
from clearing_gateway.config import Settings
from clearing_gateway.merchants.service import IssuedCredentials
from tests.conftest import create_merchant
from tests.support.live_server import LiveServer, bind_free_socket, socket_url
from tests.support.seed_client import generate_signature

pytestmark = pytest.mark.timeout(900)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "70"))  # x ~29 operations ≥ 2,000
SEED = int(os.environ.get("FUZZ_SEED", "20261130"))


@pytest.fixture
def live_socket() -> Iterator[socket.socket]:
    sock = bind_free_socket()
    yield sock
    sock.close()


@pytest.fixture
def settings_overrides(live_socket: socket.socket) -> dict[str, Any]:
    return {"public_base_url": socket_url(live_socket), "simulator_wait_seconds": 0.5}


def issue_credentials(settings: Settings) -> IssuedCredentials:
    async def issue() -> IssuedCredentials:
        runtime = build_runtime(settings)
        try:
            return await create_merchant(runtime)
        finally:
            await runtime.aclose()

    return asyncio.run(issue())


def signed_headers(case: Any, credentials: IssuedCredentials) -> dict[str, str]:
    body = case.body
    raw = "" if body is None or type(body).__name__ == "NotSet" else json.dumps(body)
    stamp = str(int(time.time() * 1000))
    path = unquote(case.formatted_path)
    signed = "" if case.method.upper() == "GET" else raw
    return {
        "X-Api-Key": credentials.api_key,
        "X-Timestamp": stamp,
        "X-Signature": generate_signature(
            case.method.upper(), path, signed, stamp, credentials.api_secret
        ),
    }


def test_no_operation_answers_5xx_or_breaks_its_schema(
    settings: Settings, live_socket: socket.socket
) -> None:
    credentials = issue_credentials(settings)
    server = LiveServer(create_app(settings=settings), live_socket).start()
    failures: list[str] = []
    statuses: dict[int, int] = {}
    cases = 0
    try:
        document = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
        schema = schemathesis.openapi.from_dict(document)
        for result in schema.get_all_operations():
            operation = result.ok()

            @seed(SEED)
            @settings_for_run
            @given(case=operation.as_strategy())
            def run(case: Any) -> None:
                nonlocal cases
                cases += 1
                response = case.call(
                    base_url=server.url, headers=signed_headers(case, credentials), timeout=30
                )
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                try:
                    case.validate_response(
                        response, checks=[not_a_server_error, response_schema_conformance]
                    )
                except Exception as exc:  # a failed check (schemathesis' failure group)
                    failures.append(f"{case.method} {case.formatted_path}: {exc}"[:2000])

            run()
    finally:
        server.stop()
    print(f"fuzz: {cases} cases, statuses {sorted(statuses.items())}")
    assert cases >= EXAMPLES
    # Signed as the seed says: most requests get past authentication.
    assert statuses.get(401, 0) < cases // 2, statuses
    assert failures == [], "\n\n".join(failures[:5])


settings_for_run = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=False,
    suppress_health_check=list(HealthCheck),
)
