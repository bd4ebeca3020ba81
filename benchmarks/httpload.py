"""A minimal HTTP/1.1 load generator: raw asyncio streams, keep-alive, pre-built requests.

It costs far less CPU per request than an HTTP client library, which matters here: the
load generator shares the machine's two cores with the gateway and PostgreSQL. Requests
are complete byte strings built (and signed) before the timed section; a run is bounded
both in count and in time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field


def build_request(
    method: str, path: str, headers: dict[str, str], body: bytes = b"", host: str = "127.0.0.1"
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Sample:
    index: int
    sent: float  # time.time() when written (or when scheduled, for paced runs)
    latency: float  # seconds
    status: int
    body: bytes


@dataclass
class RunResult:
    samples: list[Sample] = field(default_factory=list)
    elapsed: float = 0.0
    errors: int = 0
    timed_out: bool = False

    @property
    def ok(self) -> list[Sample]:
        return [s for s in self.samples if 200 <= s.status < 300]

    def statuses(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for sample in self.samples:
            counts[sample.status] = counts.get(sample.status, 0) + 1
        return counts

    def summary(self) -> dict[str, float | int | bool]:
        latencies = sorted(s.latency for s in self.samples)
        return {
            "requests": len(self.samples),
            "ok": len(self.ok),
            "errors": self.errors,
            "elapsed_s": round(self.elapsed, 3),
            "per_second": round(len(self.ok) / self.elapsed, 1) if self.elapsed else 0.0,
            "p50_ms": percentile_ms(latencies, 50),
            "p95_ms": percentile_ms(latencies, 95),
            "p99_ms": percentile_ms(latencies, 99),
            "max_ms": round(latencies[-1] * 1000, 2) if latencies else 0.0,
            "timed_out": self.timed_out,
        }


def percentile_ms(sorted_seconds: Sequence[float], p: float) -> float:
    if not sorted_seconds:
        return 0.0
    rank = min(len(sorted_seconds) - 1, max(0, round(p / 100 * len(sorted_seconds) + 0.5) - 1))
    return round(sorted_seconds[rank] * 1000, 2)


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"connection" and value.strip().lower() == b"close":
                close = True
        body = await self.reader.readexactly(length) if length else b""
        if close:
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def closed_loop(
    host: str,
    ports: Sequence[int],
    requests: Sequence[bytes],
    concurrency: int,
    max_seconds: float,
) -> RunResult:
    """`concurrency` connections, each sending its next request as soon as the last answers.
    Stops after every request or after `max_seconds`, whichever comes first."""
    result = RunResult()
    cursor = iter(range(len(requests)))
    started = time.perf_counter()
    deadline = started + max_seconds

    async def lane(lane_no: int) -> None:
        connection = Connection(host, ports[lane_no % len(ports)])
        try:
            for index in cursor:
                if time.perf_counter() > deadline:
                    result.timed_out = True
                    return
                sent, t0 = time.time(), time.perf_counter()
                try:
                    status, body = await connection.exchange(requests[index])
                except (OSError, asyncio.IncompleteReadError):
                    result.errors += 1
                    await connection.close()
                    continue
                result.samples.append(Sample(index, sent, time.perf_counter() - t0, status, body))
        finally:
            await connection.close()

    await asyncio.gather(*(lane(n) for n in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    return result


async def paced(
    host: str,
    ports: Sequence[int],
    requests: Sequence[bytes],
    rate: float,
    max_seconds: float,
    connections: int = 64,
) -> RunResult:
    """Open loop: request i is due at start + i/rate whether or not earlier ones answered.
    Latency is measured from the due time, so a stalled server is not hidden by a client
    that waits (no coordinated omission). At most `connections` requests in flight."""
    result = RunResult()
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for n in range(connections):
        idle.put_nowait(Connection(host, ports[n % len(ports)]))
    started = time.perf_counter()
    wall_start = time.time()
    tasks: list[asyncio.Task[None]] = []

    async def one(index: int, due: float) -> None:
        connection = await idle.get()
        try:
            status, body = await connection.exchange(requests[index])
            result.samples.append(
                Sample(
                    index,
                    wall_start + (due - started),
                    time.perf_counter() - due,
                    status,
                    body,
                )
            )
        except (OSError, asyncio.IncompleteReadError):
            result.errors += 1
            await connection.close()
        finally:
            idle.put_nowait(connection)

    for index in range(len(requests)):
        due = started + index / rate
        if due - started > max_seconds:
            result.timed_out = True
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, due)))
    if tasks:
        await asyncio.wait(tasks, timeout=max_seconds)
    for task in tasks:
        task.cancel()
    result.elapsed = time.perf_counter() - started
    while not idle.empty():
        await idle.get_nowait().close()
    return result
