"""The virtual accounts API over real HTTP against the Topremit sandbox."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.instruments.models import VirtualAccount
from tests.deposits.conftest import Merchant
from tests.providers.conftest import LiveGateway


async def va_count(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(VirtualAccount)) or 0)


async def test_create_get_update_list(live_merchant: Merchant) -> None:
    user = await live_merchant.user()
    created = await live_merchant.client.post(
        "/v1/virtual-accounts",
        {"requestId": "va-1", "userId": user["userId"], "bankCode": "BCA"},
    )
    assert created.status_code == 200, created.text
    envelope = created.json()
    assert envelope["requestId"] == "va-1"
    account = envelope["data"]
    for field in (
        "paymentInstrumentId",
        "userId",
        "bankCode",
        "provider",
        "virtualAccountNo",
        "virtualAccountName",
        "status",
        "expiredDate",
        "createdAt",
        "updatedAt",
    ):
        assert account[field], field
    assert account["bankCode"] == "014"
    assert account["virtualAccountName"] == "Jhon Doe"
    path = f"/v1/virtual-accounts/{account['paymentInstrumentId']}"

    fetched = (await live_merchant.client.get(path)).json()["data"]
    assert fetched == account

    updated = await live_merchant.client.put(
        path,
        {
            "requestId": "va-2",
            "virtualAccountName": "Jhon D",
            "expiredDate": "2099-12-31T23:59:59Z",
        },
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["data"]["virtualAccountName"] == "Jhon D"
    assert updated.json()["data"]["expiredDate"] == "2099-12-31T23:59:59Z"
    patched = await live_merchant.client.patch(
        path, {"requestId": "va-3", "virtualAccountName": "J"}
    )
    assert patched.json()["data"]["virtualAccountName"] == "J"

    listed = await live_merchant.client.get(f"/v1/users/{user['userId']}/virtual-accounts")
    assert [a["paymentInstrumentId"] for a in listed.json()["data"]] == [
        account["paymentInstrumentId"]
    ]


async def test_replayed_create_returns_the_same_va(
    live_merchant: Merchant, runtime: Runtime
) -> None:
    user = await live_merchant.user()
    body = {"requestId": str(uuid.uuid4()), "userId": user["userId"], "bankCode": "503"}
    first = await live_merchant.client.post("/v1/virtual-accounts", body)
    second = await live_merchant.client.post("/v1/virtual-accounts", body)
    assert first.content == second.content
    assert await va_count(runtime) == 1


@pytest.mark.parametrize("bank", ["999", "MANDIRI", "XYZ", "008"])
async def test_unsupported_bank(live_merchant: Merchant, runtime: Runtime, bank: str) -> None:
    user = await live_merchant.user()
    response = await live_merchant.client.post(
        "/v1/virtual-accounts", {"requestId": "r", "userId": user["userId"], "bankCode": bank}
    )
    assert response.status_code == 422
    assert response.json()["message"] == "UNSUPPORTED_BANK"
    assert response.json()["reason"].startswith("bankCode")
    assert await va_count(runtime) == 0


async def test_unknown_or_deleted_user_gets_no_va(
    live_merchant: Merchant, runtime: Runtime
) -> None:
    unknown = await live_merchant.client.post(
        "/v1/virtual-accounts", {"requestId": "r1", "userId": "ghost", "bankCode": "014"}
    )
    assert unknown.status_code == 404
    user = await live_merchant.user()
    await live_merchant.client.delete(f"/v1/users/{user['userId']}", {"requestId": "d1"})
    deleted = await live_merchant.client.post(
        "/v1/virtual-accounts", {"requestId": "r2", "userId": user["userId"], "bankCode": "014"}
    )
    assert deleted.status_code == 404
    assert await va_count(runtime) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expiredDate": "2001-01-01T00:00:00Z"}, "expiredDate"),
        ({"expiredDate": "tomorrow"}, "expiredDate"),
        ({"virtualAccountName": None}, "virtualAccountName"),
    ],
)
async def test_bad_update(live_merchant: Merchant, body: dict[str, Any], field: str) -> None:
    user = await live_merchant.user()
    account = await live_merchant.virtual_account(user["userId"])
    response = await live_merchant.client.put(
        f"/v1/virtual-accounts/{account['paymentInstrumentId']}", {"requestId": "u", **body}
    )
    assert response.status_code == 422, response.text
    assert response.json()["reason"].startswith(field)


async def test_other_merchants_va_is_invisible(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    from tests.conftest import create_merchant
    from tests.support.seed_client import SeedClient

    user = await live_merchant.user()
    account = await live_merchant.virtual_account(user["userId"])
    issued = await create_merchant(runtime, name="Other")
    other = SeedClient(live_merchant.client.http, issued.api_key, issued.api_secret)
    path = f"/v1/virtual-accounts/{account['paymentInstrumentId']}"
    assert (await other.get(path)).status_code == 404
    assert (await other.put(path, {"requestId": "x", "virtualAccountName": "M"})).status_code == 404


async def test_provider_down_answers_503_and_creates_nothing(
    live_merchant: Merchant, gateway: LiveGateway, runtime: Runtime
) -> None:
    user = await live_merchant.user()
    await gateway.control("topremit", "faults", {"mode": "5xx", "count": 5})
    response = await live_merchant.client.post(
        "/v1/virtual-accounts", {"requestId": "r", "userId": user["userId"], "bankCode": "014"}
    )
    assert response.status_code == 503
    assert response.json()["message"] == "PROVIDER_UNAVAILABLE"
    assert await va_count(runtime) == 0


async def test_payment_instruments(live_merchant: Merchant) -> None:
    response = await live_merchant.client.get("/v1/payment-instruments")
    assert response.status_code == 200
    grouped = {g["provider"]: g["instruments"] for g in response.json()["data"]}
    va = next(i for i in grouped["topremit"] if i["type"] == "VA")
    assert va["bankCodes"] == ["002", "014", "503"]
    assert va["currency"] == "IDR"
    assert va["status"] == "ACTIVE"
    assert any(i["type"] == "QRIS" for i in grouped["topremit"])
    assert any(i["type"] == "DISBURSEMENT" for i in grouped["finpay"])
