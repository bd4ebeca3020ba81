"""Provider callback endpoints (outside /v1: no merchant auth, own transactions)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.kit.envelope import error_response
from clearing_gateway.kit.errors import ErrorCode
from clearing_gateway.kit.metrics import count_callback
from clearing_gateway.merchants.auth import client_address
from clearing_gateway.providers.base import RawCallback
from clearing_gateway.providers.callbacks import process_callback
from clearing_gateway.providers.intake import (
    BodyTooLarge,
    CallbackIntake,
    ConfirmationCoalescer,
    RejectionBudget,
    read_bounded,
    source_of,
    throttled,
)

router = APIRouter(prefix="/callbacks", tags=["Provider callbacks"], include_in_schema=False)

_INTAKE_KEY = "providers.callback_intake"
_RETRY_AFTER = {"Retry-After": "60"}

ROUTES = {
    ("topremit", "va"),
    ("topremit", "qris"),
    ("finpay", "disbursement"),
    ("finan", "webhook"),
}


def signed_paths(path: str, prefix: str) -> tuple[str, ...]:
    """The middleware routes on the path behind the prefix, but a provider calling the
    public URL signed the prefixed path; a direct call (a sandbox) signed the bare one."""
    return (prefix + path, path) if prefix else (path,)


async def _receive(request: Request, provider: str, channel: str) -> Response:
    runtime: Runtime = request.app.state.runtime
    providers = runtime.providers
    if providers is None:
        return error_response(503, ErrorCode.SERVICE_UNAVAILABLE, "providers are not configured")
    adapter = providers.callbacks[provider]
    guard = intake_of(runtime)
    peer = request.client.host if request.client else None
    source = source_of(
        client_address(
            peer,
            request.headers.get("x-forwarded-for"),
            runtime.settings.trusted_proxy_networks,
        )
    )
    if guard.budget.spent(provider, source):
        # Refused unread: nothing is held, stored or looked up for a source that has
        # spent its budget of rejected callbacks this minute.
        reply = throttled(adapter)
        count_callback(provider, "throttled")
        return Response(
            reply.body, reply.status_code, media_type=reply.media_type, headers=_RETRY_AFTER
        )
    try:
        body = await read_bounded(request, runtime.settings.max_body_bytes)
    except BodyTooLarge:
        guard.rejected(provider, source)
        return error_response(413, ErrorCode.PAYLOAD_TOO_LARGE, "callback body too large")
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    callback = RawCallback(
        provider=provider,
        channel=channel,
        path=path,
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
        signed_paths=signed_paths(path, runtime.settings.public_path_prefix),
        source=source,
    )
    reply = await process_callback(
        runtime.sessionmaker, adapter, callback, providers.handlers, guard
    )
    return Response(reply.body, reply.status_code, media_type=reply.media_type)


def intake_of(runtime: Runtime) -> CallbackIntake:
    """The process's callback guards, built from the settings on first use."""
    guard = runtime.extras.get(_INTAKE_KEY)
    if guard is None:
        settings = runtime.settings
        guard = runtime.extras[_INTAKE_KEY] = CallbackIntake(
            RejectionBudget(settings.callback_rejections_per_minute),
            ConfirmationCoalescer(settings.callback_confirmation_reuse_seconds),
        )
    assert isinstance(guard, CallbackIntake)
    return guard


@router.post("/topremit/va")
async def topremit_va(request: Request) -> Response:
    return await _receive(request, "topremit", "va")


@router.post("/topremit/qris")
async def topremit_qris(request: Request) -> Response:
    return await _receive(request, "topremit", "qris")


@router.post("/finpay/disbursement")
async def finpay_disbursement(request: Request) -> Response:
    return await _receive(request, "finpay", "disbursement")


@router.post("/finan/webhook")
async def finan_webhook(request: Request) -> Response:
    return await _receive(request, "finan", "webhook")
