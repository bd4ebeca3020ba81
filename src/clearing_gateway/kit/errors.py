"""The one error type the API raises, and its stable machine-readable messages.

`message` is a contract: merchants branch on it. `reason` is for humans and names the
offending field or condition. The HTTP status always equals the envelope's `code`.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # 400 / 413 / 422: the request itself
    BAD_REQUEST = "BAD_REQUEST"
    MALFORMED_JSON = "MALFORMED_JSON"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    # 401: authentication
    MISSING_CREDENTIALS = "MISSING_CREDENTIALS"
    UNKNOWN_API_KEY = "UNKNOWN_API_KEY"
    INVALID_TIMESTAMP = "INVALID_TIMESTAMP"
    TIMESTAMP_OUT_OF_WINDOW = "TIMESTAMP_OUT_OF_WINDOW"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    IP_NOT_ALLOWED = "IP_NOT_ALLOWED"
    MERCHANT_DISABLED = "MERCHANT_DISABLED"
    # 404 / 405 / 409
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    DUPLICATE = "DUPLICATE"
    CONFLICT = "CONFLICT"
    # 422 business rules
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    UNSUPPORTED_BANK = "UNSUPPORTED_BANK"
    # 429
    TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"
    # 5xx
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


class GatewayError(Exception):
    def __init__(self, status: int, message: ErrorCode | str, reason: str) -> None:
        super().__init__(f"{status} {message}: {reason}")
        self.status = status
        self.message = str(message)
        self.reason = reason


def validation_error(field: str, problem: str) -> GatewayError:
    return GatewayError(422, ErrorCode.VALIDATION_ERROR, f"{field}: {problem}")


def not_found(what: str) -> GatewayError:
    return GatewayError(404, ErrorCode.NOT_FOUND, f"{what} not found")


def unauthorized(message: ErrorCode, reason: str) -> GatewayError:
    return GatewayError(401, message, reason)
