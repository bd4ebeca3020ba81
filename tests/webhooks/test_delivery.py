"""Delivery over real HTTP to a local receiver: fan-out, signatures, retries, failures."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from standardwebhooks import Webhook as StandardWebhook

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.jobs.worker import Worker
from tests.conftest import MerchantFixture
from tests.support.clock import ManualClock
from tests.support.receiver import Receiver, Reply
from tests.webhooks.conftest import (
    add_webhook,
    compact,
    deliveries,
    pending_deliveries,
    publish,
    va_payment,
)


async def test_fan_out_to_every_active_webhook_with_seed_body_and_signature(
    merchant: MerchantFixture, runtime: Runtime, receiver: Receiver, worker: Worker
) -> None:
    first = await add_webhook(merchant, receiver.url("/a"), headers={"X-Merchant-Token": "t0k"})
    second = await add_webhook(merchant, receiver.url("/b"), description="backup")
    await add_webhook(merchant, receiver.url("/inactive"), isActive=False)
    await add_webhook(merchant, receiver.url("/transfers"), event_type="transfer")

    event = await publish(runtime, merchant.id, "tx-0001")
    await worker.run_until_idle()

    assert [r.path for r in receiver.received()].count("/a") == 1
    assert [r.path for r in receiver.received()].count("/b") == 1
    assert receiver.received("/inactive") == []
    assert receiver.received("/transfers") == []
    expected_body = compact(va_payment("tx-0001", str(merchant.id)))
    for path, webhook in (("/a", first), ("/b", second)):
        (request,) = receiver.received(path)
        assert request.body == expected_body
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"] == "CACI-PG-Webhook/1.0"
        assert request.headers["webhook-id"] == str(event.id)
        # A merchant verifies with the reference library and the secret shown at creation.
        verified = StandardWebhook(webhook["secret"]).verify(request.body, request.headers)
        assert verified["additionalInfo"]["caciTxId"] == "tx-0001"
    assert receiver.received("/a")[0].headers["x-merchant-token"] == "t0k"

    rows = await deliveries(merchant, transactionId="tx-0001")
    assert len(rows) == 2
    assert {row["webhookId"] for row in rows} == {first["id"], second["id"]}
    for row in rows:
        assert (row["status"], row["statusCode"], row["attempt"], row["trigger"]) == (
            "succeeded",
            200,
            1,
            "initial",
        )
        assert row["eventId"] == str(event.id)
        assert row["eventType"] == "va_payment"
        assert row["responseBody"] == '{"ok":true}'
        assert row["nextAttemptAt"] is None


async def test_receiver_down_then_up_gets_the_event_after_retries(
    merchant: MerchantFixture, runtime: Runtime, clock: ManualClock, worker: Worker
) -> None:
    receiver = Receiver()  # its port is known but nothing listens yet
    await add_webhook(merchant, receiver.url())
    event = await publish(runtime, merchant.id, "tx-down")

    await worker.run_until_idle()
    clock.advance(11)
    await worker.run_until_idle()
    rows = await deliveries(merchant, transactionId="tx-down")
    assert [(r["attempt"], r["trigger"], r["status"]) for r in rows] == [
        (1, "initial", "failed"),
        (2, "automatic", "failed"),
    ]
    assert all(r["statusCode"] is None and "Connect" in r["error"] for r in rows)
    assert all(r["nextAttemptAt"] for r in rows)

    receiver.start()
    try:
        assert await worker.run_until_idle() == 0  # the next retry is 60 s away
        clock.advance(61)
        await worker.run_until_idle()
        (request,) = receiver.received()
        assert request.headers["webhook-id"] == str(event.id)
        assert request.body == compact(va_payment("tx-down", str(merchant.id)))
    finally:
        receiver.stop()
    rows = await deliveries(merchant, transactionId="tx-down")
    assert [(r["attempt"], r["status"]) for r in rows][-1] == (3, "succeeded")
    assert await pending_deliveries(runtime) == []


async def test_4xx_5xx_and_timeouts_fail_and_are_retried(
    merchant: MerchantFixture, runtime: Runtime, receiver: Receiver, worker: Worker
) -> None:
    receiver.script("/bad", Reply(status=400, body=b'{"error":"nope"}'))
    receiver.script("/broken", Reply(status=500, body=b"x" * 5000))
    receiver.script("/slow", Reply(delay=3.0))
    receiver.script("/accepted", Reply(status=202))
    hooks = {
        path: await add_webhook(merchant, receiver.url(path))
        for path in ("/bad", "/broken", "/slow", "/accepted", "/created")
    }
    receiver.script("/created", Reply(status=201))
    await publish(runtime, merchant.id, "tx-errors")
    await worker.run_until_idle()

    rows = {r["webhookId"]: r for r in await deliveries(merchant, transactionId="tx-errors")}
    bad, broken, slow = (
        rows[hooks["/bad"]["id"]],
        rows[hooks["/broken"]["id"]],
        rows[hooks["/slow"]["id"]],
    )
    assert (bad["status"], bad["statusCode"], bad["error"]) == ("failed", 400, "HTTP 400")
    assert bad["responseBody"] == '{"error":"nope"}'
    assert (broken["status"], broken["statusCode"]) == ("failed", 500)
    assert broken["responseBody"] == "x" * 2048  # only the first 2 KB is kept
    assert (slow["status"], slow["statusCode"]) == ("failed", None)
    assert "timed out" in slow["error"]
    # The seed's rule: only 200 and 201 count as delivered.
    assert rows[hooks["/accepted"]["id"]]["status"] == "failed"
    assert rows[hooks["/created"]["id"]]["status"] == "succeeded"
    retrying = {job.payload["webhookId"] for job in await pending_deliveries(runtime)}
    assert retrying == {hooks[p]["id"] for p in ("/bad", "/broken", "/slow", "/accepted")}


async def test_429_retry_after_is_honoured(
    merchant: MerchantFixture,
    runtime: Runtime,
    receiver: Receiver,
    clock: ManualClock,
    worker: Worker,
) -> None:
    receiver.script("/hook", Reply(status=429, headers={"Retry-After": "300"}))
    await add_webhook(merchant, receiver.url())
    await publish(runtime, merchant.id, "tx-429")
    started = clock()
    await worker.run_until_idle()

    (job,) = await pending_deliveries(runtime)
    assert job.run_at - started >= dt.timedelta(seconds=299)  # not the scheduled 10 s
    (row,) = await deliveries(merchant, transactionId="tx-429")
    assert (row["statusCode"], row["status"]) == (429, "failed")
    clock.advance(120)
    assert await worker.run_until_idle() == 0
    clock.advance(200)
    await worker.run_until_idle()
    assert len(receiver.received()) == 2
    assert (await deliveries(merchant, transactionId="tx-429"))[-1]["status"] == "succeeded"


async def test_410_gone_deactivates_the_webhook(
    merchant: MerchantFixture, runtime: Runtime, receiver: Receiver, worker: Worker
) -> None:
    receiver.script("/hook", Reply(status=410))
    webhook = await add_webhook(merchant, receiver.url())
    await publish(runtime, merchant.id)
    await worker.run_until_idle()

    assert await pending_deliveries(runtime) == []  # no retries to a retired endpoint
    (listed,) = (await merchant.client.get("/v1/webhooks")).json()["data"]
    assert listed["id"] == webhook["id"]
    assert listed["isActive"] is False
    assert "410" in listed["disabledReason"]
    await publish(runtime, merchant.id)
    await worker.run_until_idle()
    assert len(receiver.received()) == 1


async def test_redirects_are_not_followed(
    merchant: MerchantFixture, runtime: Runtime, receiver: Receiver, worker: Worker
) -> None:
    receiver.script("/hook", Reply(status=302, headers={"Location": receiver.url("/elsewhere")}))
    await add_webhook(merchant, receiver.url())
    await publish(runtime, merchant.id, "tx-302")
    await worker.run_until_idle()
    assert receiver.received("/elsewhere") == []
    (row,) = await deliveries(merchant, transactionId="tx-302")
    assert (row["status"], row["statusCode"]) == ("failed", 302)


async def test_worker_killed_mid_delivery_loses_nothing(
    merchant: MerchantFixture,
    runtime: Runtime,
    receiver: Receiver,
    clock: ManualClock,
) -> None:
    receiver.script("/hook", Reply(delay=5.0))  # the first attempt hangs...
    await add_webhook(merchant, receiver.url())
    event = await publish(runtime, merchant.id, "tx-crash")

    doomed = Worker(runtime, clock=clock, poll_interval=0.02)
    doomed.start()
    await receiver.wait_for(1)
    await doomed.abandon()  # ...and its worker dies before recording anything
    assert await deliveries(merchant, transactionId="tx-crash") == []

    survivor = Worker(runtime, clock=clock, poll_interval=0.02)
    try:
        assert await survivor.run_until_idle() == 0  # still leased to the dead worker
        clock.advance(runtime.settings.job_lease_seconds + 1)
        await survivor.run_until_idle()
    finally:
        await survivor.abandon()
    first, second = receiver.received()
    # At-least-once: the same webhook-id and body, so the merchant can de-duplicate.
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == str(event.id)
    assert first.body == second.body
    rows = await deliveries(merchant, transactionId="tx-crash")
    assert [(r["status"], r["statusCode"]) for r in rows] == [("succeeded", 200)]
    assert await pending_deliveries(runtime) == []


async def test_a_slow_endpoint_does_not_hold_up_others(
    merchant: MerchantFixture, runtime: Runtime, receiver: Receiver, clock: ManualClock
) -> None:
    receiver.always("/slow", Reply(delay=1.5))
    await add_webhook(merchant, receiver.url("/slow"))
    await add_webhook(merchant, receiver.url("/fast"))
    for n in range(4):
        await publish(runtime, merchant.id, f"tx-{n}")

    worker = Worker(runtime, clock=clock, poll_interval=0.02, concurrency=8, per_key_limit=1)
    worker.start()
    try:
        await receiver.wait_for(4, "/fast", timeout=10)
        # Every fast delivery is done while the slow endpoint has at most its first one
        # in flight (all eight are claimed at once since publish fans out, so the slow
        # one may not even have arrived yet): it only ever occupies its own slot.
        assert len(receiver.received("/slow")) <= 1
    finally:
        await worker.abandon()


async def test_manual_retry_endpoint_redelivers_the_latest_event(
    merchant: MerchantFixture,
    other_merchant: MerchantFixture,
    runtime: Runtime,
    receiver: Receiver,
    worker: Worker,
) -> None:
    webhook = await add_webhook(merchant, receiver.url())
    await publish(runtime, merchant.id, "tx-r")
    latest = await publish(runtime, merchant.id, "tx-r")
    await worker.run_until_idle()
    assert len(receiver.received()) == 2

    response = await merchant.client.post(
        "/v1/webhooks/retry", {"requestId": "retry-1", "transactionId": "tx-r"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["requestId"] == "retry-1"
    assert body["data"] == {
        "transactionId": "tx-r",
        "eventId": str(latest.id),
        "eventType": "va_payment",
        "scheduled": [{"webhookId": webhook["id"], "url": receiver.url()}],
    }
    await worker.run_until_idle()
    assert len(receiver.received()) == 3
    assert receiver.received()[-1].headers["webhook-id"] == str(latest.id)
    rows = await deliveries(merchant, transactionId="tx-r", status="succeeded")
    manual = [r for r in rows if r["trigger"] == "manual"]
    assert len(manual) == 1
    assert manual[0]["attempt"] == 2
    assert manual[0]["eventId"] == str(latest.id)

    missing = await merchant.client.post(
        "/v1/webhooks/retry", {"requestId": "retry-2", "transactionId": "tx-unknown"}
    )
    assert missing.status_code == 404
    # Another merchant cannot replay this merchant's notifications.
    foreign = await other_merchant.client.post(
        "/v1/webhooks/retry", {"requestId": "retry-3", "transactionId": "tx-r"}
    )
    assert foreign.status_code == 404
    assert await other_merchant.client.get("/v1/webhooks/deliveries") is not None
    assert (await deliveries(other_merchant)) == []
    unsigned = await merchant.client.http.post(
        "/v1/webhooks/retry", json={"requestId": "retry-4", "transactionId": "tx-r"}
    )
    assert unsigned.status_code == 401
    await worker.run_until_idle()
    assert len(receiver.received()) == 3


async def test_rotated_secret_signs_with_both_during_the_overlap(
    merchant: MerchantFixture, runtime: Runtime, receiver: Receiver, worker: Worker
) -> None:
    webhook = await add_webhook(merchant, receiver.url())
    rotated = await merchant.client.post(
        f"/v1/webhooks/{webhook['id']}/rotate-secret", {"requestId": "rotate-1"}
    )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["data"]["secret"]
    assert new_secret.startswith("whsec_")
    assert new_secret != webhook["secret"]
    assert rotated.json()["data"]["previousSecretExpiresAt"]

    await publish(runtime, merchant.id)
    await worker.run_until_idle()
    (request,) = receiver.received()
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (webhook["secret"], new_secret):
        StandardWebhook(secret).verify(request.body, request.headers)


async def test_deleted_or_deactivated_webhooks_drop_pending_retries(
    merchant: MerchantFixture,
    runtime: Runtime,
    receiver: Receiver,
    clock: ManualClock,
    worker: Worker,
) -> None:
    receiver.script("/hook", Reply(status=500))
    webhook = await add_webhook(merchant, receiver.url())
    await publish(runtime, merchant.id)
    await worker.run_until_idle()
    assert len(await pending_deliveries(runtime)) == 1
    deleted = await merchant.client.delete(f"/v1/webhooks/{webhook['id']}", {"requestId": "del-1"})
    assert deleted.status_code == 200
    clock.advance(11)
    await worker.run_until_idle()
    assert len(receiver.received()) == 1
    assert await pending_deliveries(runtime) == []


async def test_publish_schedules_the_delivery_itself_and_a_late_fan_out_adds_nothing(
    merchant: MerchantFixture, runtime: Runtime, receiver: Receiver, worker: Worker
) -> None:
    from clearing_gateway.db import unit_of_work
    from clearing_gateway.webhooks import service

    await add_webhook(merchant, receiver.url())
    event = await publish(runtime, merchant.id)
    async with runtime.sessionmaker() as session:
        from sqlalchemy import func, select

        from clearing_gateway.jobs.models import Job

        queued = (await session.scalars(select(Job))).all()
        assert [job.kind for job in queued] == [service.DELIVER]
        assert queued[0].payload["eventId"] == str(event.id)
        assert await session.scalar(select(func.count()).select_from(Job)) == 1
    # A fan-out job queued before publish fanned out itself, run twice (crash before its
    # outcome was recorded): the delivery stays scheduled once.
    for _ in range(2):
        async with unit_of_work(runtime.sessionmaker) as session:
            await service.fan_out(session, event.id)
    await worker.run_until_idle()
    assert len(receiver.received()) == 1


async def test_in_process_worker_runs_in_the_app_lifespan(
    merchant: MerchantFixture, runtime: Runtime, receiver: Receiver, app: FastAPI
) -> None:
    assert runtime.settings.worker_in_process  # sandbox default: `make run` delivers
    await add_webhook(merchant, receiver.url())
    await publish(runtime, merchant.id)
    async with app.router.lifespan_context(app):
        await receiver.wait_for(1)
