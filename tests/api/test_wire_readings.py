"""Readings of the API document a merchant may hold, accepted where harmless
(docs/api-conventions.md, "Readings"). Every request is signed with the seed's own
Python function (tests/support/seed_client.py)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest

from tests.conftest import MerchantFixture
from tests.support.bodies import user_body
from tests.support.seed_client import SeedClient, generate_signature


def z(value: dt.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


# --- limit above the maximum is clamped, and the page says so -----------------------------


@pytest.mark.parametrize("path", ["/v1/deposits", "/v1/withdrawals"])
async def test_a_limit_above_the_maximum_is_clamped(merchant: MerchantFixture, path: str) -> None:
    response = await merchant.client.get(path, params={"limit": 5000})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["limit"] == 500
    exact = await merchant.client.get(path, params={"limit": 7})
    assert exact.json()["data"]["limit"] == 7
    for bad in (0, -1):
        refused = await merchant.client.get(path, params={"limit": bad})
        assert refused.status_code == 422, refused.text


async def test_deliveries_limit_is_clamped_too(merchant: MerchantFixture) -> None:
    response = await merchant.client.get("/v1/webhooks/deliveries", params={"limit": 100000})
    assert response.status_code == 200, response.text


# --- startDate more than 90 days back: a clear 422, never a silent empty page -------------


@pytest.mark.parametrize("path", ["/v1/deposits", "/v1/withdrawals"])
async def test_an_old_start_date_alone_is_a_clear_422(merchant: MerchantFixture, path: str) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=120)
    response = await merchant.client.get(path, params={"startDate": z(start)})
    assert response.status_code == 422, response.text
    envelope = response.json()
    assert envelope["message"] == "VALIDATION_ERROR"
    assert envelope["reason"].startswith("startDate")
    assert "90 days" in envelope["reason"]
    # A window in the past, at most 90 days long, is still answered.
    bounded = await merchant.client.get(
        path, params={"startDate": z(start), "endDate": z(start + dt.timedelta(days=30))}
    )
    assert bounded.status_code == 200, bounded.text
    # Within 90 days, startDate alone runs to now.
    recent = await merchant.client.get(
        path, params={"startDate": z(dt.datetime.now(dt.UTC) - dt.timedelta(days=89))}
    )
    assert recent.status_code == 200, recent.text


# --- the seed's `/d` prefix works without configuration ----------------------------------


async def test_the_seed_prefix_routes_and_verifies_unconfigured(merchant: MerchantFixture) -> None:
    credentials = merchant.credentials
    # The seed's example: sent to /d/v1/users, signed over /d/v1/users.
    prefixed = SeedClient(
        merchant.client.http, credentials.api_key, credentials.api_secret, path_prefix="/d"
    )
    body = user_body()
    created = await prefixed.post("/v1/users", body)
    assert created.status_code == 201, created.text
    fetched = await prefixed.get(f"/v1/users/{body['userId']}")
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["data"]["userId"] == body["userId"]

    # Sent to /d/v1/users, signed over /v1/users (the path behind the prefix) ...
    raw = json.dumps(user_body())
    headers = merchant.client.headers("POST", "/v1/users", raw)
    response = await merchant.client.http.post("/d/v1/users", content=raw, headers=headers)
    assert response.status_code == 201, response.text
    # ... and sent to /v1/users, signed over /d/v1/users (a proxy that strips the prefix).
    raw = json.dumps(user_body())
    headers = merchant.client.headers("POST", "/d/v1/users", raw)
    response = await merchant.client.http.post("/v1/users", content=raw, headers=headers)
    assert response.status_code == 201, response.text


async def test_the_seed_prefix_is_not_a_wildcard(merchant: MerchantFixture) -> None:
    raw = json.dumps(user_body())
    headers = merchant.client.headers("POST", "/v1/users", raw)
    wrong = await merchant.client.http.post("/x/v1/users", content=raw, headers=headers)
    assert wrong.status_code == 404, wrong.text


class TestConfiguredPrefixOverrides:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"public_path_prefix": "/gw"}

    async def test_the_configured_prefix_replaces_the_seed_one(
        self, merchant: MerchantFixture
    ) -> None:
        credentials = merchant.credentials
        configured = SeedClient(
            merchant.client.http, credentials.api_key, credentials.api_secret, path_prefix="/gw"
        )
        assert (await configured.post("/v1/users", user_body())).status_code == 201
        seed_style = SeedClient(
            merchant.client.http, credentials.api_key, credentials.api_secret, path_prefix="/d"
        )
        assert (await seed_style.post("/v1/users", user_body())).status_code == 404


# --- lenient input where the seed is silent ----------------------------------------------


async def test_lower_case_nationality_and_written_phone_numbers_are_normalised(
    merchant: MerchantFixture,
) -> None:
    body = user_body(nationality="id", phone="+62 812-3456-7890")
    created = await merchant.client.post("/v1/users", body)
    assert created.status_code == 201, created.text
    user = (await merchant.client.get(f"/v1/users/{body['userId']}")).json()["data"]
    assert (user["nationality"], user["phone"]) == ("ID", "+6281234567890")
    updated = await merchant.client.put(
        f"/v1/users/{body['userId']}",
        {"requestId": str(uuid.uuid4()), "phone": "(0812) 3456 7890", "nationality": " sg "},
    )
    assert updated.status_code == 200, updated.text
    user = (await merchant.client.get(f"/v1/users/{body['userId']}")).json()["data"]
    assert (user["nationality"], user["phone"]) == ("SG", "081234567890")
    # Still refused: what is not a phone number or a country at all.
    for field, value in (("phone", "call me"), ("nationality", "xx")):
        refused = await merchant.client.post("/v1/users", user_body(**{field: value}))
        assert refused.status_code == 422, refused.text
        assert refused.json()["reason"].startswith(field)


async def test_empty_strings_for_optional_fields_are_absent(merchant: MerchantFixture) -> None:
    blank = {"phone": "", "email": "", "nationality": "", "idType": "", "idNumber": " "}
    body = user_body(**blank)
    created = await merchant.client.post("/v1/users", body)
    assert created.status_code == 201, created.text
    user = created.json()["data"]
    assert all(user[field] is None for field in blank)

    path = f"/v1/users/{body['userId']}"
    set_phone = {"requestId": str(uuid.uuid4()), "phone": "6281234567890"}
    assert (await merchant.client.put(path, set_phone)).status_code == 200
    # An update's "" leaves the field as it is, like a field not sent.
    kept = await merchant.client.put(
        path, {"requestId": str(uuid.uuid4()), "phone": "", "kycName": ""}
    )
    assert kept.status_code == 200, kept.text
    user = (await merchant.client.get(path)).json()["data"]
    assert (user["phone"], user["kycName"]) == ("6281234567890", "Jhon Doe")
    # A required field is still required.
    refused = await merchant.client.post("/v1/users", user_body(kycName=""))
    assert refused.status_code == 422, refused.text
    assert refused.json()["reason"].startswith("kycName")


# --- webhookId alongside id; requestId on Get Balances ------------------------------------


async def test_webhook_objects_carry_webhook_id(merchant: MerchantFixture) -> None:
    created = await merchant.client.post(
        "/v1/webhooks",
        {
            "requestId": str(uuid.uuid4()),
            "eventType": "va_payment",
            "url": "https://merchant.example/hooks",
        },
    )
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    assert data["webhookId"] == data["id"]
    listed = (await merchant.client.get("/v1/webhooks")).json()["data"]
    assert [(w["id"], w["webhookId"]) for w in listed] == [(data["id"], data["id"])]
    updated = await merchant.client.put(
        f"/v1/webhooks/{data['webhookId']}",
        {"requestId": str(uuid.uuid4()), "description": "Deposits"},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["data"]["webhookId"] == data["id"]


async def test_get_balances_carries_a_request_id(merchant: MerchantFixture) -> None:
    response = await merchant.client.get("/v1/balances")
    assert response.status_code == 200, response.text
    assert response.json()["requestId"] == response.headers["x-request-id"]
    # The caller's own X-Request-Id is the one echoed.
    headers = merchant.client.headers("GET", "/v1/balances", "")
    headers["X-Request-Id"] = "merchant-trace-42"
    traced = await merchant.client.http.get("/v1/balances", headers=headers)
    assert traced.json()["requestId"] == "merchant-trace-42"


def test_the_seed_function_is_the_one_signing() -> None:
    # Guard: these tests sign with the API document's function, not the gateway's own.
    assert generate_signature.__module__ == "tests.support.seed_client"
