"""`ledger verify`, the domain half: every business row agrees with the ledger.

- every COMPLETED deposit has exactly one posted transfer `deposit:{provider}:{payment}`
  whose legs are its amount, of which fee revenue got its fee (the vault its net);
  a FAILED deposit has none; no deposit transfer exists without its deposit;
- every withdrawal's status matches its hold `withdrawal:{id}` (amount + fee): PENDING and
  PROCESSING ↔ pending, SUCCESS ↔ posted, FAILED ↔ voided, REFUNDED ↔ posted plus a
  posted refund `withdrawal-refund:{id}` of its amount; a refund exists only for REFUNDED;
  a paid withdrawal's provider fee is booked once (`withdrawal-provider-fee:{id}`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.config import Settings
from clearing_gateway.crosscheck.repository import CrossCheckRepository
from clearing_gateway.deposits.models import DepositStatus
from clearing_gateway.ledger import service as ledger
from clearing_gateway.ledger.accounts import PROVIDERS, AccountKey
from clearing_gateway.ledger.verify import Finding, verify
from clearing_gateway.providers.errors import ProviderError
from clearing_gateway.providers.hub import build_providers
from clearing_gateway.withdrawals.models import WithdrawalStatus
from clearing_gateway.withdrawals.service import hold_id, provider_fee_id, refund_id

# A healthy ledger has none; a broken one is listed this far (the first, oldest ones)
# and summarised beyond it, so one bad import cannot fill the worker's memory.
MAX_DEPOSIT_FINDINGS = 1000

HOLD_FOR = {
    WithdrawalStatus.PENDING: "pending",
    WithdrawalStatus.PROCESSING: "pending",
    WithdrawalStatus.SUCCESS: "posted",
    WithdrawalStatus.FAILED: "voided",
    WithdrawalStatus.REFUNDED: "posted",
}


async def verify_all(session: AsyncSession) -> list[Finding]:
    """The ledger's own invariants, then the domains against the ledger."""
    return [*await verify(session), *await cross_check(session)]


async def cross_check(session: AsyncSession) -> list[Finding]:
    repository = CrossCheckRepository(session)
    return [*await _deposits(repository), *await _withdrawals(repository)]


async def _deposits(repository: CrossCheckRepository) -> list[Finding]:
    findings = []
    rows = await repository.deposit_disagreements(MAX_DEPOSIT_FINDINGS + 1)
    if len(rows) > MAX_DEPOSIT_FINDINGS:
        rows = rows[:MAX_DEPOSIT_FINDINGS]
        findings.append(
            Finding(
                "deposit",
                "deposits",
                f"more than {MAX_DEPOSIT_FINDINGS} deposits disagree with the ledger; "
                f"the first {MAX_DEPOSIT_FINDINGS} are listed",
            )
        )
    for row in rows:
        subject = f"deposit {row.id}"
        if row.status == DepositStatus.COMPLETED:
            if row.transfer_id is None or row.transfer_status != "posted":
                findings.append(Finding("deposit", subject, "COMPLETED without a posted transfer"))
            elif (row.legs_total, row.legs_fee) != (row.amount, row.fee):
                findings.append(
                    Finding(
                        "deposit",
                        subject,
                        f"transfer moved {row.legs_total} (fee {row.legs_fee}) for an amount "
                        f"of {row.amount} (fee {row.fee}, net {row.net_amount})",
                    )
                )
            elif row.amount - row.fee != row.net_amount:
                findings.append(Finding("deposit", subject, "net is not amount minus fee"))
        elif row.transfer_id is not None:
            findings.append(Finding("deposit", subject, f"{row.status} but credited"))
    for transfer_id in await repository.deposit_transfers_without_deposit():
        findings.append(Finding("deposit", transfer_id, "deposit transfer without a deposit"))
    return findings


async def _withdrawals(repository: CrossCheckRepository) -> list[Finding]:
    findings = []
    transfers = await repository.transfers_of_kinds(
        "withdrawal", "withdrawal_refund", "provider_fee"
    )
    owned: set[str] = set()
    for row in await repository.withdrawals():
        subject = f"withdrawal {row.id}"
        status = WithdrawalStatus(row.status)
        hold = transfers.get(hold_id(row.id))
        refund = transfers.get(refund_id(row.id))
        fee = transfers.get(provider_fee_id(row.id))
        owned.update((hold_id(row.id), refund_id(row.id), provider_fee_id(row.id)))
        paid = status in (WithdrawalStatus.SUCCESS, WithdrawalStatus.REFUNDED)
        wanted_fee = row.provider_fee if paid and row.provider_fee else 0
        if (fee.posted_total if fee is not None else 0) != wanted_fee:
            findings.append(
                Finding("withdrawal", subject, f"provider fee {wanted_fee} is not booked once")
            )
        if hold is None:
            findings.append(Finding("withdrawal", subject, f"{status} without a hold"))
        elif hold.status != HOLD_FOR[status]:
            findings.append(
                Finding("withdrawal", subject, f"{status} but its hold is {hold.status}")
            )
        elif hold.held_total != row.amount + row.fee:
            findings.append(
                Finding(
                    "withdrawal",
                    subject,
                    f"hold of {hold.held_total} for amount {row.amount} + fee {row.fee}",
                )
            )
        if status is WithdrawalStatus.REFUNDED:
            if refund is None or refund.status != "posted":
                findings.append(Finding("withdrawal", subject, "REFUNDED without a refund"))
            elif refund.posted_total != row.amount:
                findings.append(
                    Finding(
                        "withdrawal",
                        subject,
                        f"refund of {refund.posted_total} for an amount of {row.amount}",
                    )
                )
        elif refund is not None:
            findings.append(Finding("withdrawal", subject, f"{status} but refunded"))
    for transfer_id in sorted(set(transfers) - owned):
        findings.append(Finding("withdrawal", transfer_id, "transfer without a withdrawal"))
    return findings


async def provider_balance(
    session: AsyncSession, provider: str, reported: int, currency: str = "IDR"
) -> Finding | None:
    """Provider clearing against the balance the provider reports, at rest (nothing in
    flight): what was placed there, less what was paid out and the provider's fees, plus
    what came back. Pending holds are not counted: the provider may not have them yet."""
    ours = await ledger.account_balance(session, AccountKey.clearing(provider, currency))
    held_there = ours.debits_posted - ours.credits_posted
    if held_there == reported:
        return None
    return Finding(
        "provider-balance",
        provider,
        f"provider clearing says {held_there}, the provider reports {reported}",
    )


async def provider_balances(
    session: AsyncSession, settings: Settings, names: Sequence[str]
) -> list[Finding]:
    """Ask each named provider for its balance and compare it with provider clearing.
    Only providers with a balance API can be asked (Finpay)."""
    providers = build_providers(settings)
    findings: list[Finding] = []
    try:
        for name in names:
            client = providers.connector(name) if name in PROVIDERS else None
            balance = getattr(client, "balance", None)
            if balance is None:
                findings.append(Finding("provider-balance", name, "no balance API to ask"))
                continue
            try:
                reported = await balance()
            except ProviderError as error:
                findings.append(Finding("provider-balance", name, f"could not ask: {error}"))
                continue
            finding = await provider_balance(session, name, reported)
            if finding is not None:
                findings.append(finding)
    finally:
        await providers.aclose()
    return findings
