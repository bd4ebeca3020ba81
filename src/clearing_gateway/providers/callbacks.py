"""The callback pipeline: store raw, verify, confirm, de-duplicate, hand to the domain.

    1. verify the request (signature, timestamp, partner id, shape) → normalised event,
       then store it with its verdict in one transaction whatever the verdict (a forged
       callback is kept as metadata and digest, without its body), an already-claimed
       event marked as a duplicate in the same commit;
    2. confirm it with the provider's read API where the provider's callbacks are not
       proof enough (Finpay, Finan) — outside any database transaction;
    3. in one transaction: claim the event key among genuine callbacks, run the domain
       handler registered for the event type, mark the row applied.

Domains register handlers at import time:

    from clearing_gateway.providers.callbacks import register_handler
    register_handler(PaymentReceived, apply_payment)   # async (session, event, row) -> None

With no handler registered a genuine event stays `verified` (recorded, not applied) and the
provider still gets its success answer. A handler raising `CallbackIgnored` marks the row
`ignored`; any other exception rolls back and answers 503 so the provider retries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clearing_gateway.db import unit_of_work
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.kit.metrics import count_callback
from clearing_gateway.providers.base import CallbackAdapter, CallbackReply, RawCallback
from clearing_gateway.providers.errors import CallbackIgnored, CallbackRejected, ProviderError
from clearing_gateway.providers.events import ProviderEvent
from clearing_gateway.providers.intake import CallbackIntake
from clearing_gateway.providers.models import CallbackStatus, ProviderCallback
from clearing_gateway.providers.repository import InboxRepository

log = get_logger("gateway.callbacks")

E = TypeVar("E", bound=ProviderEvent)
Handler = Callable[[AsyncSession, Any, ProviderCallback], Awaitable[None]]


class CallbackHandlers:
    def __init__(self) -> None:
        self._handlers: dict[type, Handler] = {}

    def register(
        self,
        event_type: type[E],
        handler: Callable[[AsyncSession, E, ProviderCallback], Awaitable[None]],
    ) -> None:
        self._handlers[event_type] = handler

    def unregister(self, event_type: type) -> None:
        self._handlers.pop(event_type, None)

    def find(self, event_type: type) -> Handler | None:
        return self._handlers.get(event_type)


# The process-wide registry the domains add to.
handlers = CallbackHandlers()
register_handler = handlers.register


async def process_callback(
    sessionmaker: async_sessionmaker[AsyncSession],
    adapter: CallbackAdapter,
    callback: RawCallback,
    registry: CallbackHandlers = handlers,
    intake: CallbackIntake | None = None,
) -> CallbackReply:
    """Verify, record and apply one callback; its verdict is counted in
    `gateway_provider_callbacks` (by the status its inbox row ends in)."""
    status, reply = await _process(sessionmaker, adapter, callback, registry, intake)
    count_callback(callback.provider, status)
    return reply


async def _process(
    sessionmaker: async_sessionmaker[AsyncSession],
    adapter: CallbackAdapter,
    callback: RawCallback,
    registry: CallbackHandlers,
    intake: CallbackIntake | None,
) -> tuple[str, CallbackReply]:
    # Verification is pure and in memory, so it runs first; then one transaction checks
    # whether a genuine event's key is already claimed and inserts the row with its
    # verdict: a forged, ignored or duplicate callback costs a single INSERT, and a
    # rejected one is stored without its body (metadata, size and digest only).
    verdict: CallbackReply | None = None
    event: ProviderEvent | None = None
    status, error = CallbackStatus.RECEIVED, None
    try:
        event = adapter.verify(callback)
    except CallbackIgnored as ignored:
        status, error, verdict = CallbackStatus.IGNORED, ignored.reason, adapter.accepted()
    except CallbackRejected as rejected:
        log.warning("callback.rejected", provider=callback.provider, reason=rejected.reason)
        status, error, verdict = (
            CallbackStatus.REJECTED,
            rejected.reason,
            adapter.rejected(rejected),
        )
    except Exception as exc:
        # An error verification did not foresee comes from the request (hostile JSON,
        # absurd numbers): it is refused as malformed and its row settled, never left
        # `received` behind a 500.
        log.exception("callback.unreadable", provider=callback.provider)
        unreadable = CallbackRejected(
            f"unreadable: {type(exc).__name__}: {str(exc)[:200]}", malformed=True
        )
        status, error, verdict = (
            CallbackStatus.REJECTED,
            unreadable.reason,
            adapter.rejected(unreadable),
        )
    if status == CallbackStatus.REJECTED and intake is not None:
        intake.rejected(callback.provider, callback.source)
    event_type = type(event).__name__ if event is not None else None
    async with unit_of_work(sessionmaker) as session:
        inbox = InboxRepository(session)
        if event is not None and await inbox.is_claimed(callback.provider, event.event_key):
            status, verdict = CallbackStatus.DUPLICATE, adapter.accepted()
        recorded = await inbox.record(
            callback,
            status=status,
            error=error,
            event_type=event_type,
            event_key=event.event_key if event is not None else None,
        )
        row_id = recorded.id
    if verdict is not None:
        return status, verdict
    assert event is not None
    assert event_type is not None

    async def mark(status: str, **fields: Any) -> None:
        async with unit_of_work(sessionmaker) as session:
            await InboxRepository(session).mark(row_id, status, **fields)

    try:
        event = await (intake.confirm(adapter, event) if intake else adapter.confirm(event))
    except CallbackRejected as error:
        log.warning("callback.unconfirmed", provider=callback.provider, reason=error.reason)
        if intake is not None:
            intake.rejected(callback.provider, callback.source)
        await mark(
            CallbackStatus.REJECTED,
            error=error.reason,
            event_type=event_type,
            event_key=event.event_key,
        )
        return CallbackStatus.REJECTED, adapter.rejected(error)
    except ProviderError as error:
        await mark(
            CallbackStatus.RECEIVED,
            error=f"confirmation failed: {error}",
            event_type=event_type,
            event_key=event.event_key,
        )
        return CallbackStatus.RECEIVED, adapter.unavailable()

    try:
        async with unit_of_work(sessionmaker) as session:
            repository = InboxRepository(session)
            status = await _apply(session, repository, registry, recorded, event)
            await repository.mark(row_id, status, event_type=event_type, event_key=event.event_key)
    except CallbackIgnored as ignored:
        await mark(
            CallbackStatus.IGNORED,
            error=ignored.reason,
            event_type=event_type,
            event_key=event.event_key,
        )
        status = CallbackStatus.IGNORED
    except Exception as exc:
        log.exception("callback.handler_failed", provider=callback.provider, key=event.event_key)
        await mark(
            CallbackStatus.RECEIVED,
            error=f"handler failed: {type(exc).__name__}: {exc}",
            event_type=event_type,
            event_key=event.event_key,
        )
        return "failed", adapter.unavailable()
    return status, adapter.accepted()


async def reprocess(
    sessionmaker: async_sessionmaker[AsyncSession],
    adapter: CallbackAdapter,
    row: ProviderCallback,
    callback: RawCallback,
    registry: CallbackHandlers = handlers,
) -> str:
    """Run a stored callback through verification, confirmation and its handler again
    (`clearing-gateway callbacks replay`), updating its own inbox row. The event claim
    makes this safe: an event already applied comes out `duplicate`, never twice."""
    error: str | None
    try:
        event = adapter.verify(callback)
    except CallbackIgnored as ignored:
        status, error = CallbackStatus.IGNORED, ignored.reason
    except CallbackRejected as rejected:
        status, error = CallbackStatus.REJECTED, rejected.reason
    else:
        status, error = await _confirm_and_apply(sessionmaker, adapter, row, event, registry)
    if status in (CallbackStatus.IGNORED, CallbackStatus.REJECTED, CallbackStatus.RECEIVED):
        async with unit_of_work(sessionmaker) as session:
            await InboxRepository(session).mark(row.id, status, error=error)
    count_callback(row.provider, status)
    return status


async def _confirm_and_apply(
    sessionmaker: async_sessionmaker[AsyncSession],
    adapter: CallbackAdapter,
    row: ProviderCallback,
    event: ProviderEvent,
    registry: CallbackHandlers,
) -> tuple[str, str | None]:
    try:
        event = await adapter.confirm(event)
    except CallbackRejected as error:
        return CallbackStatus.REJECTED, error.reason
    except ProviderError as error:
        return CallbackStatus.RECEIVED, f"confirmation failed: {error}"
    event_type = type(event).__name__
    try:
        async with unit_of_work(sessionmaker) as session:
            repository = InboxRepository(session)
            status = await _apply(session, repository, registry, row, event)
            await repository.mark(row.id, status, event_type=event_type, event_key=event.event_key)
    except CallbackIgnored as ignored:
        return CallbackStatus.IGNORED, ignored.reason
    except Exception as exc:
        log.exception("callback.replay_failed", provider=row.provider, key=event.event_key)
        return CallbackStatus.RECEIVED, f"handler failed: {type(exc).__name__}: {exc}"
    return status, None


async def _apply(
    session: AsyncSession,
    repository: InboxRepository,
    registry: CallbackHandlers,
    row: ProviderCallback,
    event: ProviderEvent,
) -> str:
    if not await repository.claim(event.provider, event.event_key, row.id):
        return CallbackStatus.DUPLICATE
    handler = registry.find(type(event))
    if handler is None:
        return CallbackStatus.VERIFIED
    # The row as it was recorded (detached, read-only for handlers): not read back, one
    # round trip less per callback; its status is settled by `mark` after the handler.
    await handler(session, event, row)
    return CallbackStatus.APPLIED


async def apply_found(
    sessionmaker: async_sessionmaker[AsyncSession],
    event: ProviderEvent,
    raw: RawCallback,
    registry: CallbackHandlers = handlers,
) -> str:
    """Apply an event a reconciliation pass read from the provider's own API through the
    same claim and handler as a callback: a payment found both ways is applied once.

    An event key already claimed costs one read and records nothing; otherwise the
    provider's answer is kept as an inbox row (channel `reconciliation`) like a callback.
    """
    event_type = type(event).__name__
    async with unit_of_work(sessionmaker) as session:
        inbox = InboxRepository(session)
        if await inbox.is_claimed(event.provider, event.event_key):
            return CallbackStatus.DUPLICATE
        recorded = await inbox.record(raw)
        row_id = recorded.id
    try:
        async with unit_of_work(sessionmaker) as session:
            repository = InboxRepository(session)
            status = await _apply(session, repository, registry, recorded, event)
            await repository.mark(row_id, status, event_type=event_type, event_key=event.event_key)
    except CallbackIgnored as ignored:
        async with unit_of_work(sessionmaker) as session:
            await InboxRepository(session).mark(
                row_id,
                CallbackStatus.IGNORED,
                error=ignored.reason,
                event_type=event_type,
                event_key=event.event_key,
            )
        return CallbackStatus.IGNORED
    return status
