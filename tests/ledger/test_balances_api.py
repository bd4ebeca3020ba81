"""`GET /v1/balances` through a client that signs exactly as the seed says."""

from __future__ import annotations

import uuid

from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import withdrawal_postings
from tests.conftest import MerchantFixture
from tests.ledger.conftest import Books


async def test_a_merchant_with_nothing_gets_an_empty_list(merchant: MerchantFixture) -> None:
    response = await merchant.client.get("/v1/balances")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 200
    assert body["message"] == "SUCCESS"
    assert body["data"] == []


async def test_balances_grouped_by_provider_and_vault(
    merchant: MerchantFixture, other_merchant: MerchantFixture, books: Books
) -> None:
    m: uuid.UUID = merchant.id
    await books.top_up(m, 100_000_000, vault="deposit", provider="topremit")
    await books.top_up(m, 5_000_000, vault="withdrawal", provider="finpay")
    await books.top_up(other_merchant.id, 7, vault="deposit", provider="finan")
    await books.run(
        lambda s: ledger.hold(
            s, "wd:api", withdrawal_postings(m, "finpay", 2_000_000, 500_000), kind="withdrawal"
        )
    )
    response = await merchant.client.get("/v1/balances")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert [entry["provider"] for entry in data] == ["finpay", "topremit"]
    finpay, topremit = data
    (withdrawal,) = finpay["balances"]
    assert withdrawal["vaultType"] == "withdrawal"
    assert withdrawal["currency"] == "IDR"
    assert withdrawal["available"] == "25000.00"
    assert withdrawal["pending"] == "25000.00"
    assert withdrawal["lastUpdated"].endswith("Z")
    (deposit,) = topremit["balances"]
    assert (deposit["vaultType"], deposit["available"], deposit["pending"]) == (
        "deposit",
        "1000000.00",
        "0.00",
    )


async def test_unsigned_request_is_refused(merchant: MerchantFixture) -> None:
    response = await merchant.client.http.get("/v1/balances")
    assert response.status_code == 401
