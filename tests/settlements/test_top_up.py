"""`POST /v1/simulator/balances/top-up`: a sandbox shortcut that funds a vault directly."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from clearing_gateway.api.runtime import Runtime
from tests.conftest import MerchantFixture
from tests.settlements.conftest import debit_events

PATH = "/v1/simulator/balances/top-up"
BODY = {"provider": "finpay", "vaultType": "withdrawal", "amount": "1000000.00"}


async def withdrawal_vault(merchant: MerchantFixture) -> dict[str, Any]:
    response = await merchant.client.get("/v1/balances")
    assert response.status_code == 200, response.text
    for provider in response.json()["data"]:
        for vault in provider["balances"]:
            if (provider["provider"], vault["vaultType"]) == ("finpay", "withdrawal"):
                return dict(vault)
    return {}


async def test_a_signed_top_up_funds_the_signers_vault_once_per_request_id(
    merchant: MerchantFixture, runtime: Runtime
) -> None:
    body = {**BODY, "requestId": str(uuid.uuid4())}
    first = await merchant.client.post(PATH, body)
    assert first.status_code == 201, first.text
    data = first.json()["data"]
    assert (data["merchantId"], data["amount"], data["available"]) == (
        str(merchant.id),
        "1000000.00",
        "1000000.00",
    )
    again = await merchant.client.post(PATH, body)
    assert again.status_code == 201
    assert again.content == first.content
    assert (await withdrawal_vault(merchant))["available"] == "1000000.00"
    assert await debit_events(runtime, merchant.id) == []  # a credit, not a debit


async def test_an_unsigned_top_up_names_its_merchant(
    merchant: MerchantFixture, http: httpx.AsyncClient
) -> None:
    request_id = str(uuid.uuid4())
    body = {**BODY, "merchantId": str(merchant.id), "requestId": request_id}
    response = await http.post(PATH, json=body)
    assert response.status_code == 201, response.text
    replay = await http.post(PATH, json=body)  # unsigned: the transfer id keeps it once
    assert replay.status_code == 201
    assert (await withdrawal_vault(merchant))["available"] == "1000000.00"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"merchantId": None}, "merchantId: required"),
        ({"merchantId": "acme"}, "merchantId: must be a UUID"),
        ({"provider": "bca"}, "provider: must be one of"),
        ({"vaultType": "savings"}, "vaultType: must be one of"),
        ({"amount": "1e6"}, "amount: must be a decimal string"),
        ({"amount": "0.00"}, "amount: must be greater than zero"),
        ({"amount": "1.001"}, "amount: has more than 2 decimal places"),
        ({"amount": "99999999999999999.00"}, "amount: must not exceed"),
        ({"currency": "usd"}, "currency"),
    ],
)
async def test_bad_top_ups_are_clear_422s(
    merchant: MerchantFixture, http: httpx.AsyncClient, change: dict[str, Any], reason: str
) -> None:
    body = {**BODY, "merchantId": str(merchant.id), **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = await http.post(PATH, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["message"] == "VALIDATION_ERROR"
    assert reason in response.json()["reason"]


async def test_unknown_merchant_and_someone_elses_merchant_are_refused(
    merchant: MerchantFixture, other_merchant: MerchantFixture, http: httpx.AsyncClient
) -> None:
    unknown = await http.post(PATH, json={**BODY, "merchantId": str(uuid.uuid4())})
    assert unknown.status_code == 404
    crossed = await merchant.client.post(PATH, {**BODY, "merchantId": str(other_merchant.id)})
    assert crossed.status_code == 422
    assert crossed.json()["reason"].startswith("merchantId")
    assert await withdrawal_vault(other_merchant) == {}


class TestProduction:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        from tests.conftest import PRODUCTION_SETTINGS

        return dict(PRODUCTION_SETTINGS)

    async def test_top_up_is_404_in_production(self, http: Any, runtime: Runtime) -> None:
        from tests.conftest import create_merchant
        from tests.support.seed_client import SeedClient

        issued = await create_merchant(runtime, ips=["127.0.0.1"])
        client = SeedClient(http, issued.api_key, issued.api_secret)
        response = await client.post(PATH, {**BODY, "requestId": str(uuid.uuid4())})
        assert response.status_code == 404
        assert response.json()["message"] == "NOT_FOUND"
