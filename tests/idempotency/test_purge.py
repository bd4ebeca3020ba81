"""requestId records older than the retention are purged by the periodic job."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select, update

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.idempotency.models import IdempotencyRecord
from clearing_gateway.idempotency.tasks import purge_expired
from clearing_gateway.jobs.models import Job
from clearing_gateway.kit.clock import utcnow
from tests.conftest import MerchantFixture


async def test_old_records_are_purged_recent_kept(
    merchant: MerchantFixture, runtime: Runtime
) -> None:
    for request_id in ("old", "new"):
        body = {
            "requestId": request_id,
            "userId": uuid.uuid4().hex[:8],
            "kycName": "A",
            "type": "retail",
        }
        assert (await merchant.client.post("/v1/users", body)).status_code == 201
    async with unit_of_work(runtime.sessionmaker) as session:
        await session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.request_id == "old")
            .values(created_at=utcnow() - dt.timedelta(hours=49))
        )
    await purge_expired(runtime, Job(kind="idempotency.purge", payload={}))
    async with runtime.sessionmaker() as session:
        left = list(await session.scalars(select(IdempotencyRecord.request_id)))
    assert left == ["new"]
