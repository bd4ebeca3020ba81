"""The public OpenAPI 3.1 document (`/openapi.json`), shaped for merchants and generators.

FastAPI derives paths and schemas from the endpoints; everything a merchant or a client
generator needs beyond that lives here, in one place, so endpoint modules stay untouched:
the seed's title, version and sections (tags), one security requirement naming all three
signing headers, hand-picked `operationId`s, the seed's request and response samples, every
error response in the envelope with its `message` codes, `servers` with and without the
`/d` prefix, and the outgoing webhooks. What goes beyond the seed is marked
`x-caci-addition: true`.

A route added without an entry in `OPERATIONS` still appears (with FastAPI's generated
id); `tests/api/test_openapi.py` fails and names the missing entry.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from clearing_gateway import __version__
from clearing_gateway.api import openapi_examples as samples

SEED_VERSION = "1.0.3"
ADDITION = "x-caci-addition"
# Never in the public document: the operator console and the provider sandboxes.
PRIVATE_PREFIXES = ("/console", "/sandbox", "/callbacks", "/metrics")
SECURITY_SCHEMES = ("ApiKeyAuth", "SignatureAuth", "TimestampAuth")
ALL_HEADERS_REQUIRED: list[dict[str, list[str]]] = [{name: [] for name in SECURITY_SCHEMES}]

USERS = "User Management"
INSTRUMENTS = "Payment Instruments"
VAS = "Virtual Accounts"
WITHDRAWALS = "Withdrawals"
DEPOSITS = "Deposits"
BALANCES = "Balances"
WEBHOOKS = "Webhooks"
SIMULATOR = "Payment Simulator"
OPERATIONS_TAG = "Operations"

# The seed's sections, in its order, with its words.
TAGS: list[dict[str, Any]] = [
    {"name": USERS, "description": "Merchant user CRUD operations"},
    {"name": INSTRUMENTS, "description": "Merchant payment instrument discovery"},
    {"name": VAS, "description": "Virtual account creation and management"},
    {"name": WITHDRAWALS, "description": "Withdrawal processing and inquiry"},
    {"name": DEPOSITS, "description": "Deposit transaction inquiry"},
    {"name": BALANCES, "description": "Merchant balance inquiry per provider and vault type"},
    {
        "name": WEBHOOKS,
        "description": (
            "Merchant webhook configuration, retry operations, and outgoing notification "
            "reference (see `webhooks` for the payloads and their signature headers)."
        ),
    },
    {
        "name": SIMULATOR,
        "description": "Payment simulation endpoints for non-production environments only.",
    },
    {
        "name": OPERATIONS_TAG,
        "description": "Liveness and readiness probes.",
        ADDITION: True,
    },
]


@dataclass(frozen=True)
class Operation:
    operation_id: str
    tag: str
    errors: tuple[int, ...] = ()
    addition: bool = False
    signed: bool = True
    request_example: Any = None
    response_example: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


# Error statuses beyond those every signed operation can answer (400/401/404/405/413/422/
# 429/500). 409 for mutations (idempotency), 503 where an upstream provider is called.
_MUTATION = (409,)
_PROVIDER = (409, 503)

# "METHOD /path" -> the operation's public identity. Hand-picked: generated clients name
# their functions after these, so they never change once published.
OPERATIONS: dict[str, Operation] = {
    "POST /v1/users": Operation(
        "createUser", USERS, _MUTATION, False, True, samples.CREATE_USER, samples.USER_201
    ),
    "GET /v1/users/{userId}": Operation("getUser", USERS, response_example=samples.USER_200),
    "PUT /v1/users/{userId}": Operation(
        "updateUser", USERS, _MUTATION, False, True, samples.UPDATE_USER, samples.USER_UPDATED
    ),
    "PATCH /v1/users/{userId}": Operation(
        "patchUser", USERS, _MUTATION, True, True, samples.UPDATE_USER, samples.USER_UPDATED
    ),
    "DELETE /v1/users/{userId}": Operation(
        "deleteUser", USERS, _MUTATION, False, True, samples.DELETE_USER, samples.USER_DELETED
    ),
    "GET /v1/users/{userId}/virtual-accounts": Operation(
        "listUserVirtualAccounts", USERS, response_example=samples.VA_LIST
    ),
    "GET /v1/payment-instruments": Operation(
        "listPaymentInstruments", INSTRUMENTS, response_example=samples.PAYMENT_INSTRUMENTS
    ),
    "POST /v1/qris": Operation(
        "createQris", INSTRUMENTS, _PROVIDER, True, True, samples.CREATE_QRIS, samples.QRIS_200
    ),
    "POST /v1/cash-in": Operation(
        "createCashIn",
        INSTRUMENTS,
        _PROVIDER,
        True,
        True,
        samples.CREATE_CASH_IN,
        samples.CASH_IN_200,
    ),
    "POST /v1/virtual-accounts": Operation(
        "createVirtualAccount", VAS, _PROVIDER, False, True, samples.CREATE_VA, samples.VA_200
    ),
    "GET /v1/virtual-accounts/{paymentInstrumentId}": Operation(
        "getVirtualAccount", VAS, response_example=samples.VA_GET
    ),
    "PUT /v1/virtual-accounts/{paymentInstrumentId}": Operation(
        "updateVirtualAccount", VAS, _MUTATION, False, True, samples.UPDATE_VA, samples.VA_UPDATED
    ),
    "PATCH /v1/virtual-accounts/{paymentInstrumentId}": Operation(
        "patchVirtualAccount", VAS, _MUTATION, True, True, samples.UPDATE_VA, samples.VA_UPDATED
    ),
    "POST /v1/withdrawals": Operation(
        "createWithdrawal",
        WITHDRAWALS,
        _PROVIDER,
        False,
        True,
        samples.CREATE_WITHDRAWAL,
        samples.WITHDRAWAL_201,
    ),
    "GET /v1/withdrawals": Operation(
        "listWithdrawals", WITHDRAWALS, response_example=samples.WITHDRAWAL_LIST
    ),
    "GET /v1/withdrawals/{transactionId}": Operation(
        "getWithdrawal", WITHDRAWALS, response_example=samples.WITHDRAWAL_GET
    ),
    "GET /v1/deposits": Operation("listDeposits", DEPOSITS, response_example=samples.DEPOSIT_LIST),
    "GET /v1/deposits/{transactionId}": Operation(
        "getDeposit", DEPOSITS, response_example=samples.DEPOSIT_GET
    ),
    "GET /v1/balances": Operation("getBalances", BALANCES, response_example=samples.BALANCES),
    "POST /v1/settlements/sweeps": Operation(
        "sweepSettledDeposits", BALANCES, _MUTATION, True, True, samples.SWEEP, samples.SWEEP_201
    ),
    "GET /v1/debits/{caciTxId}": Operation(
        "getDebit", BALANCES, addition=True, response_example=samples.DEBIT_200
    ),
    "POST /v1/webhooks": Operation(
        "createWebhook",
        WEBHOOKS,
        _MUTATION,
        False,
        True,
        samples.CREATE_WEBHOOK,
        samples.WEBHOOK_201,
    ),
    "GET /v1/webhooks": Operation("listWebhooks", WEBHOOKS, response_example=samples.WEBHOOK_LIST),
    "PUT /v1/webhooks/{webhookId}": Operation(
        "updateWebhook",
        WEBHOOKS,
        _MUTATION,
        False,
        True,
        samples.UPDATE_WEBHOOK,
        samples.WEBHOOK_UPDATED,
    ),
    "PATCH /v1/webhooks/{webhookId}": Operation(
        "patchWebhook",
        WEBHOOKS,
        _MUTATION,
        True,
        True,
        samples.UPDATE_WEBHOOK,
        samples.WEBHOOK_UPDATED,
    ),
    "DELETE /v1/webhooks/{webhookId}": Operation(
        "deleteWebhook",
        WEBHOOKS,
        _MUTATION,
        False,
        True,
        samples.DELETE_WEBHOOK,
        samples.WEBHOOK_DELETED,
    ),
    "POST /v1/webhooks/retry": Operation(
        "retryWebhook", WEBHOOKS, _MUTATION, False, True, samples.RETRY, samples.RETRY_200
    ),
    "GET /v1/webhooks/deliveries": Operation(
        "listWebhookDeliveries", WEBHOOKS, addition=True, response_example=samples.DELIVERIES
    ),
    "POST /v1/webhooks/{webhookId}/rotate-secret": Operation(
        "rotateWebhookSecret",
        WEBHOOKS,
        _MUTATION,
        True,
        True,
        samples.ROTATE_SECRET,
        samples.ROTATE_SECRET_200,
    ),
    "POST /v1/simulator/deposits/inquiry": Operation(
        "simulateDepositInquiry",
        SIMULATOR,
        (),
        False,
        False,
        samples.SIMULATE_INQUIRY,
        samples.SIMULATE_INQUIRY_200,
    ),
    "POST /v1/simulator/deposits/payment": Operation(
        "simulateDepositPayment",
        SIMULATOR,
        (504,),
        False,
        False,
        samples.SIMULATE_PAYMENT,
        samples.SIMULATE_PAYMENT_201,
    ),
    "POST /v1/simulator/balances/top-up": Operation(
        "simulateBalanceTopUp",
        SIMULATOR,
        (409,),
        True,
        False,
        samples.SIMULATE_TOP_UP,
        samples.SIMULATE_TOP_UP_201,
    ),
    "GET /healthz": Operation("getLiveness", OPERATIONS_TAG, addition=True, signed=False),
    "GET /readyz": Operation("getReadiness", OPERATIONS_TAG, (503,), addition=True, signed=False),
}


# The seed's words for its parameters, with its examples.
PARAMETERS: dict[tuple[str, str], dict[str, Any]] = {
    ("path", "userId"): {"description": "Merchant user identifier", "example": "567890"},
    ("path", "paymentInstrumentId"): {
        "description": "Payment instrument identifier",
        "example": "019d35af-3233-7218-9135-170365519896",
    },
    ("path", "transactionId"): {
        "description": "Transaction identifier (the caciTxId of webhooks)",
        "example": "019d6638-6b62-7130-b90c-e4d1583f9597",
    },
    ("path", "caciTxId"): {
        "description": "The debit's id: `additionalInfo.caciTxId` of a debit_notify webhook",
        "example": "019dd5b1-7c2a-7f31-8a40-2b9e5c1d0a77",
    },
    ("path", "webhookId"): {
        "description": "Webhook identifier",
        "example": "717bf9b3-e8f2-4bf7-82fa-00a6bdaa7514",
    },
    ("query", "userId"): {"description": "Filter by merchant user"},
    ("query", "status"): {"description": "Filter by transaction status"},
    ("query", "startDate"): {
        "description": "Lower bound for requested_at (RFC3339). Max range 90 days. "
        "Defaults to 90 days before now.",
        "example": "2026-04-01T00:00:00Z",
    },
    ("query", "endDate"): {
        "description": "Upper bound for requested_at (RFC3339). Max range 90 days. "
        "Defaults to current time.",
        "example": "2026-04-30T23:59:59Z",
    },
    ("query", "trxDateTimeStart"): {"description": "Lower bound for trx_date_time (RFC3339)"},
    ("query", "trxDateTimeEnd"): {"description": "Upper bound for trx_date_time (RFC3339)"},
    ("query", "limit"): {"description": "Page size for pagination"},
    ("query", "offset"): {"description": "Offset for pagination"},
}

# The seed's descriptions of request fields, by (schema, field).
FIELDS: dict[str, dict[str, str]] = {
    "CreateUserRequest": {
        "requestId": "Idempotency key for this request",
        "userId": "Merchant user identifier",
        "kycName": "Legal/KYC name",
        "phone": "User phone number with country code",
        "email": "User email",
        "type": "User type",
        "nationality": "ISO country code (2 chars)",
        "idType": "Identity document type (optional)",
        "idNumber": "Identity document number (optional)",
        "whitelistedKycNames": "Alternate KYC names for verification",
        "whitelistedWithdrawalAccounts": "Whitelisted beneficiary accounts",
    },
    "UpdateUserRequest": {"requestId": "Idempotency key"},
    "DeleteRequest": {"requestId": "Idempotency key"},
    "RequestIdOnly": {"requestId": "Idempotency key"},
    "CreateVirtualAccountRequest": {
        "requestId": "Idempotency key",
        "userId": "User to bind VA to",
        "bankCode": "Destination VA bank/channel code (BI SNAP)",
    },
    "UpdateVirtualAccountRequest": {
        "requestId": "Idempotency key",
        "virtualAccountName": "New display name",
        "expiredDate": "New expiration timestamp",
    },
    "CreateWithdrawalRequest": {
        "requestId": "Idempotency key",
        "userId": "Merchant user identifier",
        "merchantReference": "Merchant transaction reference",
        "beneficiaryBankCode": "Beneficiary bank code (BI SNAP)",
        "beneficiaryAccountNo": "Beneficiary account number",
        "beneficiaryAccountName": "Beneficiary account holder name",
        "amount": "Transfer amount (decimal string)",
        "merchantFee": "Merchant fee override/echo for reporting to clearing",
    },
    "CreateWebhookRequest": {
        "requestId": "Idempotency key for this request",
        "eventType": "Event type to subscribe to",
        "url": "Valid HTTPS webhook destination URL",
        "headers": "Custom headers sent with every delivery",
        "isActive": "Whether the webhook should be active. Defaults to true.",
        "description": "Free-text label for this webhook",
    },
    "UpdateWebhookRequest": {
        "requestId": "Idempotency key",
        "url": "New webhook destination URL",
        "headers": "Custom headers sent with every delivery",
        "isActive": "Whether the webhook should be active",
        "description": "Free-text label",
    },
    "RetryRequest": {
        "requestId": "Idempotency key",
        "transactionId": "Transaction identifier to retry webhook for",
    },
    "DepositInquiryRequest": {
        "virtualAccountNo": "Virtual account number to look up",
        "bankCode": "VA bank code — accepts BI SNAP numeric codes or provider codes",
    },
    "DepositPaymentRequest": {
        "virtualAccountNo": "Virtual account number to receive the payment",
        "bankCode": "VA bank code — BI SNAP numeric codes (e.g. 014 for BCA, 503 for NOBU) "
        "or provider codes (e.g. BCA, NOBU)",
    },
}


# The seed's operation descriptions (where FastAPI has none of its own).
DESCRIPTIONS: dict[str, str] = {
    "createUser": "Create a new merchant user with KYC information and optional whitelisted "
    "accounts.",
    "getUser": "Retrieve detailed information of a specific merchant user.",
    "updateUser": "Update an existing merchant user. whitelistedWithdrawalAccounts is updated "
    "through this endpoint. Fields left out keep their value.",
    "deleteUser": "Soft delete a merchant user.",
    "listUserVirtualAccounts": "Retrieve all virtual accounts associated with a specific "
    "merchant user.",
    "listPaymentInstruments": "Returns payment instruments enabled for the authenticated "
    "merchant. Data is grouped by upstream provider so merchants can see provider-specific "
    "channel/bank availability.",
    "createVirtualAccount": "Create a new virtual account for a merchant user. This operation "
    "is synchronous.",
    "getVirtualAccount": "Retrieve details of a specific virtual account by its payment "
    "instrument ID.",
    "updateVirtualAccount": "Update an existing virtual account. This operation is synchronous.",
    "createWithdrawal": "Create a new withdrawal request. This operation is asynchronous. Use "
    "GET /v1/withdrawals/{transactionId} or merchant webhook to track final status.",
    "listWithdrawals": "List withdrawal transactions with optional filters and pagination.",
    "getWithdrawal": "Retrieve details of a specific withdrawal transaction.",
    "listDeposits": "List deposit transactions with optional filters and pagination.",
    "getDeposit": "Retrieve details of a specific deposit transaction by its CACI transaction "
    "ID (transactionId / caciTxId).",
    "createWebhook": "Register a new merchant webhook for a specific event type. The response "
    "carries the signing secret, shown only once.",
    "listWebhooks": "Retrieve all webhooks configured for the authenticated merchant.",
    "updateWebhook": "Update an existing merchant webhook configuration. Note: eventType "
    "cannot be changed after creation.",
    "deleteWebhook": "Delete an existing merchant webhook.",
    "retryWebhook": "Retry webhook delivery for a specific transaction.",
    "simulateDepositInquiry": "Looks up a virtual account by account number and bank code, "
    "returning the VA details. Non-production environments only.",
    "simulateDepositPayment": "Simulates an inbound deposit payment to a virtual account. "
    "Creates a completed deposit transaction and triggers the configured merchant webhook. "
    "Non-production environments only.",
}


# --- errors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorResponse:
    name: str
    description: str
    messages: tuple[str, ...]
    example: tuple[str, str]
    headers: dict[str, Any] = field(default_factory=dict)


# Per status: the `message` codes it carries (docs/api-conventions.md, "Errors").
ERRORS: dict[int, ErrorResponse] = {
    400: ErrorResponse(
        "BadRequestError",
        "The body is not JSON (or not UTF-8), or `X-Timestamp` is not a number.",
        ("MALFORMED_JSON", "BAD_REQUEST", "INVALID_TIMESTAMP"),
        ("MALFORMED_JSON", "body: not valid JSON"),
    ),
    401: ErrorResponse(
        "UnauthorizedError",
        "Authentication failed: missing or unknown credentials, a source address not on "
        "the allowlist, a timestamp outside the window, or a wrong signature.",
        (
            "MISSING_CREDENTIALS",
            "UNKNOWN_API_KEY",
            "IP_NOT_ALLOWED",
            "TIMESTAMP_OUT_OF_WINDOW",
            "INVALID_SIGNATURE",
            "MERCHANT_DISABLED",
        ),
        ("INVALID_SIGNATURE", "X-Signature does not match the request"),
    ),
    404: ErrorResponse(
        "NotFoundError",
        "Unknown resource or endpoint (another merchant's resources included).",
        ("NOT_FOUND",),
        ("NOT_FOUND", "user 567890 not found"),
    ),
    405: ErrorResponse(
        "MethodNotAllowedError",
        "The method is not supported on this path; `Allow` lists those that are.",
        ("METHOD_NOT_ALLOWED",),
        ("METHOD_NOT_ALLOWED", "Method Not Allowed"),
        {
            "Allow": {
                "description": "Methods the path supports",
                "schema": {"type": "string"},
                "example": "GET, PUT, PATCH, DELETE",
            }
        },
    ),
    409: ErrorResponse(
        "ConflictError",
        "The `requestId` was used for a different request, the resource exists already, "
        "or its state forbids the change.",
        ("IDEMPOTENCY_CONFLICT", "DUPLICATE", "CONFLICT"),
        ("IDEMPOTENCY_CONFLICT", "requestId was already used for a different request"),
    ),
    413: ErrorResponse(
        "PayloadTooLargeError",
        "The body is larger than the limit (256 KiB by default).",
        ("PAYLOAD_TOO_LARGE",),
        ("PAYLOAD_TOO_LARGE", "body larger than 262144 bytes"),
    ),
    422: ErrorResponse(
        "ValidationFailedError",
        "A field is missing, of the wrong type or out of range (`reason` starts with its "
        "path), or a business rule refused the request.",
        ("VALIDATION_ERROR", "UNSUPPORTED_BANK", "INSUFFICIENT_BALANCE"),
        ("VALIDATION_ERROR", "kycName: Field required"),
    ),
    429: ErrorResponse(
        "RateLimitedError",
        "Too many requests from this merchant or address; wait `Retry-After` seconds.",
        ("TOO_MANY_REQUESTS",),
        ("TOO_MANY_REQUESTS", "too many requests; retry after 1 s"),
        {
            "Retry-After": {
                "description": "Seconds to wait before retrying",
                "schema": {"type": "integer"},
                "example": 1,
            }
        },
    ),
    500: ErrorResponse(
        "InternalServerError",
        "A fault on the gateway's side; nothing was changed. Retry with the same `requestId`.",
        ("INTERNAL_ERROR",),
        ("INTERNAL_ERROR", "the request could not be completed"),
    ),
    503: ErrorResponse(
        "UnavailableError",
        "No upstream provider could serve the request now (nothing was stored; retry with "
        "the same `requestId`), or the database is unreachable.",
        ("PROVIDER_UNAVAILABLE", "SERVICE_UNAVAILABLE"),
        ("PROVIDER_UNAVAILABLE", "no provider could create the virtual account now"),
    ),
    504: ErrorResponse(
        "GatewayTimeoutError",
        "The sandbox's callback did not arrive in time (simulator only).",
        ("SERVICE_UNAVAILABLE",),
        ("SERVICE_UNAVAILABLE", "the sandbox callback did not arrive in time"),
    ),
}
# What any signed request can be answered with, whatever the operation.
COMMON_SIGNED = (400, 401, 404, 405, 413, 422, 429, 500)
COMMON_OPEN = (400, 404, 405, 413, 422, 429, 500)


def _error_schema(status: int, spec: ErrorResponse) -> dict[str, Any]:
    return {
        "type": "object",
        "title": spec.name,
        "description": f"Error envelope of an HTTP {status}.",
        "required": ["code", "message", "reason", "timestamp"],
        "properties": {
            "code": {"type": "integer", "description": "Equals the HTTP status", "enum": [status]},
            "message": {
                "type": "string",
                "description": "Stable machine-readable error code",
                "enum": list(spec.messages),
            },
            "reason": {"type": "string", "description": "Human text naming the field or cause"},
            "requestId": {
                "type": "string",
                "description": "The request's requestId, else the server's X-Request-Id",
            },
            "timestamp": {"type": "integer", "description": "Unix time in milliseconds"},
        },
    }


def _error_response(status: int) -> dict[str, Any]:
    spec = ERRORS[status]
    message, reason = spec.example
    response: dict[str, Any] = {
        "description": spec.description,
        "content": {
            "application/json": {
                "schema": {"$ref": f"#/components/schemas/{spec.name}"},
                "example": {
                    "code": status,
                    "message": message,
                    "reason": reason,
                    "requestId": "2dd96e87-4f8f-460e-a04d-040370505552",
                    "timestamp": 1774723700223,
                },
            }
        },
    }
    if spec.headers:
        response["headers"] = copy.deepcopy(spec.headers)
    return response


# --- the document ------------------------------------------------------------------------

DESCRIPTION = """Merchant-facing APIs exposed by CACI Clearing Gateway for PAKD needs.

