"""GET /v1/deposits filters: status, user, creation window (90-day rule), provider
transaction time, limit/offset, newest first, per merchant."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.deposits.models import Deposit
from clearing_gateway.instruments.models import VirtualAccount
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.users.models import User
from tests.conftest import MerchantFixture

NOW = utcnow().replace(microsecond=0)


async def seed(
    runtime: Runtime, merchant: MerchantFixture, rows: list[dict[str, Any]]
) -> list[str]:
    ids = []
    async with unit_of_work(runtime.sessionmaker) as session:
        users: dict[str, User] = {}
        for name in {r.get("user", "u1") for r in rows}:
            users[name] = User(merchant_id=merchant.id, user_id=name, kyc_name=name, type="retail")
            session.add(users[name])
        await session.flush()
        for n, row in enumerate(rows):
            user = users[row.get("user", "u1")]
            account = VirtualAccount(
                merchant_id=merchant.id,
                user_pk=user.id,
                user_ref=user.user_id,
                provider="topremit",
                bank_code="014",
                virtual_account_no=f"99{n:08d}",
                virtual_account_name=user.kyc_name,
                provider_reference=f"ref-{n}",
            )
            session.add(account)
            await session.flush()
            deposit = Deposit(
                merchant_id=merchant.id,
                payment_instrument_id=account.id,
                user_pk=user.id,
                user_ref=user.user_id,
                instrument="va",
                provider="topremit",
                bank_code="014",
                virtual_account_no=account.virtual_account_no,
                payment_request_id=f"p-{n}",
                amount=1_000_000,
                fee=0,
                net_amount=1_000_000,
                currency="IDR",
                status=row.get("status", "COMPLETED"),
                trx_date_time=row.get("trx", NOW),
                created_at=row["created"],
            )
            session.add(deposit)
            await session.flush()
            ids.append(str(deposit.id))
    return ids


def z(value: dt.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


async def listing_response(merchant: MerchantFixture, **params: Any) -> Any:
    response = await merchant.client.get("/v1/deposits", params=params)
    return response


async def test_filters_and_order(runtime: Runtime, merchant: MerchantFixture) -> None:
    day = dt.timedelta(days=1)
    ids = await seed(
        runtime,
        merchant,
        [
            {"created": NOW - 1 * day, "user": "u1"},
            {"created": NOW - 2 * day, "user": "u2", "status": "FAILED"},
            {"created": NOW - 3 * day, "user": "u1", "trx": NOW - 10 * day},
            {"created": NOW - 100 * day, "user": "u1"},  # outside the default 90 days
        ],
    )
    everything = (await listing_response(merchant)).json()["data"]
    assert everything["total"] == 3
    assert [t["transactionId"] for t in everything["transactions"]] == ids[:3]  # newest first

    assert (await listing_response(merchant, status="FAILED")).json()["data"]["total"] == 1
    assert (await listing_response(merchant, status="completed")).json()["data"]["total"] == 2
    assert (await listing_response(merchant, userId="u1")).json()["data"]["total"] == 2
    trx = await listing_response(merchant, trxDateTimeEnd=z(NOW - 5 * day))
    assert [t["transactionId"] for t in trx.json()["data"]["transactions"]] == [ids[2]]
    old = await listing_response(merchant, startDate=z(NOW - 120 * day), endDate=z(NOW - 50 * day))
    assert [t["transactionId"] for t in old.json()["data"]["transactions"]] == [ids[3]]

    page = (await listing_response(merchant, limit=1, offset=1)).json()["data"]
    assert page["total"] == 3
    assert page["limit"] == 1
    assert [t["transactionId"] for t in page["transactions"]] == [ids[1]]

    one = await merchant.client.get(f"/v1/deposits/{ids[0]}")
    assert one.json()["data"]["transactionId"] == ids[0]


async def test_total_is_capped(
    runtime: Runtime, merchant: MerchantFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clearing_gateway.kit import listing

    monkeypatch.setattr(listing, "COUNT_CAP", 2)
    await seed(runtime, merchant, [{"created": NOW - dt.timedelta(minutes=n)} for n in range(3)])
    page = (await listing_response(merchant)).json()["data"]
    assert (page["total"], page["totalCapped"], len(page["transactions"])) == (2, True, 3)
    narrow = (await listing_response(merchant, limit=1, offset=2)).json()["data"]
    assert len(narrow["transactions"]) == 1
    monkeypatch.setattr(listing, "COUNT_CAP", 3)
    exact = (await listing_response(merchant)).json()["data"]
    assert (exact["total"], exact["totalCapped"]) == (3, False)


async def test_other_merchant_sees_nothing(
    runtime: Runtime, merchant: MerchantFixture, other_merchant: MerchantFixture
) -> None:
    (deposit_id,) = await seed(runtime, merchant, [{"created": NOW}])
    assert (await listing_response(other_merchant)).json()["data"]["total"] == 0
    assert (await other_merchant.client.get(f"/v1/deposits/{deposit_id}")).status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"startDate": z(NOW - dt.timedelta(days=91)), "endDate": z(NOW)}, "endDate"),
        ({"startDate": "yesterday"}, "startDate"),
        ({"endDate": "2026-01-01T00:00:00"}, "endDate"),
        ({"startDate": z(NOW), "endDate": z(NOW - dt.timedelta(days=1))}, "startDate"),
        ({"limit": 0}, "limit"),
        # A limit above the maximum is clamped (tests/api/test_wire_readings.py); an old
        # startDate alone is a range to now over 90 days.
        ({"startDate": z(NOW - dt.timedelta(days=120))}, "startDate"),
        ({"offset": -1}, "offset"),
        ({"trxDateTimeStart": "nope"}, "trxDateTimeStart"),
    ],
)
async def test_bad_filters(merchant: MerchantFixture, params: dict[str, Any], field: str) -> None:
    response = await listing_response(merchant, **params)
    assert response.status_code == 422, response.text
    assert response.json()["reason"].startswith(field)


async def test_unknown_or_malformed_id(merchant: MerchantFixture) -> None:
    assert (
        await merchant.client.get("/v1/deposits/019d6638-6b62-7130-b90c-e4d1583f9597")
    ).status_code == 404
    malformed = await merchant.client.get("/v1/deposits/not-a-uuid")
    assert malformed.status_code == 422
    assert malformed.json()["reason"].startswith("transactionId")


class TestProduction:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        from tests.conftest import PRODUCTION_SETTINGS

        return dict(PRODUCTION_SETTINGS)

    async def test_simulator_is_404_in_production(self, http: Any, runtime: Runtime) -> None:
        from tests.conftest import create_merchant
        from tests.support.seed_client import SeedClient

        issued = await create_merchant(runtime, ips=["127.0.0.1"])
        client = SeedClient(http, issued.api_key, issued.api_secret)
        response = await client.post(
            "/v1/simulator/deposits/inquiry", {"virtualAccountNo": "1", "bankCode": "014"}
        )
        assert response.status_code == 404
        assert response.json()["message"] == "NOT_FOUND"
        assert (await http.get("/sandbox/topremit/control/callbacks")).status_code == 404
