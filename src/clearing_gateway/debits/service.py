"""Record every non-withdrawal debit of a merchant vault and announce it (`debit_notify`).

Called in the same transaction as the ledger transfer that debited the vault, so the
record, the webhook event and the money move commit together or not at all. Keyed per
(transfer, vault): a replayed transfer records and announces nothing again.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.debits.models import MerchantDebit
from clearing_gateway.debits.repository import DebitRepository
from clearing_gateway.debits.schemas import DebitType, account_name, debit_notify_payload
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.errors import not_found
from clearing_gateway.kit.ids import new_id
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import AccountKey, AccountKind
from clearing_gateway.webhooks import service as webhooks

EVENT_TYPE = "debit_notify"


def _destination(key: AccountKey) -> str:
    if key.kind is AccountKind.MERCHANT_VAULT:
        return account_name(key.provider, key.vault_type or "")
    if key.kind is AccountKind.FEE_REVENUE:
        return "fee"
    return f"{key.provider}:clearing"


async def record_transfer_debits(
    session: AsyncSession,
    transfer: ledger.Transfer,
    debit_type: DebitType,
    description: str | None = None,
) -> list[MerchantDebit]:
    """One debit (and one `debit_notify`) per merchant vault the posted transfer took
    money from. Returns the debits recorded now (empty on a replay)."""
    if transfer.status != "posted":
        raise ValueError("only a posted transfer debits a vault")
    totals: dict[AccountKey, int] = defaultdict(int)
    destinations: dict[AccountKey, str] = {}
    for posting in transfer.postings:
        if posting.debit.kind is AccountKind.MERCHANT_VAULT:
            totals[posting.debit] += posting.amount
            destinations.setdefault(posting.debit, _destination(posting.credit))
    repository = DebitRepository(session)
    recorded: list[MerchantDebit] = []
    for key in sorted(totals, key=lambda k: k.code):
        assert key.merchant_id is not None
        assert key.vault_type is not None
        balance = await ledger.account_balance(session, key)
        debit = MerchantDebit(
            id=new_id(),
            merchant_id=key.merchant_id,
            debit_type=debit_type.value,
            transfer_id=transfer.id,
            account_code=key.code,
            provider=key.provider,
            vault_type=key.vault_type,
            currency=key.currency,
            amount=totals[key],
            destination=destinations[key],
            balance_after=balance.available,
            description=description,
            created_at=utcnow(),
        )
        values = {c.name: getattr(debit, c.key) for c in MerchantDebit.__table__.columns}
        if not await repository.insert(values):
            continue
        await webhooks.publish(
            session,
            merchant_id=debit.merchant_id,
            event_type=EVENT_TYPE,
            transaction_id=str(debit.id),
            payload=debit_notify_payload(debit),
        )
        recorded.append(debit)
    return recorded


async def get_debit(
    session: AsyncSession, merchant_id: uuid.UUID, caci_tx_id: uuid.UUID
) -> MerchantDebit:
    debit = await DebitRepository(session).get(merchant_id, caci_tx_id)
    if debit is None:
        raise not_found(f"debit {caci_tx_id}")
    return debit


async def recent(
    session: AsyncSession, merchant_id: uuid.UUID | None, limit: int = 100
) -> list[MerchantDebit]:
    return await DebitRepository(session).recent(merchant_id, limit)
