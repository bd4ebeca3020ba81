"""Dependencies endpoints use to reach what the merchant API middleware prepared."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.config import Settings
from clearing_gateway.merchants.models import Merchant

# Declared for the OpenAPI document; verification happens in MerchantApiMiddleware.
_api_key = APIKeyHeader(
    name="X-Api-Key", scheme_name="ApiKeyAuth", auto_error=False, description="Merchant API key"
)
_signature = APIKeyHeader(
    name="X-Signature",
    scheme_name="SignatureAuth",
    auto_error=False,
    description="Lowercase hex HMAC-SHA512(secret, METHOD|PATH|BODY|TIMESTAMP)",
)
_timestamp = APIKeyHeader(
    name="X-Timestamp",
    scheme_name="TimestampAuth",
    auto_error=False,
    description="Unix time in milliseconds (±5 min)",
)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_settings(request: Request) -> Settings:
    return get_runtime(request).settings


def get_session(request: Request) -> AsyncSession:
    session: AsyncSession = request.state.db
    return session


def get_merchant(
    request: Request,
    _key: str | None = Security(_api_key),
    _sig: str | None = Security(_signature),
    _ts: str | None = Security(_timestamp),
) -> Merchant:
    merchant: Merchant = request.state.merchant
    return merchant


def get_request_id(request: Request) -> str | None:
    value: str | None = request.state.merchant_request_id
    return value


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
MerchantDep = Annotated[Merchant, Depends(get_merchant)]
