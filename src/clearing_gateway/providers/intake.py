"""What guards the callback pipeline before and around it: nothing unauthenticated can make
the gateway hold a large body in memory, fill the inbox, or fan out into upstream calls.

- the body is read in chunks and refused (413) as soon as it passes the limit, before
  it is held whole (a declared Content-Length over the limit is refused unread);
- each source (the caller's address, an IPv6 caller by its /64) may send a bounded number
  of *rejected* callbacks per minute; once spent, its callbacks are answered 429 in the
  provider's error shape before anything is read, stored or looked up upstream. Genuine
  callbacks never spend the budget, so a provider is throttled only when it shares an
  address with a forger — and a provider retries a non-2xx callback;
- confirmations with the provider's read API are coalesced per event key: callbacks for
  the same payment arriving together share one upstream look-up (whatever its outcome),
  and a *confirmed* outcome is reused for a few seconds. A refusal is never reused
  later: a forger must not be able to poison the answer a genuine callback gets.

Budgets live in the process (no shared store): with N API processes a source may spend N
budgets. That bounds the harm per process, which is what the limits are for.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request

from clearing_gateway.providers.base import CallbackAdapter, CallbackReply
from clearing_gateway.providers.events import ProviderEvent

Clock = Callable[[], float]
# Sources remembered at most; beyond it the oldest windows are forgotten first.
_MAX_SOURCES = 10_000


class BodyTooLarge(Exception):
    pass


async def read_bounded(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def source_of(address: str | None) -> str:
    """The unit a budget is kept for: an IPv4 address, an IPv6 /64 (one subscriber)."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip.ipv4_mapped or ip) if isinstance(ip, ipaddress.IPv6Address) else str(ip)


@dataclass
class _Window:
    started: float
    count: int = 0


@dataclass
class RejectionBudget:
    """At most `per_minute` rejected callbacks per (provider, source) in a fixed minute."""

    per_minute: int
    clock: Clock = time.monotonic
    _windows: dict[tuple[str, str], _Window] = field(default_factory=dict)

    def _window(self, key: tuple[str, str]) -> _Window:
        now = self.clock()
        window = self._windows.get(key)
        if window is None or now - window.started >= 60.0:
            if window is None and len(self._windows) >= _MAX_SOURCES:
                self._windows.pop(next(iter(self._windows)))
            window = self._windows[key] = _Window(now)
        return window

    def spent(self, provider: str, source: str) -> bool:
        return self._window((provider, source)).count >= self.per_minute

    def charge(self, provider: str, source: str) -> None:
        self._window((provider, source)).count += 1


@dataclass
class _Outcome:
    at: float
    event: ProviderEvent


@dataclass
class ConfirmationCoalescer:
    """One upstream confirmation per (provider, event key) at a time, reused `ttl` s."""

    ttl: float
    clock: Clock = time.monotonic
    _running: dict[tuple[str, str], asyncio.Future[ProviderEvent]] = field(default_factory=dict)
    _recent: dict[tuple[str, str], _Outcome] = field(default_factory=dict)

    async def confirm(self, adapter: CallbackAdapter, event: ProviderEvent) -> ProviderEvent:
        key = (event.provider, event.event_key)
        now = self.clock()
        recent = self._recent.get(key)
        if recent is not None and now - recent.at < self.ttl:
            return recent.event
        running = self._running.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[ProviderEvent] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            confirmed = await adapter.confirm(event)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        else:
            self._remember(key, _Outcome(self.clock(), event=confirmed))
            future.set_result(confirmed)
            return confirmed
        finally:
            self._running.pop(key, None)

    def _remember(self, key: tuple[str, str], outcome: _Outcome) -> None:
        if self.ttl <= 0:
            return
        if len(self._recent) >= _MAX_SOURCES:
            cutoff = self.clock() - self.ttl
            for stale in [k for k, v in self._recent.items() if v.at < cutoff]:
                del self._recent[stale]
            if len(self._recent) >= _MAX_SOURCES:
                self._recent.pop(next(iter(self._recent)))
        self._recent[key] = outcome


@dataclass
class CallbackIntake:
    """The per-process guards of the callback endpoints."""

    budget: RejectionBudget
    coalescer: ConfirmationCoalescer

    def rejected(self, provider: str, source: str | None) -> None:
        self.budget.charge(provider, source or "unknown")

    async def confirm(self, adapter: CallbackAdapter, event: ProviderEvent) -> ProviderEvent:
        return await self.coalescer.confirm(adapter, event)


def throttled(adapter: CallbackAdapter) -> CallbackReply:
    """429 in the provider's own error shape (its `unavailable` body)."""
    unavailable = adapter.unavailable()
    return CallbackReply(429, unavailable.body, unavailable.media_type)
