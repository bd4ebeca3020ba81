"""Provider notifications about our transfers, already confirmed with the provider's
Check Status by the callback pipeline before they reach this handler."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.providers.callbacks import CallbackHandlers
from clearing_gateway.providers.errors import CallbackIgnored
from clearing_gateway.providers.events import DisbursementStatus, DisbursementStatusChanged
from clearing_gateway.providers.models import ProviderCallback
from clearing_gateway.withdrawals import service
from clearing_gateway.withdrawals.repository import WithdrawalRepository


async def apply_disbursement_status(
    session: AsyncSession, event: DisbursementStatusChanged, _row: ProviderCallback
) -> None:
    repository = WithdrawalRepository(session)
    found = await repository.by_reference(event.reference)
    if found is None or found.provider != event.provider:
        raise CallbackIgnored(f"no withdrawal with reference {event.reference!r}")
    withdrawal = await repository.get_for_update(found.id)
    assert withdrawal is not None
    if event.status is DisbursementStatus.NOT_FOUND:
        raise CallbackIgnored("the provider does not know this transfer")
    flagged = withdrawal.stuck_since
    changed = await service.apply_provider_outcome(
        session,
        withdrawal,
        service.ProviderOutcome.of(event),
        source=service.Source.CALLBACK,
    )
    # Check Status may lag the notification (a refund after success): never answer and
    # drop such news; it is kept on the withdrawal and re-checked (docs/reconciliation.md).
    kept = service.keep_unconfirmed_notice(withdrawal, event.notified_status, event.status)
    await session.flush()
    if not changed and not kept and withdrawal.stuck_since == flagged:
        # Late, repeated or out of order: statuses only move forward.
        raise CallbackIgnored(
            f"withdrawal is already {withdrawal.status}; "
            f"{event.provider_status_code} changes nothing"
        )


def register(registry: CallbackHandlers) -> None:
    registry.register(DisbursementStatusChanged, apply_disbursement_status)
