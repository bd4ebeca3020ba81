"""reconciliation breaks: statement lines that disagree with the ledger

Revision ID: i11b0001
Revises: 1bb5677f26fb
Create Date: 2026-11-30 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clearing_gateway.db

revision: str = "i11b0001"
down_revision: str | None = "1bb5677f26fb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_breaks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("statement_date", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("provider_amount", sa.BigInteger(), nullable=True),
        sa.Column("ledger_amount", sa.BigInteger(), nullable=True),
        sa.Column("provider_status", sa.String(length=32), nullable=True),
        sa.Column("ledger_status", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("resolution_note", sa.String(length=1000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_breaks")),
        sa.UniqueConstraint(
            "provider",
            "statement_date",
            "kind",
            "reference",
            name=op.f("uq_reconciliation_breaks_provider_statement_date_kind_reference"),
        ),
    )
    op.create_index(
        "ix_reconciliation_breaks_status_created",
        "reconciliation_breaks",
        ["status", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_reconciliation_breaks_status_created", table_name="reconciliation_breaks")
    op.drop_table("reconciliation_breaks")
