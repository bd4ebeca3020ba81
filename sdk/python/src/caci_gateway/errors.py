"""Exceptions: every error the gateway answers carries its envelope's fields."""

from __future__ import annotations

from typing import Any


class CaciError(Exception):
    """Base of every SDK error."""


class ApiError(CaciError):
    """The gateway answered an error envelope.

    `code` is the HTTP status, `message` the stable machine-readable code (branch on it),
    `reason` the human text, `request_id` the request's requestId (or the server's id).
    """

    def __init__(
        self,
        *,
        code: int,
        message: str,
        reason: str,
        request_id: str | None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{code} {message}: {reason}")
        self.code = code
        self.message = message
        self.reason = reason
        self.request_id = request_id
        self.body = body
        self.retry_after = retry_after


class BadRequestError(ApiError):
    """400: the body is not JSON."""


class AuthenticationError(ApiError):
    """401: credentials, IP allowlist, timestamp window or signature."""


class NotFoundError(ApiError):
    """404."""


class MethodNotAllowedError(ApiError):
    """405."""


class ConflictError(ApiError):
    """409: IDEMPOTENCY_CONFLICT, DUPLICATE or CONFLICT."""


class PayloadTooLargeError(ApiError):
    """413."""


class ValidationError(ApiError):
    """422: VALIDATION_ERROR, UNSUPPORTED_BANK, INSUFFICIENT_BALANCE."""


class RateLimitError(ApiError):
    """429: retried automatically; raised when retries are exhausted."""


class ServerError(ApiError):
    """5xx: retried automatically; raised when retries are exhausted."""


class ConnectionFailedError(CaciError):
    """No answer from the gateway after every retry. The request may or may not have been
    applied: call again with the same `request_id` to find out safely."""

    def __init__(self, message: str, *, request_id: str | None) -> None:
        super().__init__(message)
        self.request_id = request_id


class WebhookVerificationError(CaciError):
    """A webhook's signature or timestamp did not verify: answer 400 and do not act."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: ValidationError,
    429: RateLimitError,
}


def error_for(
    status: int, body: Any, *, request_id: str | None, retry_after: float | None = None
) -> ApiError:
    envelope = body if isinstance(body, dict) else {}
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else ApiError)
    return kind(
        code=int(envelope.get("code", status)),
        message=str(envelope.get("message", "HTTP_ERROR")),
        reason=str(envelope.get("reason", "") or body),
        request_id=envelope.get("requestId") or request_id,
        body=body,
        retry_after=retry_after,
    )
