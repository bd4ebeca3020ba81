"""Behind a proxy that adds PUBLIC_PATH_PREFIX, providers sign the public URL's path:
callback signatures verify over it (and still over the bare path of a direct call)."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.providers.base import PaymentRequest
from clearing_gateway.providers.finan.signing import signature
from clearing_gateway.providers.hub import Providers
from tests.providers.conftest import LiveGateway, settled_inbox
from tests.providers.test_topremit_callback_shapes import field_table_body, post
from tests.support.live_server import socket_url

PREFIX = "/d"


@pytest.fixture
def settings_overrides(live_socket: socket.socket) -> dict[str, Any]:
    return {
        "public_base_url": socket_url(live_socket),
        "public_path_prefix": PREFIX,
        # Connecting to the live server is instant, yet once took over a second late
        # in a single-process run of the whole suite. Read timeouts stay short.
        "provider_connect_timeout_seconds": 5.0,
        "provider_read_timeout_seconds": 1.0,
        "sandbox_settle_delay_seconds": 0.1,
    }


async def test_topremit_callback_signed_over_the_public_path(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    public = await post(gateway, providers, "va", field_table_body(), prefix=PREFIX)
    direct = await post(gateway, providers, "va", field_table_body(paymentId="P-2"))
    assert (public.status_code, direct.status_code) == (200, 200), public.text
    rows = await settled_inbox(runtime, "topremit", 2)
    assert sorted(r.event_key or "" for r in rows) == ["va:P-1", "va:P-2"]


async def test_signed_finan_webhook_through_the_prefix(
    gateway: LiveGateway, providers: Providers, runtime: Runtime
) -> None:
    created = await providers.finan.create_payment_request(
        PaymentRequest(reference="PX-1", amount=2_000_000, currency="IDR", customer_name="Ani")
    )
    await gateway.control("finan", "callbacks/mode", {"mode": "drop"})
    await gateway.control("finan", f"payments/{created.provider_payment_id}/pay", {})
    body = json.dumps(
        {
            "data": {
                "payment_id": created.provider_payment_id,
                "amount": 20000,
                "transaction_code": "TRX1",
                "transaction_at": int(time.time()),
                "reference_code": "PX-1",
            },
            "type": "create_payment",
            "client_id": providers.finan.config.client_id,
        }
    )
    path = f"{PREFIX}/callbacks/finan/webhook"
    stamp = str(int(time.time()))
    answer = await gateway.http.post(
        gateway.url + path,
        content=body,
        headers={
            "x-client-id": providers.finan.config.client_id,
            "x-timestamp": stamp,
            "x-signature": signature(providers.finan.config.secret_key, "POST", path, body, stamp),
        },
    )
    assert answer.status_code == 200, answer.text
    (row,) = await settled_inbox(runtime, "finan", 1)
    assert row.status == "applied"
