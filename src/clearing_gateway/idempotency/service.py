"""requestId rules (DESIGN.md): same id + same body → the stored first response, byte for
byte; same id + different body → 409 IDEMPOTENCY_CONFLICT. Only successful responses are
stored: a rejected request changed nothing, so its requestId stays free.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.db import insert_ignoring_conflicts
from clearing_gateway.idempotency.models import IdempotencyRecord
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.errors import ErrorCode, GatewayError
from clearing_gateway.merchants.crypto import SecretBox

# A response that carries a secret (a webhook signing secret) is stored encrypted behind
# this marker; every other stored body is JSON and so starts with "{".
SEALED_PREFIX = b"sealed:"
# The key of the request's ASGI state an endpoint sets when its response carries a secret.
SEALED_RESPONSE_STATE = "idempotency_seal_response"


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: bytes


def fingerprint(method: str, path: str, canonical_body: str) -> str:
    digest = hashlib.sha256()
    for part in (method, path, canonical_body):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


async def claim(
    session: AsyncSession,
    *,
    merchant_id: uuid.UUID,
    request_id: str,
    method: str,
    path: str,
    request_fingerprint: str,
) -> StoredResponse | None:
    """Claim `request_id` for this transaction, or return the response already stored.

    On PostgreSQL the INSERT waits while another transaction holds the same key; when
    that one commits we see its stored response, when it rolls back we win the claim.
    """
    statement = insert_ignoring_conflicts(
        session.get_bind().dialect.name, IdempotencyRecord.__table__, ["merchant_id", "request_id"]
    ).values(
        merchant_id=merchant_id,
        request_id=request_id,
        fingerprint=request_fingerprint,
        method=method,
        path=path,
        created_at=utcnow(),
    )
    result = await session.execute(statement)
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return None
    record = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.merchant_id == merchant_id,
            IdempotencyRecord.request_id == request_id,
        )
    )
    if record is None or record.status_code is None or record.response_body is None:
        # Only possible if a row was written without its response: treat as busy.
        raise GatewayError(
            409, ErrorCode.IDEMPOTENCY_CONFLICT, "requestId: a request with this id is in progress"
        )
    if record.fingerprint != request_fingerprint:
        raise GatewayError(
            409,
            ErrorCode.IDEMPOTENCY_CONFLICT,
            "requestId: already used for a different request",
        )
    return StoredResponse(record.status_code, record.response_body)


async def store(
    session: AsyncSession,
    *,
    merchant_id: uuid.UUID,
    request_id: str,
    status_code: int,
    body: bytes,
) -> None:
    await session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.merchant_id == merchant_id,
            IdempotencyRecord.request_id == request_id,
        )
        .values(status_code=status_code, response_body=body)
    )


def seal(body: bytes, box: SecretBox) -> bytes:
    return SEALED_PREFIX + box.seal(body.decode("utf-8")).encode("ascii")


def unseal(body: bytes, box: SecretBox) -> bytes:
    """The stored body as first sent (a sealed one decrypted)."""
    if not body.startswith(SEALED_PREFIX):
        return body
    return box.open(body[len(SEALED_PREFIX) :].decode("ascii")).encode("utf-8")


async def purge_older_than(session: AsyncSession, age: dt.timedelta) -> int:
    result = await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - age)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
