"""The users API as the seed describes it, driven by a client written from the seed."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.conftest import MerchantFixture


def new_user(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "requestId": str(uuid.uuid4()),
        "userId": uuid.uuid4().hex[:8],
        "kycName": "Jhon Doe",
        "phone": "6281234567890",
        "email": "john.doe@example.com",
        "type": "retail",
        "nationality": "ID",
        "idType": "ktp",
        "idNumber": "1234567890",
        "whitelistedKycNames": ["Jhon", "Pg"],
        "whitelistedWithdrawalAccounts": [
            {"bankCode": "002", "accountNo": "888801000003301", "accountName": "Jhon Doe"}
        ],
    }
    body.update(overrides)
    return body


async def test_create_get_update_delete(merchant: MerchantFixture) -> None:
    body = new_user()
    created = await merchant.client.post("/v1/users", body)
    assert created.status_code == 201, created.text
    envelope = created.json()
    assert envelope["code"] == 201
    assert envelope["message"] == "SUCCESS"
    assert isinstance(envelope["timestamp"], int)
    data = envelope["data"]
    for field in (
        "userId",
        "kycName",
        "phone",
        "email",
        "type",
        "nationality",
        "idType",
        "idNumber",
        "whitelistedKycNames",
        "whitelistedWithdrawalAccounts",
    ):
        assert data[field] == body[field], field
    assert data["status"] == "active"

    fetched = await merchant.client.get(f"/v1/users/{body['userId']}")
    assert fetched.status_code == 200
    assert fetched.json()["data"]["kycName"] == "Jhon Doe"

    updated = await merchant.client.put(
        f"/v1/users/{body['userId']}",
        {
            "requestId": str(uuid.uuid4()),
            "kycName": "Jhon Doe Updated",
            "whitelistedWithdrawalAccounts": [],
        },
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["reason"] == "User updated successfully"
    after = (await merchant.client.get(f"/v1/users/{body['userId']}")).json()["data"]
    assert after["kycName"] == "Jhon Doe Updated"
    assert after["whitelistedWithdrawalAccounts"] == []
    assert after["email"] == body["email"]  # untouched fields stay

    patched = await merchant.client.patch(
        f"/v1/users/{body['userId']}", {"requestId": str(uuid.uuid4()), "type": "institutional"}
    )
    assert patched.status_code == 200
    assert (await merchant.client.get(f"/v1/users/{body['userId']}")).json()["data"][
        "type"
    ] == "institutional"

    deleted = await merchant.client.delete(
        f"/v1/users/{body['userId']}", {"requestId": str(uuid.uuid4())}
    )
    assert deleted.status_code == 200
    assert deleted.json()["reason"] == "User deleted successfully"
    gone = await merchant.client.get(f"/v1/users/{body['userId']}")
    assert gone.status_code == 404
    assert gone.json()["message"] == "NOT_FOUND"


async def test_delete_signed_over_empty_body_as_seed_says(merchant: MerchantFixture) -> None:
    body = new_user()
    await merchant.client.post("/v1/users", body)
    path = f"/v1/users/{body['userId']}"
    raw = json.dumps({"requestId": str(uuid.uuid4())}, indent=1)
    headers = merchant.client.headers("DELETE", path, "")  # the seed: BODY is "" for DELETE
    response = await merchant.client.http.request(
        "DELETE", path, content=raw.encode(), headers=headers
    )
    assert response.status_code == 200, response.text


async def test_duplicate_user_id_is_409(merchant: MerchantFixture) -> None:
    body = new_user()
    assert (await merchant.client.post("/v1/users", body)).status_code == 201
    again = await merchant.client.post("/v1/users", {**body, "requestId": str(uuid.uuid4())})
    assert again.status_code == 409
    assert again.json()["message"] == "DUPLICATE"
    assert "userId" in again.json()["reason"]


async def test_deleted_user_id_cannot_be_reused(merchant: MerchantFixture) -> None:
    body = new_user()
    await merchant.client.post("/v1/users", body)
    await merchant.client.delete(f"/v1/users/{body['userId']}", {"requestId": "del-1"})
    again = await merchant.client.post("/v1/users", {**body, "requestId": str(uuid.uuid4())})
    assert again.status_code == 409
    update = await merchant.client.put(
        f"/v1/users/{body['userId']}", {"requestId": "upd-1", "kycName": "X"}
    )
    assert update.status_code == 404
    delete_again = await merchant.client.delete(
        f"/v1/users/{body['userId']}", {"requestId": "del-2"}
    )
    assert delete_again.status_code == 404


async def test_users_are_scoped_to_their_merchant(
    merchant: MerchantFixture, other_merchant: MerchantFixture
) -> None:
    body = new_user()
    await merchant.client.post("/v1/users", body)
    path = f"/v1/users/{body['userId']}"
    assert (await other_merchant.client.get(path)).status_code == 404
    assert (
        await other_merchant.client.put(path, {"requestId": "r1", "kycName": "Mallory"})
    ).status_code == 404
    assert (await other_merchant.client.delete(path, {"requestId": "r2"})).status_code == 404
    assert (await other_merchant.client.get(path + "/virtual-accounts")).status_code == 404
    # the other merchant may use the same userId for its own, different person
    mine = await other_merchant.client.post("/v1/users", {**body, "kycName": "Someone Else"})
    assert mine.status_code == 201
    assert (await merchant.client.get(path)).json()["data"]["kycName"] == "Jhon Doe"


async def test_user_virtual_accounts_empty(merchant: MerchantFixture) -> None:
    body = new_user()
    await merchant.client.post("/v1/users", body)
    listed = await merchant.client.get(f"/v1/users/{body['userId']}/virtual-accounts")
    assert listed.status_code == 200
    assert listed.json()["data"] == []


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"type": "corporate"}, "type"),
        ({"nationality": "XX"}, "nationality"),
        ({"nationality": "IDN"}, "nationality"),
        ({"kycName": ""}, "kycName"),
        ({"kycName": 12}, "kycName"),
        ({"userId": "has space"}, "userId"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"whitelistedKycNames": "Jhon"}, "whitelistedKycNames"),
        ({"whitelistedWithdrawalAccounts": [{"bankCode": "002"}]}, "whitelistedWithdrawalAccounts"),
        ({"requestId": 5}, "requestId"),
    ],
)
async def test_invalid_fields_are_named(
    merchant: MerchantFixture, override: dict[str, Any], field: str
) -> None:
    body = new_user(**override)
    response = await merchant.client.post("/v1/users", body)
    assert response.status_code == 422, response.text
    envelope = response.json()
    assert envelope["code"] == 422
    assert envelope["message"] == "VALIDATION_ERROR"
    assert envelope["reason"].startswith(field)
    # nothing was created
    user_id = body.get("userId")
    if isinstance(user_id, str) and " " not in user_id:
        assert (await merchant.client.get(f"/v1/users/{user_id}")).status_code == 404


@pytest.mark.parametrize("missing", ["requestId", "userId", "kycName", "type"])
async def test_missing_required_field(merchant: MerchantFixture, missing: str) -> None:
    body = new_user()
    del body[missing]
    response = await merchant.client.post("/v1/users", body)
    assert response.status_code == 422
    assert response.json()["reason"].startswith(missing)
