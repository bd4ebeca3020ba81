"""Every way a merchant request can fail authentication, each with its own message."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.merchants.service import MerchantService
from tests.conftest import PRODUCTION_SETTINGS, MerchantFixture, create_merchant
from tests.support.seed_client import SeedClient, generate_signature

USERS = "/v1/users"


def user_body() -> dict[str, Any]:
    return {
        "requestId": str(uuid.uuid4()),
        "userId": uuid.uuid4().hex[:8],
        "kycName": "Jhon Doe",
        "type": "retail",
    }


def assert_401(response: httpx.Response, message: str) -> None:
    assert response.status_code == 401, response.text
    envelope = response.json()
    assert envelope["code"] == 401
    assert envelope["message"] == message
    assert envelope["reason"]


async def test_seed_signed_request_is_accepted(merchant: MerchantFixture) -> None:
    response = await merchant.client.post(USERS, user_body())
    assert response.status_code == 201


@pytest.mark.parametrize("header", ["X-Api-Key", "X-Signature", "X-Timestamp"])
async def test_missing_header(merchant: MerchantFixture, header: str) -> None:
    body = user_body()
    raw = __import__("json").dumps(body)
    headers = merchant.client.headers("POST", USERS, raw)
    del headers[header]
    response = await merchant.client.http.post(USERS, content=raw, headers=headers)
    assert_401(response, "MISSING_CREDENTIALS")
    assert header in response.json()["reason"]


async def test_unknown_api_key(merchant: MerchantFixture, http: httpx.AsyncClient) -> None:
    stranger = SeedClient(http, "ck_test_unknown", merchant.credentials.api_secret)
    assert_401(await stranger.post(USERS, user_body()), "UNKNOWN_API_KEY")


async def test_wrong_secret_is_invalid_signature(
    merchant: MerchantFixture, http: httpx.AsyncClient
) -> None:
    forger = SeedClient(http, merchant.credentials.api_key, "not-the-secret")
    assert_401(await forger.post(USERS, user_body()), "INVALID_SIGNATURE")


async def test_tampered_body_is_invalid_signature(merchant: MerchantFixture) -> None:
    import json

    body = user_body()
    raw = json.dumps(body)
    headers = merchant.client.headers("POST", USERS, raw)
    tampered = json.dumps({**body, "kycName": "Mallory"})
    response = await merchant.client.http.post(USERS, content=tampered, headers=headers)
    assert_401(response, "INVALID_SIGNATURE")
    # and nothing was created
    assert (await merchant.client.get(f"{USERS}/{body['userId']}")).status_code == 404


async def test_signature_over_other_path_is_rejected(merchant: MerchantFixture) -> None:
    import json

    raw = json.dumps(user_body())
    headers = merchant.client.headers("POST", "/v1/webhooks", raw)
    response = await merchant.client.http.post(USERS, content=raw, headers=headers)
    assert_401(response, "INVALID_SIGNATURE")


async def test_key_order_and_whitespace_do_not_matter(merchant: MerchantFixture) -> None:
    """The canonical body sorts keys: a client may send any key order or spacing."""
    import json

    body = user_body()
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    headers = merchant.client.headers("POST", USERS, canonical)
    sent = json.dumps(dict(reversed(list(body.items()))), indent=2)
    response = await merchant.client.http.post(USERS, content=sent, headers=headers)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("skew_ms", [-301_000, 301_000])
async def test_timestamp_outside_window(merchant: MerchantFixture, skew_ms: int) -> None:
    ts = int(time.time() * 1000) + skew_ms
    response = await merchant.client.post(USERS, user_body(), timestamp=ts)
    assert_401(response, "TIMESTAMP_OUT_OF_WINDOW")


async def test_timestamp_inside_window(merchant: MerchantFixture) -> None:
    ts = int(time.time() * 1000) - 240_000
    assert (await merchant.client.post(USERS, user_body(), timestamp=ts)).status_code == 201


@pytest.mark.parametrize("value", ["yesterday", "1.5e12", "-1"])
async def test_timestamp_not_milliseconds(merchant: MerchantFixture, value: str) -> None:
    import json

    raw = json.dumps(user_body())
    headers = merchant.client.headers("POST", USERS, raw)
    headers["X-Timestamp"] = value
    headers["X-Signature"] = generate_signature(
        "POST", USERS, raw, value, merchant.credentials.api_secret
    )
    response = await merchant.client.http.post(USERS, content=raw, headers=headers)
    # Not a number at all: a malformed request, not a failed authentication.
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 400
    assert response.json()["message"] == "INVALID_TIMESTAMP"


@pytest.mark.parametrize("value", ["1000", "99999999999999999999"])
async def test_well_formed_but_stale_timestamp_stays_401(
    merchant: MerchantFixture, value: str
) -> None:
    import json

    raw = json.dumps(user_body())
    headers = merchant.client.headers("POST", USERS, raw)
    headers["X-Timestamp"] = value
    headers["X-Signature"] = generate_signature(
        "POST", USERS, raw, value, merchant.credentials.api_secret
    )
    response = await merchant.client.http.post(USERS, content=raw, headers=headers)
    assert_401(response, "TIMESTAMP_OUT_OF_WINDOW")


async def test_get_signs_empty_body_and_ignores_query(merchant: MerchantFixture) -> None:
    body = user_body()
    await merchant.client.post(USERS, body)
    path = f"{USERS}/{body['userId']}"
    headers = merchant.client.headers("GET", path, "")
    response = await merchant.client.http.get(path + "?verbose=1", headers=headers)
    assert response.status_code == 200, response.text


async def test_secret_is_encrypted_at_rest(runtime: Runtime, merchant: MerchantFixture) -> None:
    from sqlalchemy import select

    from clearing_gateway.merchants.models import MerchantApiKey

    async with unit_of_work(runtime.sessionmaker) as session:
        stored = (await session.scalars(select(MerchantApiKey))).all()
    assert stored
    for key in stored:
        assert merchant.credentials.api_secret not in key.secret_ciphertext


class TestIpAllowlist:
    async def test_allowed_cidr(self, runtime: Runtime, http: httpx.AsyncClient) -> None:
        issued = await create_merchant(runtime, ips=["127.0.0.0/8"])
        client = SeedClient(http, issued.api_key, issued.api_secret)
        assert (await client.post(USERS, user_body())).status_code == 201

    async def test_other_address_rejected(self, runtime: Runtime, http: httpx.AsyncClient) -> None:
        issued = await create_merchant(runtime, ips=["203.0.113.7"])
        client = SeedClient(http, issued.api_key, issued.api_secret)
        assert_401(await client.post(USERS, user_body()), "IP_NOT_ALLOWED")

    async def test_forwarded_for_ignored_from_untrusted_peer(
        self, runtime: Runtime, http: httpx.AsyncClient
    ) -> None:
        issued = await create_merchant(runtime, ips=["203.0.113.7"])
        client = SeedClient(http, issued.api_key, issued.api_secret)
        response = await client.post(USERS, user_body(), headers={"X-Forwarded-For": "203.0.113.7"})
        assert_401(response, "IP_NOT_ALLOWED")

    async def test_allow_ip_then_accepted(self, runtime: Runtime, http: httpx.AsyncClient) -> None:
        issued = await create_merchant(runtime, ips=["203.0.113.7"])
        client = SeedClient(http, issued.api_key, issued.api_secret)
        assert (await client.post(USERS, user_body())).status_code == 401
        async with unit_of_work(runtime.sessionmaker) as session:
            await MerchantService(runtime.settings).allow_ips(
                session, issued.merchant_id, ["127.0.0.1"], replace=False
            )
        assert (await client.post(USERS, user_body())).status_code == 201


class TestTrustedProxy:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"trusted_proxies": "127.0.0.1/32"}

    async def test_forwarded_for_believed_from_trusted_proxy(
        self, runtime: Runtime, http: httpx.AsyncClient
    ) -> None:
        issued = await create_merchant(runtime, ips=["203.0.113.7"])
        client = SeedClient(http, issued.api_key, issued.api_secret)
        ok = await client.post(USERS, user_body(), headers={"X-Forwarded-For": "203.0.113.7"})
        assert ok.status_code == 201, ok.text
        # a client cannot prepend a whitelisted address to its own
        spoofed = await client.post(
            USERS, user_body(), headers={"X-Forwarded-For": "203.0.113.7, 198.51.100.9"}
        )
        assert_401(spoofed, "IP_NOT_ALLOWED")


class TestProductionAllowlist:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return dict(PRODUCTION_SETTINGS)

    async def test_empty_allowlist_rejects_everyone_in_production(
        self, runtime: Runtime, http: httpx.AsyncClient
    ) -> None:
        issued = await create_merchant(runtime)
        client = SeedClient(http, issued.api_key, issued.api_secret)
        assert_401(await client.post(USERS, user_body()), "IP_NOT_ALLOWED")


class TestPublicPrefix:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"public_path_prefix": "/d"}

    async def test_seed_example_signs_prefixed_path(
        self, app: FastAPI, merchant: MerchantFixture
    ) -> None:
        # Behind a proxy that strips /d: the gateway sees /v1/users, the client signed /d/v1/users.
        import json

        raw = json.dumps(user_body())
        headers = merchant.client.headers("POST", "/d/v1/users", raw)
        stripped = await merchant.client.http.post(USERS, content=raw, headers=headers)
        assert stripped.status_code == 201, stripped.text

    async def test_prefix_kept_by_proxy(self, merchant: MerchantFixture) -> None:
        prefixed = SeedClient(
            merchant.client.http,
            merchant.credentials.api_key,
            merchant.credentials.api_secret,
            path_prefix="/d",
        )
        response = await prefixed.post(USERS, user_body())
        assert response.status_code == 201, response.text


class TestKeyRotation:
    async def test_old_key_works_during_overlap_then_stops(
        self, runtime: Runtime, http: httpx.AsyncClient
    ) -> None:
        issued = await create_merchant(runtime)
        old = SeedClient(http, issued.api_key, issued.api_secret)
        service = MerchantService(runtime.settings)
        async with unit_of_work(runtime.sessionmaker) as session:
            new_creds = await service.rotate_key(
                session, issued.merchant_id, overlap=dt.timedelta(hours=1)
            )
        new = SeedClient(http, new_creds.api_key, new_creds.api_secret)
        assert (await old.post(USERS, user_body())).status_code == 201
        assert (await new.post(USERS, user_body())).status_code == 201
        async with unit_of_work(runtime.sessionmaker) as session:
            await service.rotate_key(session, issued.merchant_id, overlap=dt.timedelta(0))
        assert_401(await old.post(USERS, user_body()), "UNKNOWN_API_KEY")
        assert_401(await new.post(USERS, user_body()), "UNKNOWN_API_KEY")
