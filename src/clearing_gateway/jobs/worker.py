"""The outbox worker: claims due jobs, runs their handlers, records the outcome.

Any number of workers may run against PostgreSQL (claims use SKIP LOCKED); on SQLite
run one (claims are serialised by BEGIN IMMEDIATE, so more would be safe, just slower).
No transaction is held while a handler runs: a claim leases the job by pushing its
`run_at` past the lease, and the outcome is written in a second short transaction.
A worker that dies between the two leaves the job to be claimed again when the lease
ends, so delivery is at-least-once and handlers must be idempotent.

On PostgreSQL the worker also LISTENs on `gateway_jobs`: a trigger on the jobs table
(migration i17a0001) NOTIFYs at every committed INSERT, so a new job is claimed at once
instead of at the next poll; the poll stays as the safety net (a lost connection, a job
whose `run_at` arrives later).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.db import unit_of_work
from clearing_gateway.jobs import repository
from clearing_gateway.jobs.models import Job, JobStatus
from clearing_gateway.jobs.registry import GiveUp, JobRegistry, Retry, registry
from clearing_gateway.kit import tracing
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.kit.metrics import JOB_RUNS

log = get_logger("gateway.jobs")
NOTIFY_CHANNEL = "gateway_jobs"
Clock = Callable[[], dt.datetime]
_ERROR_LIMIT = 2000


def _transaction_of(job: Job) -> str | None:
    """The payment a job is about, for its trace span (payload naming varies by kind)."""
    for key in ("transactionId", "withdrawalId", "depositId"):
        value = job.payload.get(key)
        if isinstance(value, str):
            return value
    return None


@dataclass
class _Outcome:
    """A finished run waiting to be written; `recorded` resolves to finish()'s answer,
    or None when the write failed."""

    job_id: uuid.UUID
    token: uuid.UUID
    status: str
    run_at: dt.datetime | None
    error: str | None
    recorded: asyncio.Future[bool | None]


class Worker:
    def __init__(
        self,
        runtime: Runtime,
        *,
        jobs: JobRegistry | None = None,
        name: str | None = None,
        clock: Clock = utcnow,
        concurrency: int | None = None,
        per_key_limit: int | None = None,
        poll_interval: float | None = None,
        lease: dt.timedelta | None = None,
    ) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.jobs = jobs if jobs is not None else registry
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.clock = clock
        self.concurrency = concurrency or settings.worker_concurrency
        self.per_key_limit = per_key_limit or settings.worker_per_key_limit
        self.poll_interval = poll_interval or settings.worker_poll_interval_seconds
        self.lease = lease or dt.timedelta(seconds=settings.job_lease_seconds)
        self.processed = 0
        self._in_flight: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._tokens: dict[uuid.UUID, uuid.UUID] = {}
        self._keys: Counter[str] = Counter()
        self._periodic_slots: dict[str, int] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._outcomes: list[_Outcome] = []
        self._recorder: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()  # set while LISTEN is active (PostgreSQL)

    # --- lifecycle -------------------------------------------------------------------

    @property
    def draining(self) -> bool:
        """True once `stop` was asked for: no new claims, jobs in flight finishing."""
        return self._stopping

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def start(self) -> None:
        """Run the loop in the background of the current event loop."""
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name=f"worker {self.name}")
        if self.runtime.settings.worker_listen and self.runtime.engine.dialect.name == (
            "postgresql"
        ):
            self._listener = asyncio.create_task(self._listen(), name=f"listen {self.name}")

    async def stop(self, grace: float | None = None) -> None:
        """Stop claiming, let the jobs in flight finish (at most `grace` seconds when
        given), release resources. Jobs still running after the grace period are
        cancelled and handed back due, so another worker takes them at once instead of
        waiting for their lease to end."""
        self._stopping = True
        self._wake.set()
        await self._stop_listening()
        if self._task is not None:
            await self._task
            self._task = None
        if self._in_flight:
            await asyncio.wait(list(self._in_flight.values()), timeout=grace)
        if self._in_flight:
            await self._release_unfinished()
        await self.runtime.close_resources()

    async def _release_unfinished(self) -> None:
        tokens = {job_id: self._tokens[job_id] for job_id in self._in_flight}
        tasks = list(self._in_flight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        by_token: dict[uuid.UUID, list[uuid.UUID]] = {}
        for job_id, token in tokens.items():
            by_token.setdefault(token, []).append(job_id)
        try:
            async with unit_of_work(self.runtime.sessionmaker) as session:
                for token, ids in by_token.items():
                    await repository.release(session, ids, token, now=self.clock())
        except Exception:
            # Their leases end anyway: the jobs become due again, later.
            log.exception("could not release unfinished jobs", worker=self.name)
            return
        log.warning("released unfinished jobs at shutdown", worker=self.name, count=len(tokens))

    async def abandon(self) -> None:
        """Drop everything without recording outcomes, as a crashed process would."""
        await self._stop_listening()
        tasks = [*self._in_flight.values(), *([self._task] if self._task else [])]
        if self._recorder is not None:  # outcomes not yet written stay unwritten
            tasks.append(self._recorder)
        self._outcomes = []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None
        await self.runtime.close_resources()

    async def run(self) -> None:
        log.info("worker started", worker=self.name, kinds=self.jobs.kinds())
        while not self._stopping:
            # Cleared before the claim, not after: a wake-up (NOTIFY, a finished job)
            # arriving while the claim runs is kept and claims again at once.
            self._wake.clear()
            try:
                await self._schedule_periodic()
                if await self._claim_batch():
                    continue  # a full batch: more may be due right now
            except Exception:
                log.exception("worker loop failed; retrying", worker=self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
        log.info("worker stopped", worker=self.name)

    async def _listen(self) -> None:
        """LISTEN on a connection of its own; reconnects after a poll interval if lost."""
        while not self._stopping:
            try:
                async with self.runtime.engine.connect() as connection:
                    raw = await connection.get_raw_connection()
                    driver = raw.driver_connection
                    assert driver is not None
                    lost = asyncio.Event()

                    def wake(*_args: object) -> None:
                        self._wake.set()

                    def on_lost(*_args: object, done: asyncio.Event = lost) -> None:
                        done.set()

                    driver.add_termination_listener(on_lost)
                    await driver.add_listener(NOTIFY_CHANNEL, wake)
                    self.listening.set()
                    self._wake.set()  # anything committed before LISTEN began
                    try:
                        await lost.wait()
                    finally:
                        self.listening.clear()
                        if not driver.is_closed():
                            await driver.remove_listener(NOTIFY_CHANNEL, wake)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("job notifications unavailable; polling", worker=self.name)
            await asyncio.sleep(self.poll_interval)

    async def _stop_listening(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None

    async def run_until_idle(self, timeout: float = 30.0) -> int:
        """Run due jobs until none is due or in flight (for tests and one-shot runs).
        Returns how many runs finished; periodic jobs are not scheduled."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        started = self.processed
        while True:
            more = await self._claim_batch()
            if not more and not self._in_flight:
                return self.processed - started
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"jobs still running after {timeout}s")
            if self._in_flight and not more:
                await asyncio.wait(
                    list(self._in_flight.values()),
                    timeout=remaining,
                    return_when=asyncio.FIRST_COMPLETED,
                )

    # --- claiming --------------------------------------------------------------------

    async def _claim_batch(self) -> bool:
        """Claim what fits and start it; True when the batch was full."""
        free = self.concurrency - len(self._in_flight)
        if free <= 0:
            return False
        saturated = {key for key, count in self._keys.items() if count >= self.per_key_limit}
        token = uuid.uuid4()
        now = self.clock()
        async with unit_of_work(self.runtime.sessionmaker) as session:
            claimed = await repository.claim_due(
                session,
                now=now,
                limit=free,
                lease_until=now + self.lease,
                worker=self.name,
                token=token,
                excluded_keys=saturated,
            )
            keep, over_limit = self._within_key_limits(claimed)
            await repository.release(session, [job.id for job in over_limit], token, now=now)
        for job in keep:
            self._start(job, token)
        return len(claimed) == free

    def _within_key_limits(self, claimed: list[Job]) -> tuple[list[Job], list[Job]]:
        counts = Counter(self._keys)
        keep: list[Job] = []
        over: list[Job] = []
        for job in claimed:
            key = job.concurrency_key
            if key is not None and counts[key] >= self.per_key_limit:
                over.append(job)
                continue
            if key is not None:
                counts[key] += 1
            keep.append(job)
        return keep, over

    def _start(self, job: Job, token: uuid.UUID) -> None:
        if job.concurrency_key is not None:
            self._keys[job.concurrency_key] += 1
        task = asyncio.create_task(self._run(job, token), name=f"job {job.kind} {job.id}")
        self._in_flight[job.id] = task
        self._tokens[job.id] = token

    async def _schedule_periodic(self) -> None:
        now = self.clock()
        due = []
        for spec in self.jobs.periodic():
            assert spec.every is not None
            period = spec.every.total_seconds()
            slot = int(now.timestamp() // period)
            if self._periodic_slots.get(spec.kind) != slot:
                due.append((spec.kind, slot))
        if not due:
            return
        async with unit_of_work(self.runtime.sessionmaker) as session:
            for kind, slot in due:
                # One job per period across every worker: the dedupe key decides.
                await repository.insert_job(
                    session,
                    kind=kind,
                    payload={},
                    run_at=now,
                    dedupe_key=f"every:{kind}:{slot}",
                    concurrency_key=None,
                    now=now,
                )
        for kind, slot in due:
            self._periodic_slots[kind] = slot

    # --- running ---------------------------------------------------------------------

    async def _run(self, job: Job, token: uuid.UUID) -> None:
        started = time.perf_counter()
        trace_span = tracing.span(
            f"job {job.kind}",
            kind="consumer",
            parent=job.payload.get(tracing.TRACE_KEY),
            attributes={
                "gateway.job.id": str(job.id),
                "gateway.job.kind": job.kind,
                "gateway.job.attempt": job.attempts,
                tracing.TRANSACTION_ID: _transaction_of(job),
            },
        )
        try:
            with trace_span:
                status, run_at, error = await self._handle(job)
            outcome = "retry" if status == JobStatus.PENDING else status
            JOB_RUNS.labels(job.kind, outcome).observe(time.perf_counter() - started)
            await self._record(job, token, status, run_at, error)
        finally:
            self._in_flight.pop(job.id, None)
            self._tokens.pop(job.id, None)
            if job.concurrency_key is not None:
                self._keys[job.concurrency_key] -= 1
                if self._keys[job.concurrency_key] <= 0:
                    del self._keys[job.concurrency_key]
            self._wake.set()

    async def _handle(self, job: Job) -> tuple[str, dt.datetime | None, str | None]:
        """Run the handler; the outcome to record: (status, next run, error)."""
        status: str = JobStatus.DONE
        run_at: dt.datetime | None = None
        error: str | None = None
        spec = self.jobs.get(job.kind)
        try:
            if spec is None:
                raise LookupError(f"no handler registered for job kind {job.kind!r}")
            await spec.fn(self.runtime, job)
        except Retry as retry:
            status, run_at, error = JobStatus.PENDING, self.clock() + retry.after, retry.reason
        except GiveUp as exc:
            status, error = JobStatus.FAILED, str(exc) or "gave up"
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            max_attempts = spec.max_attempts if spec else 10
            if job.attempts >= max_attempts:
                status = JobStatus.FAILED
            else:
                backoff = spec.backoff(job.attempts) if spec else dt.timedelta(minutes=1)
                status, run_at = JobStatus.PENDING, self.clock() + backoff
            log.warning(
                "job failed",
                kind=job.kind,
                job_id=str(job.id),
                attempt=job.attempts,
                error=error,
            )
        return status, run_at, error

    async def _record(
        self,
        job: Job,
        token: uuid.UUID,
        status: str,
        run_at: dt.datetime | None,
        error: str | None,
    ) -> None:
        outcome = _Outcome(
            job.id,
            token,
            status,
            run_at,
            error[:_ERROR_LIMIT] if error else None,
            asyncio.get_running_loop().create_future(),
        )
        self._outcomes.append(outcome)
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._record_outcomes(), name="job outcomes")
        recorded = await outcome.recorded
        if recorded is None:
            return  # not written: the lease will expire and the job run again
        self.processed += 1
        if not recorded:
            log.warning("job lease was lost before it finished", kind=job.kind, job_id=str(job.id))

    async def _record_outcomes(self) -> None:
        """Group commit of outcomes: every outcome that finished while the previous
        batch was being written goes into the next one, in one transaction. At a high
        rate of short jobs (webhook deliveries) that is one COMMIT for many jobs instead
        of one each; a lone job is written at once, as before."""
        while self._outcomes:
            batch, self._outcomes = self._outcomes, []
            try:
                async with unit_of_work(self.runtime.sessionmaker) as session:
                    now = self.clock()
                    results: list[bool | None] = [
                        await repository.finish(
                            session,
                            outcome.job_id,
                            outcome.token,
                            status=outcome.status,
                            now=now,
                            run_at=outcome.run_at,
                            error=outcome.error,
                        )
                        for outcome in batch
                    ]
            except Exception:
                # Their leases will expire and the jobs run again: at-least-once, never lost.
                log.exception("could not record job outcomes", count=len(batch))
                results = [None] * len(batch)
            for outcome, result in zip(batch, results, strict=True):
                if not outcome.recorded.done():
                    outcome.recorded.set_result(result)