This API allows merchants to manage users, virtual accounts, deposits, and withdrawals
through the CACI Clearing Gateway API.

## Authentication

Every `/v1` request carries three headers, **all required** (one security requirement):

- `X-Api-Key`: the merchant API key
- `X-Timestamp`: Unix time in milliseconds, within 5 minutes of server time
- `X-Signature`: lowercase hex HMAC-SHA512 of `METHOD|PATH|BODY|TIMESTAMP` with the API
  secret. BODY is the request body with its keys sorted at every depth, compact
  (`json.dumps(body, sort_keys=True, separators=(",", ":"))`), or the empty string when
  there is no body (GET). PATH is the path only, without host or query string (with the
  `/d` prefix when calling through it).

Requests from addresses not whitelisted for the merchant are answered `401`.

## Idempotency

Every POST, PUT, PATCH and DELETE carries `requestId`. Sending the same request again with
the same `requestId` returns the first response byte for byte (header
`Idempotent-Replayed: true`); a different request with a used `requestId` is
`409 IDEMPOTENCY_CONFLICT`.

## Errors

Every error is the envelope `{code, message, reason, requestId?, timestamp}`; `code` equals
the HTTP status and `message` is a stable code listed with each response.

Elements marked `x-caci-addition: true` go beyond the CACI Clearing Gateway API 1.0.3
document; everything else follows it. The official SDK is `caci-gateway` (sdk/python).
"""


def _strip_titles(node: Any) -> None:
    """Drop pydantic's generated property titles ("Requestid"): they name nothing."""
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for prop in properties.values():
                if isinstance(prop, dict):
                    prop.pop("title", None)
        for key in ("items", "anyOf", "allOf", "oneOf"):
            value = node.get(key)
            if isinstance(value, dict):
                value.pop("title", None)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        item.pop("title", None)
        for value in node.values():
            _strip_titles(value)
    elif isinstance(node, list):
        for value in node:
            _strip_titles(value)


