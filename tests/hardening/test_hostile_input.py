"""Hostile input gets a 4xx in the API's envelope (or the provider's error shape), changes
nothing, and never a 500: deep JSON, huge integers, U+0000, lone surrogates, non-ASCII
digits; callbacks it hits are left `rejected`, never stuck in `received`."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from sqlalchemy import func, select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.providers.models import CallbackStatus, ProviderCallback
from clearing_gateway.users.models import User
from tests.conftest import MerchantFixture
from tests.support.bodies import user_body
from tests.support.seed_client import generate_signature

DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000
HUGE_INT = "1" * 5000


async def user_count(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


def signed_headers(merchant: MerchantFixture, path: str, raw: str, ts: str) -> dict[str, str]:
    return {
        "X-Api-Key": merchant.credentials.api_key,
        "X-Timestamp": ts,
        "X-Signature": generate_signature("POST", path, raw, ts, merchant.credentials.api_secret),
        "Content-Type": "application/json",
    }


@pytest.mark.parametrize(
    "raw",
    [
        DEEP,
        DEEP_OBJECT,
        '{"requestId": "r", "amount": ' + HUGE_INT + "}",
        '{"requestId": "r", "x": ' + "[" * 200 + "]" * 200 + "}",
    ],
    ids=["deep-array", "deep-object", "huge-int", "nested-200"],
)
async def test_hostile_json_before_authentication_is_400(
    http: httpx.AsyncClient, runtime: Runtime, raw: str
) -> None:
    response = await http.post(
        "/v1/users", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 400
    assert response.json()["message"] == "MALFORMED_JSON"
    assert await user_count(runtime) == 0


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps(user_body(kycName="Jhon\u0000Doe")),
        json.dumps(user_body(requestId="\ud800")),
        json.dumps(user_body(kycName="Jhon \udfff")),
        json.dumps(user_body(**{"extra\u0000key": "x"})),
    ],
    ids=["nul-in-field", "lone-surrogate-request-id", "lone-surrogate-field", "nul-in-key"],
)
async def test_unstorable_strings_are_400_and_change_nothing(
    merchant: MerchantFixture, runtime: Runtime, raw: str
) -> None:
    ts = str(int(time.time() * 1000))
    response = await merchant.client.http.post(
        "/v1/users", content=raw, headers=signed_headers(merchant, "/v1/users", raw, ts)
    )
    assert response.status_code == 400, response.text
    assert response.json()["message"] == "MALFORMED_JSON"
    assert await user_count(runtime) == 0


async def test_nul_in_query_or_path_is_400(merchant: MerchantFixture) -> None:
    response = await merchant.client.get("/v1/deposits?transactionId=a%00b")
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 400


# Header bytes are read as Latin-1, where 0xB2 is "²" and 0xB9 is "¹".
@pytest.mark.parametrize("stamp", ["²", "1700000000000²", "¹²³"])
async def test_non_ascii_digits_in_timestamp_are_refused(
    merchant: MerchantFixture, runtime: Runtime, stamp: str
) -> None:
    raw = json.dumps(user_body())
    headers = {
        name: value.encode("latin-1")
        for name, value in signed_headers(merchant, "/v1/users", raw, stamp).items()
    }
    response = await merchant.client.http.post("/v1/users", content=raw.encode(), headers=headers)
    assert response.status_code == 400, response.text
    envelope = response.json()
    assert (envelope["code"], envelope["message"]) == (400, "INVALID_TIMESTAMP")
    assert "X-Timestamp" in envelope["reason"]
    assert await user_count(runtime) == 0


async def inbox(runtime: Runtime) -> list[ProviderCallback]:
    async with runtime.sessionmaker() as session:
        return list(await session.scalars(select(ProviderCallback)))


@pytest.mark.parametrize("path", ["/callbacks/finpay/disbursement", "/callbacks/finan/webhook"])
@pytest.mark.parametrize(
    "raw",
    [
        DEEP,
        '{"a": ' + HUGE_INT + "}",
        '{"client_id": ' + "9" * 4200 + ', "type": "create_payment", "data": {}}',
        '{"type": "create_payment", "data": {"payment_id": "p", "amount": 1e999}}',
    ],
    ids=["deep", "huge-int", "4200-digit-int", "infinity"],
)
async def test_hostile_callbacks_are_rejected_not_stuck(
    http: httpx.AsyncClient, runtime: Runtime, path: str, raw: str
) -> None:
    response = await http.post(path, content=raw, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    rows = await inbox(runtime)
    assert len(rows) == 1
    assert rows[0].status == CallbackStatus.REJECTED
