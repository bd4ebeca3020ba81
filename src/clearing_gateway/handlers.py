"""Every domain's provider-callback handlers, registered on the process-wide registry."""

from __future__ import annotations

from clearing_gateway.deposits import callbacks as deposits_callbacks
from clearing_gateway.providers.callbacks import CallbackHandlers, handlers
from clearing_gateway.withdrawals import callbacks as withdrawals_callbacks

DOMAINS = (deposits_callbacks, withdrawals_callbacks)


def load_callback_handlers(registry: CallbackHandlers = handlers) -> None:
    """(Re-)register each domain's handlers; safe to call once per app."""
    for domain in DOMAINS:
        domain.register(registry)
