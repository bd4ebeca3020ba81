"""requestId idempotency: replays byte for byte, conflicts on a different body, and
exactly one execution under real concurrency."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.users.models import User
from tests.conftest import MerchantFixture
from tests.support.bodies import user_body


async def count_users(runtime: Runtime) -> int:
    async with unit_of_work(runtime.sessionmaker) as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def test_replay_returns_first_response_byte_for_byte(
    merchant: MerchantFixture, runtime: Runtime
) -> None:
    body = user_body()
    first = await merchant.client.post("/v1/users", body)
    await asyncio.sleep(0.005)  # a fresh response would carry a later timestamp
    second = await merchant.client.post("/v1/users", body)
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    assert await count_users(runtime) == 1


async def test_replay_ignores_key_order(merchant: MerchantFixture) -> None:
    body = user_body()
    first = await merchant.client.post("/v1/users", body)
    reordered = dict(reversed(list(body.items())))
    second = await merchant.client.post("/v1/users", reordered)
    assert second.content == first.content


async def test_same_request_id_different_body_is_409(
    merchant: MerchantFixture, runtime: Runtime
) -> None:
    body = user_body()
    assert (await merchant.client.post("/v1/users", body)).status_code == 201
    other = await merchant.client.post("/v1/users", {**body, "userId": "someone-else"})
    assert other.status_code == 409
    assert other.json()["message"] == "IDEMPOTENCY_CONFLICT"
    assert other.json()["reason"].startswith("requestId")
    assert await count_users(runtime) == 1


async def test_same_request_id_on_another_endpoint_is_409(merchant: MerchantFixture) -> None:
    body = user_body()
    await merchant.client.post("/v1/users", body)
    update = await merchant.client.put(
        f"/v1/users/{body['userId']}", {"requestId": body["requestId"], "kycName": "New"}
    )
    assert update.status_code == 409
    assert update.json()["message"] == "IDEMPOTENCY_CONFLICT"


async def test_failed_request_does_not_consume_request_id(
    merchant: MerchantFixture, runtime: Runtime
) -> None:
    request_id = str(uuid.uuid4())
    bad = await merchant.client.post("/v1/users", user_body(requestId=request_id, type="bogus"))
    assert bad.status_code == 422
    good = await merchant.client.post("/v1/users", user_body(requestId=request_id))
    assert good.status_code == 201
    assert await count_users(runtime) == 1


async def test_request_ids_are_per_merchant(
    merchant: MerchantFixture, other_merchant: MerchantFixture, runtime: Runtime
) -> None:
    request_id = str(uuid.uuid4())
    a = await merchant.client.post("/v1/users", user_body(requestId=request_id))
    b = await other_merchant.client.post("/v1/users", user_body(requestId=request_id))
    assert a.status_code == b.status_code == 201
    assert a.json()["data"]["userId"] != b.json()["data"]["userId"]
    assert await count_users(runtime) == 2


async def test_concurrent_same_request_id_executes_once(
    merchant: MerchantFixture, runtime: Runtime
) -> None:
    """Ten copies of one request at once: one executes, the rest replay its bytes."""
    body = user_body()
    responses = await asyncio.gather(*(merchant.client.post("/v1/users", body) for _ in range(10)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    executed = [r for r in responses if r.headers.get("idempotent-replayed") != "true"]
    assert len(executed) == 1
    assert await count_users(runtime) == 1


async def test_concurrent_different_bodies_one_wins(
    merchant: MerchantFixture, runtime: Runtime
) -> None:
    request_id = str(uuid.uuid4())
    bodies = [user_body(requestId=request_id) for _ in range(5)]
    responses = await asyncio.gather(*(merchant.client.post("/v1/users", b) for b in bodies))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 409, 409, 409, 409]
    assert await count_users(runtime) == 1
