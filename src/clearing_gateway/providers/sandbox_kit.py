"""What every provider sandbox shares: fault injection, callback delivery, control API.

A sandbox is a Starlette app with in-memory state. Its callbacks go out from background
tasks over real HTTP, so the sandbox never holds anything the gateway needs while the
gateway handles them. Tests and demos steer it through `/control/...`.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from clearing_gateway.kit.logging import get_logger

log = get_logger("gateway.sandbox")

FaultMode = Literal["5xx", "timeout"]
CallbackMode = Literal["deliver", "hold", "drop"]


def route_path(request: Request) -> str:
    """The path inside the sandbox, whether it runs alone or mounted in the gateway."""
    path = request.url.path
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path


@dataclass
class PendingFault:
    mode: FaultMode
    remaining: int
    hold_seconds: float
    # Aimed at one route: only calls whose path contains this text (empty: any call).
    path: str = ""


class FaultInjector:
    """Answers the next N provider calls (never /control) with a 5xx or a timeout.

    A `timeout` fault lets the call take effect and then withholds the answer for
    `hold_seconds`, which is what makes a real timeout an unknown outcome.
    """

    def __init__(self) -> None:
        self.pending: deque[PendingFault] = deque()

    def add(self, mode: FaultMode, count: int, hold_seconds: float, path: str = "") -> None:
        self.pending.append(PendingFault(mode, count, hold_seconds, path))

    def take(self, path: str = "") -> PendingFault | None:
        fault = next((f for f in self.pending if f.path in path), None)
        if fault is None:
            return None
        fault.remaining -= 1
        if fault.remaining <= 0:
            self.pending.remove(fault)
        return fault

    def clear(self) -> None:
        self.pending.clear()


class FaultMiddleware:
    def __init__(self, app: ASGIApp, faults: FaultInjector) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "/control/" in scope["path"] + "/":
            await self.app(scope, receive, send)
            return
        fault = self.faults.take(scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.mode == "5xx":
            await Response(b'{"error":"injected fault"}', 500, media_type="application/json")(
                scope, receive, send
            )
        else:
            held: list[Any] = []

            async def capture(message: Any) -> None:
                held.append(message)

            await self.app(scope, receive, capture)
            await asyncio.sleep(fault.hold_seconds)
            for message in held:
                await send(message)


@dataclass
class OutgoingCallback:
    url: str
    headers: dict[str, str]
    body: bytes
    label: str


@dataclass
class DeliveryRecord:
    label: str
    url: str
    status_code: int | None
    reply: str
    body: str


@dataclass
class CallbackSender:
    """Signs nothing itself: the sandbox builds the request, this decides when it leaves.

    Modes: `deliver` (after `delay_seconds`), `hold` (queue until released, optionally
    in reverse order), `drop` (the next `drop_count` callbacks vanish).
    """

    mode: CallbackMode = "deliver"
    delay_seconds: float = 0.0
    drop_count: int = 0
    timeout_seconds: float = 10.0
    held: list[OutgoingCallback] = field(default_factory=list)
    sent: list[DeliveryRecord] = field(default_factory=list)
    last: OutgoingCallback | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # Rebuilds a callback (fresh timestamp and signature) before it is re-sent.
    resign: Callable[[OutgoingCallback], OutgoingCallback] | None = None
    # As a provider does: re-send a callback not accepted (non-2xx, a timeout, no
    # answer), once per entry of `retry_schedule`, each that many seconds after the
    # previous attempt (the provider's schedule: docs/sandbox.md).
    retry_schedule: tuple[float, ...] = ()
    # What counts as accepted: a 2xx by default (Finpay also wants its success code).
    accepts: Callable[[int, str], bool] = field(default=lambda status, _reply: 200 <= status < 300)
    # One pooled keep-alive client, as a provider's sender has: a client per callback
    # would build a TLS context each time, which cost more than the gateway's whole
    # handling of the callback. Bound to the event loop it was made in.
    _client: httpx.AsyncClient | None = field(default=None, repr=False)
    _client_loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)

    def set_retries(self, retries: int, delay_seconds: float) -> None:
        self.retry_schedule = (delay_seconds,) * max(retries, 0)

    def submit(self, callback: OutgoingCallback) -> None:
        self.last = callback
        if self.mode == "drop" or self.drop_count > 0:
            if self.drop_count > 0:
                self.drop_count -= 1
            self.sent.append(DeliveryRecord(callback.label, callback.url, None, "dropped", ""))
            return
        if self.mode == "hold":
            self.held.append(callback)
            return
        self._spawn(self._deliver(callback, self.delay_seconds))

    def submit_later(self, callback: OutgoingCallback, delay_seconds: float) -> None:
        """A callback the provider sends late, whatever the mode's own delay."""
        self.last = callback
        self._spawn(self._deliver(callback, delay_seconds))

    def release(self, reverse: bool = False) -> int:
        queued = list(reversed(self.held)) if reverse else list(self.held)
        self.held.clear()

        async def in_order() -> None:
            for callback in queued:
                await self._deliver(callback, 0)

        self._spawn(in_order())
        return len(queued)

    def resend_last(self) -> bool:
        if self.last is None:
            return False
        callback = self.resign(self.last) if self.resign else self.last
        self._spawn(self._deliver(callback, 0))
        return True

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _deliver(self, callback: OutgoingCallback, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        for wait in (None, *self.retry_schedule):
            if wait is not None:
                await asyncio.sleep(wait)
                callback = self.resign(callback) if self.resign else callback
            record = await self._attempt(callback)
            if record.status_code is not None and self.accepts(record.status_code, record.reply):
                return

    async def _attempt(self, callback: OutgoingCallback) -> DeliveryRecord:
        record = DeliveryRecord(callback.label, callback.url, None, "", callback.body.decode())
        try:
            response = await self._http().post(
                callback.url, content=callback.body, headers=callback.headers
            )
            record.status_code = response.status_code
            record.reply = response.text[:500]
        except httpx.HTTPError as exc:
            record.reply = f"{type(exc).__name__}: {exc}"
            log.warning("sandbox.callback_failed", url=callback.url, error=type(exc).__name__)
        self.sent.append(record)
        return record

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop or self._client.is_closed:
            self._client = httpx.AsyncClient(
                timeout=self.timeout_seconds,
                limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
            )
            self._client_loop = loop
        return self._client

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait for callbacks in flight (tests use this before asserting)."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=timeout)

    async def aclose(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        client, self._client = self._client, None
        if client is not None and self._client_loop is asyncio.get_running_loop():
            await client.aclose()


async def read_json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def control_routes(faults: FaultInjector, sender: CallbackSender) -> list[Route]:
    """The `/control/...` endpoints every sandbox has."""

    async def add_fault(request: Request) -> Response:
        body = await read_json(request)
        mode = body.get("mode")
        if mode not in ("5xx", "timeout"):
            return JSONResponse({"error": "mode must be 5xx or timeout"}, 400)
        faults.add(
            mode,
            int(body.get("count", 1)),
            float(body.get("holdSeconds", 30)),
            str(body.get("path", "")),
        )
        return JSONResponse({"pending": len(faults.pending)})

    async def clear_faults(_request: Request) -> Response:
        faults.clear()
        return JSONResponse({"pending": 0})

    async def callback_mode(request: Request) -> Response:
        body = await read_json(request)
        mode = body.get("mode", "deliver")
        if mode not in ("deliver", "hold", "drop"):
            return JSONResponse({"error": "mode must be deliver, hold or drop"}, 400)
        sender.mode = mode
        sender.delay_seconds = float(body.get("delaySeconds", 0))
        sender.drop_count = int(body.get("dropCount", 0))
        schedule = body.get("retrySchedule")
        if "retries" in body:
            sender.set_retries(int(body["retries"]), float(body.get("retryDelaySeconds", 1)))
        elif isinstance(schedule, list) and all(
            isinstance(s, int | float) and not isinstance(s, bool) and s >= 0 for s in schedule
        ):
            sender.retry_schedule = tuple(float(s) for s in schedule)
        elif schedule is not None:
            return JSONResponse({"error": "retrySchedule must be a list of seconds"}, 400)
        return JSONResponse(
            {
                "mode": sender.mode,
                "delaySeconds": sender.delay_seconds,
                "held": len(sender.held),
                "retrySchedule": list(sender.retry_schedule),
            }
        )

    async def release(request: Request) -> Response:
        body = await read_json(request)
        count = sender.release(reverse=body.get("order") == "reverse")
        return JSONResponse({"released": count})

    async def resend_last(_request: Request) -> Response:
        if not sender.resend_last():
            return JSONResponse({"error": "no callback sent yet"}, 404)
        return JSONResponse({"resent": True})

    async def deliveries(_request: Request) -> Response:
        return JSONResponse(
            {
                "held": len(sender.held),
                "sent": [
                    {"label": r.label, "url": r.url, "statusCode": r.status_code, "reply": r.reply}
                    for r in sender.sent
                ],
            }
        )

    return [
        Route("/control/faults", add_fault, methods=["POST"]),
        Route("/control/faults", clear_faults, methods=["DELETE"]),
        Route("/control/callbacks/mode", callback_mode, methods=["POST"]),
        Route("/control/callbacks/release", release, methods=["POST"]),
        Route("/control/callbacks/resend-last", resend_last, methods=["POST"]),
        Route("/control/callbacks", deliveries, methods=["GET"]),
    ]


def json_bytes(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
