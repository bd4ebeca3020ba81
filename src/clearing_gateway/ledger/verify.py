"""`ledger verify`: re-derive every balance from history and check the invariants.

Checks: each account's counters equal the sum of its entries and its version equals
its entry count; each entry's running balance is the previous one plus its change;
each transfer event balances to zero per currency; each currency sums to zero across
all accounts; no vault is overdrawn and no counter is negative; no pending transfer is
without its held legs; each transfer's status agrees with its legs and with the entries
that moved money (`ledger/checks.py`).

The ledger against the deposits and withdrawals it records is checked by
`clearing_gateway.crosscheck` (the `ledger verify` command runs both).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.ledger.checks import TransferChecks
from clearing_gateway.ledger.repository import LedgerRepository
from clearing_gateway.ledger.shared_rows import apply_deferred


@dataclass(frozen=True)
class Finding:
    check: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.subject}: {self.detail}"


async def verify(session: AsyncSession) -> list[Finding]:
    """Every inconsistency found; an empty list means the ledger is sound."""
    await apply_deferred(session)
    repository = LedgerRepository(session)
    findings: list[Finding] = []
    for row in await repository.accounts_disagreeing_with_entries():
        findings.append(
            Finding(
                "balance",
                row.code,
                "counters (debits pending/posted, credits pending/posted, version) = "
                f"({row.debits_pending}, {row.debits_posted}, {row.credits_pending}, "
                f"{row.credits_posted}, {row.version}) but entries give "
                f"({row.dpend}, {row.dpost}, {row.cpend}, {row.cpost}, {row.top}) "
                f"over {row.n} entries",
            )
        )
    for row in await repository.broken_entry_chains():
        findings.append(
            Finding(
                "history",
                row.code,
                f"entry version {row.version} (transfer {row.transfer_id}) does not follow "
                "from the previous running balance",
            )
        )
    for row in await repository.unbalanced_transfer_events():
        findings.append(
            Finding(
                "transfer",
                row.transfer_id,
                f"{row.event} in {row.currency} does not sum to zero "
                f"(posted {row.posted}, pending {row.pending})",
            )
        )
    for row in await repository.currency_totals():
        if row.posted != 0 or row.pending != 0:
            findings.append(
                Finding(
                    "currency",
                    row.currency,
                    f"accounts sum to posted {row.posted}, pending {row.pending} (not zero)",
                )
            )
    for row in await repository.negative_accounts():
        findings.append(Finding("negative", row.code, f"available {row.available}"))
    for transfer_id in await repository.pending_transfers_without_holds():
        findings.append(Finding("hold", transfer_id, "pending transfer holds nothing"))
    for row in await TransferChecks(session).transfers_disagreeing_with_entries():
        findings.append(
            Finding(
                "transfer-state",
                row.id,
                f"status {row.status} but entries hold {row.held} and moved {row.moved} "
                f"for legs pending {row.pending_legs}, posted {row.posted_legs}",
            )
        )
    return findings
