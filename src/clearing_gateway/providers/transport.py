"""One place that turns httpx outcomes into the typed connector errors.

The split follows what the caller may conclude: a connection that was never made is
`ProviderUnavailable`; anything that may have reached the provider but gave no usable
answer (read timeout, dropped connection, 5xx, unreadable body) is `ProviderOutcomeUnknown`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from clearing_gateway.kit import tracing
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.kit.metrics import provider_call
from clearing_gateway.providers.errors import (
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
)

log = get_logger("gateway.providers")

# Raised before a single byte reached the provider: safe to try elsewhere.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


@dataclass(frozen=True)
class ProviderResponse:
    status_code: int
    body: dict[str, Any]
    text: str


async def send(
    client: httpx.AsyncClient,
    provider: str,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    content: bytes | None = None,
    operation: str | None = None,
) -> ProviderResponse:
    """Send one request; 2xx to 4xx answers with a JSON object come back, the rest raise.

    Each call is timed in `gateway_provider_call_duration_seconds` under `operation`
    (default: the URL path without ids), with the outcome the caller may conclude."""
    operation = operation or operation_name(method, url)
    attributes = {"gateway.provider": provider, "gateway.provider.operation": operation}
    with (
        tracing.span(f"provider {provider} {operation}", kind="client", attributes=attributes),
        provider_call(provider, operation) as result,
    ):
        try:
            answer = await _send(client, provider, method, url, headers=headers, content=content)
            result["outcome"] = "ok" if answer.status_code < 400 else "rejected"
            return answer
        except ProviderUnavailable:
            result["outcome"] = "unavailable"
            raise
        finally:
            tracing.annotate(**{"provider.outcome": result["outcome"]})


async def _send(
    client: httpx.AsyncClient,
    provider: str,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    content: bytes | None,
) -> ProviderResponse:
    try:
        response = await client.request(method, url, headers=headers, content=content)
    except _NOT_SENT as exc:
        log.warning("provider.unreachable", provider=provider, url=url, error=type(exc).__name__)
        raise ProviderUnavailable(provider, f"{type(exc).__name__} calling {url}") from exc
    except httpx.HTTPError as exc:
        log.warning("provider.no_answer", provider=provider, url=url, error=type(exc).__name__)
        raise ProviderOutcomeUnknown(provider, f"{type(exc).__name__} calling {url}") from exc
    if response.status_code >= 500:
        raise ProviderOutcomeUnknown(
            provider, f"HTTP {response.status_code} from {url}: {response.text[:200]}"
        )
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ProviderOutcomeUnknown(
            provider, f"unreadable answer (HTTP {response.status_code}) from {url}"
        )
    return ProviderResponse(response.status_code, body, response.text)


# Path segments that are ids or versions, dropped from metric labels (bounded cardinality).
_VARIABLE_SEGMENT = re.compile(r".*\d.*")


def operation_name(method: str, url: str) -> str:
    """`POST transfer-va/create-va` from `https://host/v1.0/transfer-va/create-va`: the
    method and the last two path segments that carry no digit (ids, versions)."""
    segments = [s for s in urlsplit(url).path.split("/") if s and not _VARIABLE_SEGMENT.match(s)]
    return f"{method.upper()} {'/'.join(segments[-2:]) or '/'}"


def new_http_client(connect_timeout: float, read_timeout: float) -> httpx.AsyncClient:
    """A pooled client; one per provider, owned by the runtime."""
    timeout = httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout)
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=20)
    return httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False)


def snap_success(
    provider: str, response: ProviderResponse, accepted: tuple[str, ...] = ("200",)
) -> dict[str, Any]:
    """The body of a SNAP-style answer whose `responseCode` starts with an accepted HTTP
    class. A 2xx with any other code is an unknown outcome (the provider may have acted);
    a 4xx is a definitive rejection."""
    code = str(response.body.get("responseCode", ""))
    if 200 <= response.status_code < 300:
        if code[:3] in accepted:
            return response.body
        raise ProviderOutcomeUnknown(
            provider, f"HTTP {response.status_code} with responseCode {code!r}"
        )
    raise ProviderRejected(
        provider,
        code or str(response.status_code),
        str(response.body.get("responseMessage", "")),
        http_status=response.status_code,
    )
