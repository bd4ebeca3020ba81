"""Re-encrypt every stored secret with the primary key of the ring."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clearing_gateway.db import unit_of_work
from clearing_gateway.idempotency.service import SEALED_PREFIX
from clearing_gateway.keyring.repository import SEALED_COLUMNS, SealedColumn, page, replace
from clearing_gateway.merchants.crypto import SecretBox


@dataclass
class ColumnReport:
    name: str
    resealed: int = 0
    current: int = 0  # already under the primary key
    plain: int = 0  # values that were never sealed (idempotent responses without secrets)

    def as_json(self) -> dict[str, Any]:
        return {
            "column": self.name,
            "resealed": self.resealed,
            "current": self.current,
            "plain": self.plain,
        }


@dataclass
class Report:
    columns: list[ColumnReport] = field(default_factory=list)

    @property
    def resealed(self) -> int:
        return sum(c.resealed for c in self.columns)


async def reencrypt(
    sessionmaker: async_sessionmaker[AsyncSession], box: SecretBox, *, dry_run: bool = False
) -> Report:
    """One short transaction per batch: the API keeps working throughout. Raises
    SecretBoxError when a value opens with no key of the ring (nothing is changed for it;
    the batches before it are kept, and running again resumes)."""
    report = Report()
    for sealed in SEALED_COLUMNS:
        column = ColumnReport(sealed.name)
        report.columns.append(column)
        after: Any = None
        while True:
            async with unit_of_work(sessionmaker) as session:
                rows = await page(session, sealed, after)
                for row_id, value in rows:
                    await _one(session, sealed, box, row_id, value, column, dry_run)
            if not rows:
                break
            after = rows[-1][0]
    return report


async def _one(
    session: AsyncSession,
    sealed: SealedColumn,
    box: SecretBox,
    row_id: Any,
    value: Any,
    report: ColumnReport,
    dry_run: bool,
) -> None:
    if sealed.binary:
        if not value.startswith(SEALED_PREFIX):
            report.plain += 1
            return
        token = value[len(SEALED_PREFIX) :].decode("ascii")
    else:
        token = value
    if box.is_current(token):
        report.current += 1
        return
    resealed = box.reseal(token)
    new = SEALED_PREFIX + resealed.encode("ascii") if sealed.binary else resealed
    if dry_run or await replace(session, sealed, row_id, value, new):
        report.resealed += 1
    else:
        report.current += 1  # rewritten meanwhile, with the primary key
