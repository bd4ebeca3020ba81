"""settlement policies and sweeps; merchant debits (debit_notify)

Revision ID: i16b0001
Revises: i11c0001
Create Date: 2026-12-01 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clearing_gateway.db

revision: str = "i16b0001"
down_revision: str | None = "i11c0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "settlement_policies",
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("delay_days", sa.Integer(), nullable=False),
        sa.Column("target_provider", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("run_at_minute", sa.Integer(), nullable=False),
        sa.Column("updated_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "mode IN ('off', 'on_demand', 'scheduled')",
            name=op.f("ck_settlement_policies_mode_known"),
        ),
        sa.CheckConstraint(
            "delay_days >= 0 AND delay_days <= 30",
            name=op.f("ck_settlement_policies_delay_in_range"),
        ),
        sa.CheckConstraint(
            "run_at_minute >= 0 AND run_at_minute < 1440",
            name=op.f("ck_settlement_policies_run_at_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_settlement_policies_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint("merchant_id", name=op.f("pk_settlement_policies")),
    )
    op.create_table(
        "settlement_sweeps",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("sweep_key", sa.String(length=64), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("transfer_id", sa.String(length=128), nullable=False),
        sa.Column("target_provider", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("delay_days", sa.Integer(), nullable=False),
        sa.Column("cutoff", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_settlement_sweeps_amount_positive")),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_settlement_sweeps_merchant_id_merchants"),
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["ledger_transfers.id"],
            name=op.f("fk_settlement_sweeps_transfer_id_ledger_transfers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_sweeps")),
        sa.UniqueConstraint(
            "merchant_id", "sweep_key", name=op.f("uq_settlement_sweeps_merchant_id_sweep_key")
        ),
        sa.UniqueConstraint("transfer_id", name=op.f("uq_settlement_sweeps_transfer_id")),
    )
    op.create_index(
        "ix_settlement_sweeps_created", "settlement_sweeps", ["created_at"], unique=False
    )
    op.create_table(
        "merchant_debits",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("debit_type", sa.String(length=16), nullable=False),
        sa.Column("transfer_id", sa.String(length=128), nullable=False),
        sa.Column("account_code", sa.String(length=160), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("vault_type", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("destination", sa.String(length=64), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_merchant_debits_amount_positive")),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_merchant_debits_merchant_id_merchants"),
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["ledger_transfers.id"],
            name=op.f("fk_merchant_debits_transfer_id_ledger_transfers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_debits")),
        sa.UniqueConstraint(
            "transfer_id",
            "account_code",
            name=op.f("uq_merchant_debits_transfer_id_account_code"),
        ),
    )
    op.create_index(
        "ix_merchant_debits_merchant_created",
        "merchant_debits",
        ["merchant_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_merchant_debits_merchant_created", table_name="merchant_debits")
    op.drop_table("merchant_debits")
    op.drop_index("ix_settlement_sweeps_created", table_name="settlement_sweeps")
    op.drop_table("settlement_sweeps")
    op.drop_table("settlement_policies")
