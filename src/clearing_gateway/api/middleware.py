"""The merchant API's unit of work: body limits, authentication, one transaction,
idempotency, and commit-before-respond.

For every request under /v1 this middleware reads the body (bounded), authenticates the
merchant, opens the request's session, claims the `requestId` of a mutating request,
runs the endpoint with the response held back, then commits (2xx/3xx) or rolls back
(anything else) — and only then sends the response. So no 2xx ever precedes its commit,
and a replayed requestId returns the stored bytes without running the endpoint again.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearing_gateway.api.ratelimit import RateLimited, RateLimits
from clearing_gateway.api.runtime import Runtime
from clearing_gateway.idempotency import service as idempotency
from clearing_gateway.kit import jsonguard, request_id
from clearing_gateway.kit.envelope import dumps, envelope
from clearing_gateway.kit.errors import ErrorCode, GatewayError
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.merchants import signing
from clearing_gateway.merchants.auth import SignedRequest, authenticate, client_address
from clearing_gateway.merchants.crypto import secret_box

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/v1/"
# The seed documents the simulator without authentication (sandbox only): credentials are
# optional there, and verified when given.
OPTIONAL_AUTH_PREFIX = "/v1/simulator/"
log = get_logger("gateway.api")


class MerchantApiMiddleware:
    def __init__(
        self, app: ASGIApp, runtime: Runtime, rate_limits: RateLimits | None = None
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.rate_limits = rate_limits or RateLimits(runtime.settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent_path: str = scope["path"]
        settings = self.runtime.settings
        prefix = settings.merchant_path_prefix
        if sent_path.startswith(prefix + "/"):
            # A proxy that keeps the public prefix (or a client that follows the seed's
            # `/d/v1/...` example with no proxy at all): route on the path behind it. The
            # unconfigured `/d` covers the merchant API only.
            behind = sent_path[len(prefix) :]
            if settings.public_path_prefix or behind.startswith(API_PREFIX):
                scope["path"] = behind
        if not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        await self._handle(scope, receive, send, sent_path)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, sent_path: str) -> None:
        state = scope.setdefault("state", {})
        request_id_header = state.get("request_id")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client")
        client_ip = client_address(
            client[0] if client else None,
            headers.get("x-forwarded-for"),
            self.runtime.settings.trusted_proxy_networks,
        )
        try:
            # Before the body is read: a flood from one address costs nothing more.
            await self.rate_limits.check_address(client_ip)
            raw = await _read_body(receive, self.runtime.settings.max_body_bytes)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise GatewayError(400, ErrorCode.MALFORMED_JSON, "body: not valid UTF-8") from None
            _refuse_nul_in_url(scope)
            # Parsed once: the signature, the requestId and its fingerprint all read it.
            try:
                document, canonical = signing.parse_body(text)
            except jsonguard.HostileJson as exc:
                raise GatewayError(400, ErrorCode.MALFORMED_JSON, f"body: {exc}") from None
        except GatewayError as error:
            await _send_error(send, error, None)
            return

        method: str = scope["method"]
        request_id = _request_id_of(document) if method in MUTATING else None
        signed = SignedRequest(
            method=method,
            path=sent_path,
            canonical=canonical,
            headers=headers,
            client_ip=client_ip,
        )

        async with self.runtime.sessionmaker() as session:
            response: _HeldResponse | None = None
            try:
                anonymous = (
                    not self.runtime.settings.is_production
                    and scope["path"].startswith(OPTIONAL_AUTH_PREFIX)
                    and "x-api-key" not in headers
                )
                merchant = (
                    None
                    if anonymous
                    else await authenticate(
                        session, self.runtime.settings, signed, self.runtime.credentials
                    )
                )
                if merchant is not None:
                    await self.rate_limits.check_merchant(str(merchant.id))
                state["db"] = session
                state["merchant"] = merchant
                state["raw_body"] = raw
                state["merchant_request_id"] = request_id

                if request_id is not None and merchant is not None:
                    stored = await idempotency.claim(
                        session,
                        merchant_id=merchant.id,
                        request_id=request_id,
                        method=method,
                        path=scope["path"],
                        request_fingerprint=idempotency.fingerprint(
                            method, scope["path"], canonical
                        ),
                    )
                    if stored is not None:
                        await session.rollback()
                        body = idempotency.unseal(stored.body, secret_box(self.runtime.settings))
                        await _send_raw(send, stored.status_code, body, replayed=True)
                        return

                response = await _run_held(self.app, scope, raw, receive)
                if response.status < 400:
                    if request_id is not None and merchant is not None:
                        stored_body = response.body
                        if state.get(idempotency.SEALED_RESPONSE_STATE):
                            box = secret_box(self.runtime.settings)
                            stored_body = idempotency.seal(stored_body, box)
                        await idempotency.store(
                            session,
                            merchant_id=merchant.id,
                            request_id=request_id,
                            status_code=response.status,
                            body=stored_body,
                        )
                    await session.commit()
                else:
                    await session.rollback()
            except GatewayError as error:
                await session.rollback()
                await _send_error(send, error, request_id or request_id_header)
                return
            except Exception:
                await session.rollback()
                log.exception("request failed", path=scope["path"], method=method)
                await _send_error(
                    send,
                    GatewayError(
                        500, ErrorCode.INTERNAL_ERROR, "the request could not be completed"
                    ),
                    request_id or request_id_header,
                )
                return
        await response.replay(send)


class _HeldResponse:
    def __init__(self) -> None:
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    @property
    def status(self) -> int:
        return int(self.start["status"]) if self.start else 500

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    async def replay(self, send: Send) -> None:
        assert self.start is not None
        await send(self.start)
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


async def _run_held(app: ASGIApp, scope: Scope, raw: bytes, receive: Receive) -> _HeldResponse:
    held = _HeldResponse()
    delivered = False

    async def replay_receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    async def hold(message: Message) -> None:
        if message["type"] == "http.response.start":
            held.start = message
        elif message["type"] == "http.response.body":
            held.chunks.append(message.get("body", b""))

    await app(scope, replay_receive, hold)
    if held.start is None:
        raise RuntimeError("endpoint produced no response")
    return held


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise GatewayError(413, ErrorCode.PAYLOAD_TOO_LARGE, f"body: larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _refuse_nul_in_url(scope: Scope) -> None:
    # PostgreSQL cannot store or compare U+0000: a path or query parameter holding one
    # would fail deep inside a query instead of being refused here.
    query: bytes = scope.get("query_string", b"")
    if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
        raise GatewayError(400, ErrorCode.BAD_REQUEST, "the URL holds a NUL character")


def _request_id_of(document: Any) -> str | None:
    if isinstance(document, dict):
        # The schemas' rule exactly (kit/request_id.py): what is not claimed is refused.
        return request_id.claimable(document.get("requestId"))
    return None


async def _send_raw(
    send: Send,
    status: int,
    body: bytes,
    *,
    replayed: bool = False,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        *(extra or []),
    ]
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _send_error(send: Send, error: GatewayError, request_id: str | None) -> None:
    body = envelope(error.status, error.message, reason=error.reason, request_id=request_id)
    extra = None
    if isinstance(error, RateLimited):
        extra = [(b"retry-after", str(error.retry_after).encode("ascii"))]
    await _send_raw(send, error.status, dumps(body), extra=extra)
