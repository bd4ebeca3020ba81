"""One HTTP attempt to a merchant endpoint, and what to do next."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import random
import time
from dataclasses import dataclass

import httpx

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.config import Settings
from clearing_gateway.webhooks.service import resolver_for
from clearing_gateway.webhooks.transport import GuardedTransport

USER_AGENT = "CACI-PG-Webhook/1.0"
RESPONSE_EXCERPT_BYTES = 2048
SUCCESS_CODES = frozenset({200, 201})  # the seed's definition of a delivered webhook
THROTTLE_CODES = frozenset({429, 503})
_CLIENT_KEY = "webhooks.http"


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    latency_ms: int
    response_excerpt: str | None
    error: str | None
    retry_after: float | None

    @property
    def succeeded(self) -> bool:
        return self.status_code in SUCCESS_CODES


def http_client(runtime: Runtime) -> httpx.AsyncClient:
    """The process's delivery client (connection reuse across deliveries)."""
    client: httpx.AsyncClient | None = runtime.extras.get(_CLIENT_KEY)
    if client is None:
        settings = runtime.settings
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        transport: httpx.AsyncBaseTransport = (
            GuardedTransport(resolver_for(runtime), limits=limits)
            if settings.is_production
            else httpx.AsyncHTTPTransport(trust_env=False, limits=limits)
        )
        client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,  # a 3xx is a failed delivery, never a new target
            timeout=httpx.Timeout(
                settings.webhook_timeout_seconds, connect=settings.webhook_connect_timeout_seconds
            ),
            trust_env=False,
        )
        runtime.extras[_CLIENT_KEY] = client
    return client


async def post(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    total_timeout: float,
) -> AttemptResult:
    started = time.perf_counter()
    status: int | None = None
    excerpt: bytes = b""
    error: str | None = None
    retry_after: float | None = None
    try:
        # httpx's timeouts are per phase; this bounds the whole attempt.
        async with asyncio.timeout(total_timeout):
            async with client.stream("POST", url, content=body, headers=headers) as response:
                status = response.status_code
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                async for chunk in response.aiter_raw():
                    excerpt += chunk
                    if len(excerpt) >= RESPONSE_EXCERPT_BYTES:
                        break
    except TimeoutError:
        error = f"timed out after {total_timeout:g}s"
    except httpx.TimeoutException as exc:
        error = f"timed out ({type(exc).__name__})"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    latency_ms = int((time.perf_counter() - started) * 1000)
    if error is None and status is not None and status not in SUCCESS_CODES:
        error = f"HTTP {status}"
    text = excerpt[:RESPONSE_EXCERPT_BYTES].decode("utf-8", errors="replace") if excerpt else None
    return AttemptResult(status, latency_ms, text, error, retry_after)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def next_delay(
    settings: Settings, attempts_made: int, result: AttemptResult
) -> dt.timedelta | None:
    """When to try again after `attempts_made` attempts of this chain, or None to stop.

    The schedule (default 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) is jittered so a
    merchant coming back is not hit by every retry at once; on 429/503 a Retry-After
    longer than the scheduled delay is honoured, up to the schedule's longest step.
    """
    if result.succeeded or result.status_code == 410:
        return None
    schedule = settings.webhook_retry_schedule_seconds
    if attempts_made > len(schedule):
        return None
    seconds = schedule[attempts_made - 1]
    jitter = settings.webhook_retry_jitter
    seconds *= 1 + random.uniform(-jitter, jitter)
    if result.status_code in THROTTLE_CODES and result.retry_after is not None:
        seconds = max(seconds, min(result.retry_after, max(schedule)))
    return dt.timedelta(seconds=seconds)
