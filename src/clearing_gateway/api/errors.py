"""Every error leaves the API in the seed's envelope; never a stack trace."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from clearing_gateway.kit.envelope import error_response
from clearing_gateway.kit.errors import ErrorCode, GatewayError
from clearing_gateway.kit.logging import get_logger

log = get_logger("gateway.errors")

_HTTP_MESSAGES = {
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
}


def _request_id(request: Request) -> str | None:
    state = request.scope.get("state", {})
    value = state.get("merchant_request_id") or state.get("request_id")
    return str(value) if value else None


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (probed, as routers nest)."""
    allowed = []
    for method in _METHODS:
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def describe_validation(errors: list[Any]) -> tuple[int, str, str]:
    """(status, message, reason) for a list of pydantic/FastAPI validation errors."""
    if not errors:
        return 422, ErrorCode.VALIDATION_ERROR, "request is invalid"
    first = errors[0]
    kind = first.get("type", "")
    if kind == "json_invalid":
        return 400, ErrorCode.MALFORMED_JSON, "body: not valid JSON"
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(location) or "body"
    problem = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    if kind == "model_attributes_type" or (kind == "dict_type" and field == "body"):
        return 422, ErrorCode.VALIDATION_ERROR, "body: must be a JSON object"
    if kind == "missing" and field == "body":
        return 422, ErrorCode.VALIDATION_ERROR, "body: a JSON object is required"
    return 422, ErrorCode.VALIDATION_ERROR, f"{field}: {problem}"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def _gateway(request: Request, exc: GatewayError) -> Response:
        return error_response(exc.status, exc.message, exc.reason, request_id=_request_id(request))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        status, message, reason = describe_validation(list(exc.errors()))
        return error_response(status, message, reason, request_id=_request_id(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = _HTTP_MESSAGES.get(exc.status_code, ErrorCode.BAD_REQUEST)
        reason = exc.detail if isinstance(exc.detail, str) else message
        if exc.status_code == 404:
            reason = f"no such endpoint: {request.method} {request.url.path}"
        response = error_response(exc.status_code, message, reason, request_id=_request_id(request))
        if exc.status_code == 405:
            # Starlette names only the first route matching the path; a path served by
            # several routes (GET, PUT, DELETE /v1/users/{id}) allows all their methods.
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> Response:
        log.error("unhandled error", path=request.url.path, error=type(exc).__name__)
        return error_response(
            500,
            ErrorCode.INTERNAL_ERROR,
            "the request could not be completed",
            request_id=_request_id(request),
        )
