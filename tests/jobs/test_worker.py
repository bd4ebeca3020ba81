"""The outbox: enqueue in the caller's transaction, claim, lease, retry, schedule."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from clearing_gateway import jobs
from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.jobs import repository
from clearing_gateway.jobs.models import Job, JobStatus
from clearing_gateway.jobs.worker import Worker
from tests.support.clock import ManualClock


class Boom(Exception):
    pass


@pytest.fixture
def registry() -> jobs.JobRegistry:
    return jobs.JobRegistry()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def make_worker(
    runtime: Runtime, registry: jobs.JobRegistry, clock: ManualClock, **kw: object
) -> Worker:
    return Worker(runtime, jobs=registry, clock=clock, poll_interval=0.02, **kw)  # type: ignore[arg-type]


async def enqueue(
    runtime: Runtime, kind: str, payload: dict[str, object] | None = None, **kw: object
) -> uuid.UUID | None:
    async with unit_of_work(runtime.sessionmaker) as session:
        return await jobs.enqueue(session, kind, payload or {}, **kw)  # type: ignore[arg-type]


async def load(runtime: Runtime, job_id: uuid.UUID) -> Job:
    async with runtime.sessionmaker() as session:
        job = await repository.get(session, job_id)
    assert job is not None
    return job


async def test_job_runs_once_after_commit(
    runtime: Runtime, registry: jobs.JobRegistry, clock: ManualClock
) -> None:
    seen: list[dict[str, object]] = []

    @registry.handler("test.echo")
    async def echo(_runtime: Runtime, job: Job) -> None:
        seen.append(job.payload)

    job_id = await enqueue(runtime, "test.echo", {"n": 1})
    assert job_id is not None
    worker = make_worker(runtime, registry, clock)
    assert await worker.run_until_idle() == 1
    assert await worker.run_until_idle() == 0
    assert seen == [{"n": 1}]
    job = await load(runtime, job_id)
    assert (job.status, job.attempts, job.last_error) == (JobStatus.DONE, 1, None)
    assert job.finished_at is not None


async def test_rolled_back_transaction_leaves_no_job(runtime: Runtime) -> None:
    async def enqueue_then_fail() -> None:
        async with unit_of_work(runtime.sessionmaker) as session:
            await jobs.enqueue(session, "test.never", {})
            raise Boom

    with pytest.raises(Boom):
        await enqueue_then_fail()
    async with runtime.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 0


async def test_dedupe_key_enqueues_once(runtime: Runtime) -> None:
    first = await enqueue(runtime, "test.once", dedupe_key="k-1")
    second = await enqueue(runtime, "test.once", dedupe_key="k-1")
    assert first is not None
    assert second is None


async def test_failures_back_off_then_fail(
    runtime: Runtime, registry: jobs.JobRegistry, clock: ManualClock
) -> None:
    @registry.handler("test.broken", max_attempts=3)
    async def broken(_runtime: Runtime, _job: Job) -> None:
        raise Boom("upstream said no")

    job_id = await enqueue(runtime, "test.broken")
    assert job_id is not None
    worker = make_worker(runtime, registry, clock)
    for attempt in (1, 2):
        assert await worker.run_until_idle() == 1
        job = await load(runtime, job_id)
        assert job.status == JobStatus.PENDING
        assert job.attempts == attempt
        assert job.last_error == "Boom: upstream said no"
        assert job.run_at > clock()  # backed off: not due yet
        assert await worker.run_until_idle() == 0
        clock.advance(3600)
    assert await worker.run_until_idle() == 1
    job = await load(runtime, job_id)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 3)
    clock.advance(86400)
    assert await worker.run_until_idle() == 0


async def test_retry_and_give_up_are_the_handlers_choice(
    runtime: Runtime, registry: jobs.JobRegistry, clock: ManualClock
) -> None:
    @registry.handler("test.later")
    async def later(_runtime: Runtime, job: Job) -> None:
        if job.attempts == 1:
            raise jobs.Retry(dt.timedelta(seconds=90), "not yet")

    @registry.handler("test.hopeless")
    async def hopeless(_runtime: Runtime, _job: Job) -> None:
        raise jobs.GiveUp("account closed")

    later_id = await enqueue(runtime, "test.later")
    hopeless_id = await enqueue(runtime, "test.hopeless")
    assert later_id
    assert hopeless_id
    worker = make_worker(runtime, registry, clock)
    before = clock()
    assert await worker.run_until_idle() == 2
    job = await load(runtime, later_id)
    assert job.status == JobStatus.PENDING
    assert job.last_error == "not yet"
    assert dt.timedelta(seconds=89) < job.run_at - before < dt.timedelta(seconds=100)
    failed = await load(runtime, hopeless_id)
    assert (failed.status, failed.last_error) == (JobStatus.FAILED, "account closed")
    clock.advance(91)
    assert await worker.run_until_idle() == 1
    assert (await load(runtime, later_id)).status == JobStatus.DONE


async def test_unknown_kind_is_retried_not_lost(
    runtime: Runtime, registry: jobs.JobRegistry, clock: ManualClock
) -> None:
    job_id = await enqueue(runtime, "test.from_a_newer_release")
    assert job_id is not None
    await make_worker(runtime, registry, clock).run_until_idle()
    job = await load(runtime, job_id)
    assert job.status == JobStatus.PENDING
    assert "no handler" in (job.last_error or "")


async def test_crashed_worker_lease_expires_and_job_reruns(
    runtime: Runtime, registry: jobs.JobRegistry, clock: ManualClock
) -> None:
    started = asyncio.Event()
    runs: list[int] = []

    @registry.handler("test.slow")
    async def slow(_runtime: Runtime, job: Job) -> None:
        runs.append(job.attempts)
        started.set()
        if job.attempts == 1:
            await asyncio.sleep(30)

    job_id = await enqueue(runtime, "test.slow")
    assert job_id is not None
    crashed = make_worker(runtime, registry, clock, lease=dt.timedelta(seconds=60))
    crashed.start()
    await asyncio.wait_for(started.wait(), 5)
    await crashed.abandon()
    job = await load(runtime, job_id)
    assert job.status == JobStatus.RUNNING  # nothing recorded: the process "died"

    survivor = make_worker(runtime, registry, clock)
    assert await survivor.run_until_idle() == 0  # still leased
    clock.advance(61)
    assert await survivor.run_until_idle() == 1
    assert runs == [1, 2]
    assert (await load(runtime, job_id)).status == JobStatus.DONE


async def test_stale_worker_cannot_overwrite_a_newer_claim(
    runtime: Runtime, clock: ManualClock
) -> None:
    job_id = await enqueue(runtime, "test.any")
    assert job_id is not None
    first, second = uuid.uuid4(), uuid.uuid4()
    async with unit_of_work(runtime.sessionmaker) as session:
        now = clock()
        await repository.claim_due(
            session, now=now, limit=1, lease_until=now, worker="a", token=first
        )
    async with unit_of_work(runtime.sessionmaker) as session:
        claimed = await repository.claim_due(
            session,
            now=clock(),
            limit=1,
            lease_until=clock() + dt.timedelta(minutes=1),
            worker="b",
            token=second,
        )
        assert [job.id for job in claimed] == [job_id]
    async with unit_of_work(runtime.sessionmaker) as session:
        assert not await repository.finish(
            session, job_id, first, status=JobStatus.DONE, now=clock()
        )
        assert await repository.finish(session, job_id, second, status=JobStatus.DONE, now=clock())


async def test_periodic_task_is_enqueued_once_per_period(
    runtime: Runtime, registry: jobs.JobRegistry, clock: ManualClock
) -> None:
    runs: list[str] = []

    @registry.handler("test.tick", every=dt.timedelta(hours=1))
    async def tick(_runtime: Runtime, _job: Job) -> None:
        runs.append("tick")

    one, two = make_worker(runtime, registry, clock), make_worker(runtime, registry, clock)
    for worker in (one, two, one):
        await worker._schedule_periodic()
    async with runtime.sessionmaker() as session:
        assert len(await repository.by_kind(session, "test.tick")) == 1
    clock.advance(3600)
    await two._schedule_periodic()
    assert await one.run_until_idle() == 2
    assert runs == ["tick", "tick"]


async def test_per_key_limit_bounds_jobs_in_flight(
    runtime: Runtime, registry: jobs.JobRegistry, clock: ManualClock
) -> None:
    in_flight: Counter[str] = Counter()
    peak: Counter[str] = Counter()

    @registry.handler("test.keyed")
    async def keyed(_runtime: Runtime, job: Job) -> None:
        key = str(job.payload["key"])
        in_flight[key] += 1
        peak[key] = max(peak[key], in_flight[key])
        await asyncio.sleep(0.05)
        in_flight[key] -= 1

    for n in range(6):
        await enqueue(runtime, "test.keyed", {"key": "a"}, concurrency_key="a")
        await enqueue(runtime, "test.keyed", {"key": f"b{n}"}, concurrency_key=f"b{n}")
    worker = make_worker(runtime, registry, clock, concurrency=8, per_key_limit=2)
    assert await worker.run_until_idle() == 12
    # The bound holds; how often two "a" jobs overlap depends on scheduling.
    assert 1 <= peak["a"] <= 2
    async with runtime.sessionmaker() as session:
        attempts = await session.scalars(select(Job.attempts))
        assert set(attempts) == {1}  # handing back over-limit jobs is not an attempt


@pytest.mark.postgres_only
async def test_concurrent_workers_never_run_a_job_twice(
    runtime: Runtime, registry: jobs.JobRegistry, clock: ManualClock
) -> None:
    handled: list[str] = []

    @registry.handler("test.count")
    async def count(_runtime: Runtime, job: Job) -> None:
        await asyncio.sleep(0.005)
        handled.append(str(job.payload["n"]))

    async with unit_of_work(runtime.sessionmaker) as session:
        for n in range(120):
            await jobs.enqueue(session, "test.count", {"n": n})
    workers = [make_worker(runtime, registry, clock, concurrency=5) for _ in range(4)]
    results = await asyncio.gather(*(w.run_until_idle() for w in workers))
    assert sum(results) == 120
    assert sorted(handled, key=int) == [str(n) for n in range(120)]
    assert sum(1 for r in results if r > 0) >= 2  # the work really was shared


@pytest.mark.postgres_only
async def test_a_committed_job_wakes_a_listening_worker_without_a_poll(
    runtime: Runtime, registry: jobs.JobRegistry, clock: ManualClock
) -> None:
    ran = asyncio.Event()

    @registry.handler("test.wake")
    async def wake(_runtime: Runtime, _job: Job) -> None:
        ran.set()

    # An hour between polls: only the jobs table's NOTIFY can start this job.
    worker = Worker(runtime, jobs=registry, clock=clock, poll_interval=3600)
    worker.start()
    try:
        await asyncio.wait_for(worker.listening.wait(), 30)
        await asyncio.sleep(0)  # the loop's first claim found nothing and is waiting
        await enqueue(runtime, "test.wake")
        await asyncio.wait_for(ran.wait(), 30)
    finally:
        await worker.stop()
    assert worker.processed == 1


@pytest.mark.postgres_only
async def test_a_rolled_back_job_wakes_nothing_and_runs_nothing(
    runtime: Runtime, registry: jobs.JobRegistry, clock: ManualClock
) -> None:
    seen: list[str] = []

    @registry.handler("test.never")
    async def never(_runtime: Runtime, job: Job) -> None:
        seen.append(job.kind)

    class Abandon(Exception):
        pass

    async def abandoned() -> None:
        async with unit_of_work(runtime.sessionmaker) as session:
            await jobs.enqueue(session, "test.never", {})
            raise Abandon

    with pytest.raises(Abandon):
        await abandoned()
    worker = make_worker(runtime, registry, clock)
    assert await worker.run_until_idle() == 0
    assert seen == []


async def test_outcomes_finishing_together_are_written_in_one_transaction(
    runtime: Runtime,
    registry: jobs.JobRegistry,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = asyncio.Event()
    started = 0

    @registry.handler("test.together")
    async def together(_runtime: Runtime, _job: Job) -> None:
        nonlocal started
        started += 1
        await release.wait()

    ids = [await enqueue(runtime, "test.together", {"n": n}) for n in range(12)]
    sessions: list[int] = []  # the transaction each outcome was written in
    real_finish = repository.finish

    async def finish(session: Any, *args: Any, **kwargs: Any) -> bool:
        sessions.append(id(session))
        return await real_finish(session, *args, **kwargs)

    worker = make_worker(runtime, registry, clock, concurrency=12)
    worker.start()
    try:
        while started < 12:
            await asyncio.sleep(0.01)
        monkeypatch.setattr(repository, "finish", finish)
        release.set()  # twelve runs end in the same instant
        while worker.processed < 12:
            await asyncio.sleep(0.01)
    finally:
        await worker.stop(grace=5)
    # The first outcome is written at once; the ones that finished meanwhile share the
    # next transaction (one COMMIT, not eleven).
    assert len(sessions) == 12
    assert len(set(sessions)) <= 2
    for job_id in ids:
        assert job_id is not None
        assert (await load(runtime, job_id)).status == JobStatus.DONE


async def test_an_outcome_that_cannot_be_written_leaves_the_job_to_run_again(
    runtime: Runtime,
    registry: jobs.JobRegistry,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs: list[int] = []

    @registry.handler("test.unrecorded")
    async def unrecorded(_runtime: Runtime, job: Job) -> None:
        runs.append(job.attempts)

    job_id = await enqueue(runtime, "test.unrecorded")
    assert job_id is not None
    real_finish = repository.finish

    async def broken(*_args: Any, **_kwargs: Any) -> bool:
        raise ConnectionError("database went away")

    worker = make_worker(runtime, registry, clock, lease=dt.timedelta(seconds=60))
    monkeypatch.setattr(repository, "finish", broken)
    assert await worker.run_until_idle() == 0  # ran, but nothing was recorded
    assert (await load(runtime, job_id)).status == JobStatus.RUNNING
    monkeypatch.setattr(repository, "finish", real_finish)
    clock.advance(61)  # the lease ends: the job is due again (at least once, never lost)
    assert await worker.run_until_idle() == 1
    assert runs == [1, 2]
    assert (await load(runtime, job_id)).status == JobStatus.DONE
