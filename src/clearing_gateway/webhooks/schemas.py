"""Wire models of the webhooks API (seed 000, Webhooks)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from clearing_gateway.kit.request_id import RequestId

Url = Annotated[str, StringConstraints(min_length=1, max_length=2048, strip_whitespace=True)]
Description = Annotated[str, StringConstraints(max_length=500)]
TransactionId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)
]

# The gateway owns these: a merchant's custom header may not replace them.
RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "user-agent",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "host",
        "connection",
    }
)
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")
MAX_CUSTOM_HEADERS = 20


class EventType(StrEnum):
    VA_PAYMENT = "va_payment"
    TRANSFER = "transfer"
    QR_PAYMENT = "qr_payment"
    DEBIT_NOTIFY = "debit_notify"


class Trigger(StrEnum):
    INITIAL = "initial"
    AUTOMATIC = "automatic"
    MANUAL = "manual"


class DeliveryStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def _headers(value: dict[str, str]) -> dict[str, str]:
    if len(value) > MAX_CUSTOM_HEADERS:
        raise ValueError(f"at most {MAX_CUSTOM_HEADERS} custom headers")
    seen: set[str] = set()
    for name, header_value in value.items():
        lowered = name.lower()
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"{name!r} is not a valid header name")
        if lowered in RESERVED_HEADERS:
            raise ValueError(f"{name!r} is set by the gateway and cannot be overridden")
        if lowered in seen:
            raise ValueError(f"{name!r} is given twice")
        seen.add(lowered)
        if len(header_value) > 1024 or any(c in header_value for c in "\r\n\x00"):
            raise ValueError(f"value of {name!r} must be one line of at most 1024 characters")
    return value


CustomHeaders = Annotated[dict[str, str], AfterValidator(_headers)]


class CreateWebhookRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    requestId: RequestId
    eventType: EventType
    url: Url
    headers: CustomHeaders | None = None
    isActive: bool = True
    description: Description | None = None


class UpdateWebhookRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    requestId: RequestId
    eventType: EventType | None = None  # accepted only when unchanged
    url: Url | None = None
    headers: CustomHeaders | None = None
    isActive: bool | None = None
    description: Description | None = None


class RequestIdOnly(BaseModel):
    model_config = ConfigDict(extra="ignore")

    requestId: RequestId


class RetryRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    requestId: RequestId
    transactionId: TransactionId


class WebhookOut(BaseModel):
    id: str
    # The same value as `id`, under the name of the path parameter (`/v1/webhooks/{webhookId}`),
    # as every other resource returns its own id (`userId`, `transactionId`).
    webhookId: str
    eventType: str
    url: str
    headers: dict[str, str]
    isActive: bool
    description: str | None
    disabledReason: str | None
    createdAt: str
    updatedAt: str


class WebhookWithSecretOut(WebhookOut):
    secret: str = Field(description="Signing secret (whsec_…): shown only in this response")


class SecretOut(BaseModel):
    id: str
    secret: str
    previousSecretExpiresAt: str | None


class ScheduledDeliveryOut(BaseModel):
    webhookId: str
    url: str


class RetryOut(BaseModel):
    transactionId: str
    eventId: str
    eventType: str
    scheduled: list[ScheduledDeliveryOut]


class DeliveryOut(BaseModel):
    id: str
    webhookId: str
    eventId: str
    eventType: str
    transactionId: str
    url: str
    attempt: int
    trigger: str
    status: str
    statusCode: int | None
    latencyMs: int
    responseBody: str | None
    error: str | None
    nextAttemptAt: str | None
    createdAt: str
