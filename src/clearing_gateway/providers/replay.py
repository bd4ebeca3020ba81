"""Replaying a stored provider callback: an operator's action, from `clearing-gateway
callbacks replay` or the console's callbacks queue.

The callback runs through verification, confirmation and its handler again and updates
its own inbox row. Its timestamp is checked against the moment it arrived (a replay
after an outage is not a stale forgery), and the event-key claim makes it safe: an
event applied already comes out `duplicate`, never twice.

    before, after = await replay_stored(runtime, callback_id)
"""

from __future__ import annotations

import copy
import uuid

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.providers.base import RawCallback
from clearing_gateway.providers.callbacks import reprocess
from clearing_gateway.providers.endpoints import signed_paths
from clearing_gateway.providers.models import CallbackStatus
from clearing_gateway.providers.repository import InboxRepository

# A replay of these would change nothing or could not be checked.
NOT_REPLAYABLE = {
    CallbackStatus.APPLIED: "it was applied already",
    CallbackStatus.VERIFIED: "its event is claimed already (verified)",
}


class ReplayRefused(Exception):
    """The stored callback cannot be replayed (unknown, applied, bodiless, not a callback)."""


async def replay_stored(runtime: Runtime, callback_id: uuid.UUID) -> tuple[str, str]:
    """Replay one stored callback; (its status before, its status after)."""
    async with runtime.sessionmaker() as session:
        row = await InboxRepository(session).get(callback_id)
    if row is None:
        raise ReplayRefused(f"no callback {callback_id}")
    if row.status in NOT_REPLAYABLE:
        raise ReplayRefused(f"callback {callback_id} is not replayed: {NOT_REPLAYABLE[row.status]}")
    assert runtime.providers is not None
    if row.provider not in runtime.providers.callbacks or row.channel in (
        "reconciliation",
        "statement",
    ):
        raise ReplayRefused("only callbacks a provider sent can be replayed")
    if not row.body:
        raise ReplayRefused(
            f"callback {callback_id} kept no body ({row.status}); ask {row.provider} to send "
            "it again, or let reconciliation find the payment"
        )
    adapter = copy.copy(runtime.providers.callbacks[row.provider])
    if hasattr(adapter, "clock"):
        arrived = row.received_at
        adapter.clock = lambda: arrived
    callback = RawCallback(
        provider=row.provider,
        channel=row.channel,
        path=row.path,
        headers=dict(row.headers),
        body=row.body,
        signed_paths=signed_paths(row.path, runtime.settings.public_path_prefix),
        source=row.source,
    )
    status = await reprocess(
        runtime.sessionmaker, adapter, row, callback, runtime.providers.handlers
    )
    return row.status, status