def _envelope_name(name: str) -> str:
    """`Envelope_UserOut_` -> `UserEnvelope`, `Envelope_list_WebhookOut__` ->
    `WebhookListEnvelope`: readable class names in generated clients."""
    inner = name.removeprefix("Envelope_").rstrip("_")
    if inner == "NoneType":
        return "EmptyEnvelope"
    is_list = inner.startswith("list_")
    inner = inner.removeprefix("list_").removesuffix("Out")
    return f"{inner}{'List' if is_list else ''}Envelope"


def _rename_envelopes(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document["components"]["schemas"]
    renames = {name: _envelope_name(name) for name in schemas if name.startswith("Envelope_")}
    text = json.dumps(document)
    for old, new in renames.items():
        text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
    renamed: dict[str, Any] = json.loads(text)
    components = renamed["components"]["schemas"]
    for old, new in renames.items():
        components[new] = components.pop(old)
        components[new]["title"] = new
    return renamed


def _envelope_of(data_schema: dict[str, Any], *, extra: dict[str, Any] | None = None) -> Any:
    properties: dict[str, Any] = {
        "code": {"type": "integer"},
        "message": {"type": "string"},
        "reason": {"type": "string"},
        "requestId": {"type": "string"},
        "timestamp": {"type": "integer"},
        "data": data_schema,
    }
    properties.update(extra or {})
    return {
        "type": "object",
        "required": ["code", "message", "timestamp"],
        "properties": properties,
    }


def _extra_schemas() -> dict[str, Any]:
    """Response shapes of endpoints that answer without a response model."""
    bank = {
        "type": "object",
        "properties": {"bankCode": {"type": "string"}, "name": {"type": "string"}},
    }
    instrument = {
        "type": "object",
        "properties": {
            "type": {"type": "string"},
            "currency": {"type": "string"},
            "status": {"type": "string"},
            "bankCodes": {"type": "array", "items": {"type": "string"}},
            "banks": {"type": "array", "items": bank},
        },
    }
    provider = {
        "type": "object",
        "title": "ProviderInstruments",
        "properties": {
            "provider": {"type": "string"},
            "instruments": {"type": "array", "items": instrument},
        },
    }
    return {
        "ProviderInstruments": provider,
        "PaymentInstrumentListEnvelope": _envelope_of(
            {"type": "array", "items": {"$ref": "#/components/schemas/ProviderInstruments"}}
        ),
        "SimulatedPaymentEnvelope": _envelope_of(
            {"$ref": "#/components/schemas/DepositOut"},
            extra={"transactionId": {"type": "string", "description": "The deposit created"}},
        ),
        "HealthEnvelope": _envelope_of({"type": "object", "additionalProperties": True}),
    }


# Success responses of endpoints FastAPI cannot describe (no response model).
_MODEL_LESS = {
    "GET /v1/payment-instruments": "PaymentInstrumentListEnvelope",
    "POST /v1/simulator/deposits/inquiry": "VirtualAccountEnvelope",
    "POST /v1/simulator/deposits/payment": "SimulatedPaymentEnvelope",
    "GET /healthz": "HealthEnvelope",
    "GET /readyz": "HealthEnvelope",
}


def _servers(prefix: str) -> list[dict[str, Any]]:
    direct = {"url": "/", "description": "The gateway itself (paths as listed)"}
    proxied = {
        "url": prefix or "/d",
        "description": (
            "Behind the public proxy that adds the seed's `/d` prefix (sign the full path, "
            "e.g. `/d/v1/users`)"
        ),
    }
    return [proxied, direct] if prefix else [direct, proxied]


def _contexts(app: FastAPI) -> list[RouteContext]:
    """The app's API routes, flattened through included routers, minus private ones."""
    return [
        context
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and not str(context.path).startswith(PRIVATE_PREFIXES)
    ]


def public_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(METHOD, path) of every route the document must describe."""
    found: list[tuple[str, str]] = []
    for context in _contexts(app):
        if getattr(context, "include_in_schema", True):
            found.extend((method, str(context.path)) for method in sorted(context.methods or ()))
    return found


def build_document(app: FastAPI, *, path_prefix: str = "") -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=SEED_VERSION,
        openapi_version="3.1.0",
        description=DESCRIPTION,
        routes=_contexts(app),
        tags=TAGS,
        contact={"name": "CACI Support Team", "email": "support@caci.id"},
        license_info={"name": "MIT", "identifier": "MIT"},
    )
    document = _rename_envelopes(document)
    document["info"]["x-gateway-version"] = __version__
    document["servers"] = _servers(path_prefix)
    document["security"] = ALL_HEADERS_REQUIRED
    components = document["components"]
    components["securitySchemes"] = _security_schemes()
    schemas = components["schemas"]
    schemas.update(_extra_schemas())
    for status, spec in ERRORS.items():
        schemas[spec.name] = _error_schema(status, spec)
    for unused in ("HTTPValidationError", "ValidationError", "ErrorEnvelope"):
        schemas.pop(unused, None)
    for path, item in list(document["paths"].items()):
        for method, op in item.items():
            _decorate(f"{method.upper()} {path}", op)
    for name, fields in FIELDS.items():
        properties = schemas.get(name, {}).get("properties", {})
        for field_name, text in fields.items():
            if field_name in properties:
                properties[field_name].setdefault("description", text)
    document["webhooks"] = webhooks()
    schemas.update(webhook_schemas())
    _strip_titles(document)
    return document


def _security_schemes() -> dict[str, Any]:
    def header(name: str, description: str) -> dict[str, Any]:
        return {"type": "apiKey", "in": "header", "name": name, "description": description}

    return {
        "ApiKeyAuth": header("X-Api-Key", "Merchant API key"),
        "SignatureAuth": header(
            "X-Signature", "Lowercase hex HMAC-SHA512 of METHOD|PATH|BODY|TIMESTAMP"
        ),
        "TimestampAuth": header(
            "X-Timestamp", "Unix timestamp in milliseconds (within 5 minutes of server time)"
        ),
    }


def _decorate(key: str, op: dict[str, Any]) -> None:
    spec = OPERATIONS.get(key)
    responses: dict[str, Any] = op.setdefault("responses", {})
    responses.pop("4XX", None)
    responses.pop("422", None)
    if spec is None:
        # Unlisted route: keep FastAPI's id; the test names it so an id is picked.
        op["security"] = ALL_HEADERS_REQUIRED if op.get("security") else []
        for status in COMMON_SIGNED:
            responses[str(status)] = _error_response(status)
        return
    op["operationId"] = spec.operation_id
    op["tags"] = [spec.tag]
    if spec.operation_id in DESCRIPTIONS and "description" not in op:
        op["description"] = DESCRIPTIONS[spec.operation_id]
    for parameter in op.get("parameters", []):
        parameter.get("schema", {}).pop("title", None)
        parameter.update(PARAMETERS.get((parameter["in"], parameter["name"]), {}))
    if spec.addition:
        op[ADDITION] = True
    # Simulator: the seed lists no authorization; credentials, when sent, are verified.
    op["security"] = ALL_HEADERS_REQUIRED if spec.signed else [{}, *ALL_HEADERS_REQUIRED]
    if key.startswith("GET /healthz") or key.startswith("GET /readyz"):
        op["security"] = []
    success = next((s for s in responses if s.startswith("2")), "200")
    if key in _MODEL_LESS:
        responses[success] = {
            "description": "Successful Response",
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{_MODEL_LESS[key]}"}}
            },
        }
    if spec.response_example is not None:
        responses[success]["content"]["application/json"]["example"] = spec.response_example
    if spec.request_example is not None and "requestBody" in op:
        op["requestBody"]["content"]["application/json"]["example"] = spec.request_example
    statuses = set(COMMON_SIGNED if spec.signed else COMMON_OPEN) | set(spec.errors)
    # A signed request without a body can still be malformed: a non-numeric X-Timestamp.
    if "requestBody" not in op and not spec.signed:
        statuses.discard(400)
    if key.startswith(("GET /healthz", "GET /readyz")):
        statuses = {404, 405, 429, 500, *spec.errors}
    for status in sorted(statuses):
        responses[str(status)] = _error_response(status)


# --- outgoing webhooks -------------------------------------------------------------------

WEBHOOK_HEADERS: list[dict[str, Any]] = [
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "description": "Event id (Standard Webhooks): the same on every retry; de-duplicate on it",
        "schema": {"type": "string"},
        "example": "019d35af-3233-7218-9135-170365519896",
        ADDITION: True,
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "description": "Unix time in seconds of this attempt; reject if too far from now",
        "schema": {"type": "string"},
        "example": "1774723700",
        ADDITION: True,
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "description": (
            "Space-separated `v1,<base64 HMAC-SHA256(secret, webhook-id.webhook-timestamp."
            "body)>` (two during a secret rotation); the secret is the `whsec_…` value "
            "returned by Create Webhook, base64-decoded after the prefix"
        ),
        "schema": {"type": "string"},
        "example": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
        ADDITION: True,
    },
    {
        "name": "User-Agent",
        "in": "header",
        "required": True,
        "schema": {"type": "string", "enum": ["CACI-PG-Webhook/1.0"]},
    },
]

_WEBHOOK_EVENTS: dict[str, tuple[str, str, Any, bool]] = {
    # event type -> (schema, summary, example, addition)
    "va_payment": (
        "VaPaymentEvent",
        "A deposit to a virtual account was processed (also sent, with "
        "`additionalInfo.failureReason`, when it failed). Confirm with "
        "`GET /v1/deposits/{additionalInfo.caciTxId}`.",
        samples.VA_PAYMENT_EVENT,
        False,
    ),
    "transfer": (
        "TransferEvent",
        "A withdrawal's status changed (`responseCode` 01 Initiated, 03 Pending, 00 Success, "
        "06 Failed, 04 Refunded). Confirm with `GET /v1/withdrawals/{additionalInfo.caciTxId}`.",
        samples.TRANSFER_EVENT,
        False,
    ),
    "qr_payment": (
        "QrPaymentEvent",
        "A QRIS payment was processed: the va_payment body with `virtualAccountType` "
        '`"02"`. Confirm with `GET /v1/deposits/{additionalInfo.caciTxId}`.',
        samples.QR_PAYMENT_EVENT,
        True,
    ),
    "debit_notify": (
        "DebitNotifyEvent",
        "A merchant vault was debited by something other than a withdrawal (settlement "
        "sweep, separately charged fee, operator adjustment, provider cash-out). "
        "De-duplicate on `additionalInfo.caciTxId` and confirm with "
        "`GET /v1/debits/{additionalInfo.caciTxId}`. The seed lists the event type "
        "without a payload; this one follows its `transfer` body.",
        samples.DEBIT_NOTIFY_EVENT,
        True,
    ),
}


def webhooks() -> dict[str, Any]:
    section: dict[str, Any] = {}
    for event_type, (schema, summary, example, addition) in _WEBHOOK_EVENTS.items():
        post: dict[str, Any] = {
            "operationId": f"{_camel(event_type)}Webhook",
            "summary": f"{event_type} notification",
            "description": summary,
            "tags": [WEBHOOKS],
            "parameters": copy.deepcopy(WEBHOOK_HEADERS),
            "security": [],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{schema}"},
                        "example": example,
                    }
                },
            },
            "responses": {
                "200": {"description": "Received (200 or 201 count as delivered)"},
                "201": {"description": "Received"},
                "410": {"description": "Gone: the gateway deactivates this webhook"},
            },
        }
        if addition:
            post[ADDITION] = True
        section[event_type] = {"post": post}
    return section


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


def _string(description: str, *, nullable: bool = False) -> dict[str, Any]:
    kind: Any = ["string", "null"] if nullable else "string"
    return {"type": kind, "description": description}


def _money(description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": ["value", "currency"],
        "properties": {
            "value": _string("Amount as a decimal string with two decimals"),
            "currency": _string("ISO 4217 code, e.g. IDR"),
        },
    }


def webhook_schemas() -> dict[str, Any]:
    deposit_info = {
        "type": "object",
        "required": ["caciTxId"],
        "properties": {
            "minAmount": {"type": "integer", "description": "Whole currency units"},
            "maxAmount": {"type": "integer", "description": "Whole currency units; 0 = none"},
            "bankCode": _string("Bank code of the VA (e.g. BCA, BNI)"),
            "customerInfo": {
                "type": "object",
                "properties": {
                    "customer_id": _string("The user's gateway id"),
                    "customer_ref_id": _string("Merchant-side user reference"),
                    "given_name": _string("KYC name"),
                    "email": _string("User email", nullable=True),
                    "mobile": _string("User phone", nullable=True),
                },
            },
            "expiredDate": _string("VA expiry (RFC 3339)", nullable=True),
            "failureReason": _string(
                "Populated on failed payments; null on success", nullable=True
            ),
            "merchantUserId": _string("Merchant's user reference"),
            "caciTxId": _string(
                "The transaction's CACI id: de-duplicate on it and confirm with "
                "GET /v1/deposits/{caciTxId}"
            ),
        },
    }
    deposit_event: dict[str, Any] = {
        "type": "object",
        "required": ["trxId", "paymentRequestId", "paidAmount", "additionalInfo"],
        "properties": {
            "partnerServiceId": _string("Merchant UUID"),
            "customerNo": _string("Merchant-side user reference"),
            "virtualAccountNo": _string("VA number that received the payment"),
            "trxId": _string("Internal transaction ID"),
            "paymentRequestId": _string("This payment's id at the upstream bank or provider"),
            "paidAmount": _money("Amount paid"),
            "trxDateTime": _string("Timestamp from the provider (RFC 3339)"),
            "virtualAccountName": _string("VA display name"),
            "virtualAccountType": _string('"01" virtual account, "02" QRIS'),
            "virtualAccountPhone": _string("User phone", nullable=True),
            "virtualAccountEmail": _string("User email", nullable=True),
            "additionalInfo": deposit_info,
        },
    }
    transfer_event = {
        "type": "object",
        "required": ["responseCode", "amount", "additionalInfo"],
        "properties": {
            "originalReferenceNo": _string("Provider's reference number for the transfer"),
            "originalPartnerReferenceNo": _string("Merchant's own reference number"),
            "responseCode": _string("01 Initiated, 03 Pending, 00 Success, 06 Failed, 04 Refunded"),
            "responseMessage": _string("Initiated, Pending, Success, Failed or Refunded"),
            "amount": _money("Transfer amount (without fee)"),
            "paymentInstrumentId": _string("Payment instrument UUID"),
            "beneficiaryAccountNo": _string("Destination account number"),
            "beneficiaryBankCode": _string("Destination bank code"),
            "sourceAccountNo": _string("The merchant's withdrawal vault"),
            "additionalInfo": {
                "type": "object",
                "required": ["caciTxId"],
                "properties": {
                    "merchantUserId": _string("Merchant's user reference"),
                    "caciTxId": _string(
                        "The withdrawal's CACI id: de-duplicate on it and confirm with "
                        "GET /v1/withdrawals/{caciTxId}"
                    ),
                },
            },
        },
    }
    debit_event = {
        "type": "object",
        "description": "In the style of `transfer`; more keys may be added.",
        "required": ["amount", "additionalInfo"],
        "properties": {
            "originalReferenceNo": _string("The ledger transfer that debited the vault"),
            "responseCode": _string('"00" when the debit is booked'),
            "responseMessage": _string("Success"),
            "debitType": _string("SETTLEMENT, FEE, ADJUSTMENT or CASHOUT"),
            "amount": _money("Amount debited"),
            "provider": _string("Provider of the vault"),
            "vaultType": _string("deposit or withdrawal"),
            "sourceAccountNo": _string("The vault debited"),
            "destinationAccountNo": _string("The account credited"),
            "trxDateTime": _string("When the debit was booked (RFC 3339)"),
            "description": _string("Operator's note", nullable=True),
            "additionalInfo": {
                "type": "object",
                "required": ["caciTxId"],
                "properties": {
                    "balanceAfter": _string("The vault's balance after the debit"),
                    "caciTxId": _string(
                        "The debit's CACI id: de-duplicate on it and confirm with "
                        "GET /v1/debits/{caciTxId}"
                    ),
                },
            },
        },
        "additionalProperties": True,
        ADDITION: True,
    }
    qr_event = copy.deepcopy(deposit_event)
    qr_event[ADDITION] = True
    return {
        "VaPaymentEvent": deposit_event,
        "QrPaymentEvent": qr_event,
        "TransferEvent": transfer_event,
        "DebitNotifyEvent": debit_event,
    }


def install_openapi(app: FastAPI, *, path_prefix: str = "") -> None:
    """Replace FastAPI's generator with `build_document` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_document(app, path_prefix=path_prefix)
        return app.openapi_schema

    setattr(app, "openapi", openapi)  # noqa: B010 - FastAPI's documented override point
