"""A client generated from /openapi.json by a standard generator (openapi-python-client)
compiles and calls GET /v1/balances, signed by a request hook: the document is usable by
merchants who generate their own clients. Generated code lives in a temporary directory."""

from __future__ import annotations

import asyncio
import compileall
import importlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from caci_gateway.signing import signed_headers
from clearing_gateway.app import create_app
from clearing_gateway.config import Settings
from tests.conftest import MerchantFixture
from tests.support.live_server import LiveServer

PACKAGE = "caci_generated_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Generate once per module from the document the gateway serves at /openapi.json."""
    root = tmp_path_factory.mktemp("generated")
    from tests.conftest import make_settings

    app = create_app(settings=make_settings(f"sqlite:///{root / 'unused.sqlite3'}"))
    spec = root / "openapi.json"
    spec.write_text(json.dumps(app.openapi()))  # what GET /openapi.json returns
    config = root / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatter needed to compile
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(  # noqa: S603 - the dev dependency's own executable
        [
            str(generator),
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield root / PACKAGE
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n.startswith(PACKAGE)]:
            del sys.modules[name]


def test_the_generated_client_compiles(generated: Path) -> None:
    assert compileall.compile_dir(str(generated), quiet=1)
    api = importlib.import_module(f"{PACKAGE}.api.balances.get_balances")
    assert hasattr(api, "sync_detailed")
    # Hand-picked operation ids become the generated module names.
    for module in ("user_management.create_user", "withdrawals.create_withdrawal"):
        importlib.import_module(f"{PACKAGE}.api.{module}")


async def test_the_generated_client_calls_balances_signed_by_a_hook(
    generated: Path, settings: Settings, merchant: MerchantFixture
) -> None:
    credentials = merchant.credentials

    def sign(request: httpx.Request) -> None:
        request.headers.update(
            signed_headers(
                api_key=credentials.api_key,
                api_secret=credentials.api_secret,
                method=request.method,
                path=request.url.path,
                raw_body=request.content.decode("utf-8"),
                timestamp=int(time.time() * 1000),
            )
        )

    server = LiveServer(create_app(settings=settings)).start()
    try:
        client_module: Any = importlib.import_module(f"{PACKAGE}.client")
        get_balances: Any = importlib.import_module(f"{PACKAGE}.api.balances.get_balances")
        client = client_module.Client(
            base_url=server.url, httpx_args={"event_hooks": {"request": [sign]}}
        )
        response = await asyncio.to_thread(get_balances.sync_detailed, client=client)
        assert response.status_code == 200, response.content
        envelope = response.parsed
        assert type(envelope).__name__ == "ProviderBalancesListEnvelope"
        assert (envelope.code, envelope.message, envelope.data) == (200, "SUCCESS", [])

        unsigned = client_module.Client(base_url=server.url)
        denied = await asyncio.to_thread(get_balances.sync_detailed, client=unsigned)
        assert denied.status_code == 401
        assert type(denied.parsed).__name__ == "UnauthorizedError"
        assert denied.parsed.message.value == "MISSING_CREDENTIALS"
    finally:
        await asyncio.to_thread(server.stop)
