"""ledger: accounts, transfers, postings, entries, fee schedules

Revision ID: 14190c62e84a
Revises: 3a5f6322a393
Create Date: 2026-11-21 05:34:35.408310
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clearing_gateway.db

revision: str = "14190c62e84a"
down_revision: str | None = "3a5f6322a393"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_fee_schedules",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("flat", sa.BigInteger(), nullable=False),
        sa.Column("percent_bps", sa.Integer(), nullable=False),
        sa.Column("updated_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("flat >= 0", name=op.f("ck_ledger_fee_schedules_flat_not_negative")),
        sa.CheckConstraint(
            "percent_bps >= 0 AND percent_bps <= 10000",
            name=op.f("ck_ledger_fee_schedules_percent_in_range"),
        ),
        sa.PrimaryKeyConstraint("provider", "method", name=op.f("pk_ledger_fee_schedules")),
    )
    op.create_table(
        "ledger_transfers",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("held_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("posted_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("voided_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'posted', 'voided')",
            name=op.f("ck_ledger_transfers_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transfers")),
    )
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("vault_type", sa.String(length=16), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("must_not_go_negative", sa.Boolean(), nullable=False),
        sa.Column("debits_pending", sa.BigInteger(), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "NOT must_not_go_negative OR credits_posted - debits_posted - debits_pending >= 0",
            name=op.f("ck_ledger_accounts_available_not_negative"),
        ),
        sa.CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0 "
            "AND credits_pending >= 0 AND credits_posted >= 0",
            name=op.f("ck_ledger_accounts_counters_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_ledger_accounts_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_ledger_accounts_code")),
    )
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_accounts_merchant", ["merchant_id", "provider", "vault_type"], unique=False
        )

    op.create_table(
        "ledger_entries",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("transfer_id", sa.String(length=128), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("debits_pending_delta", sa.BigInteger(), nullable=False),
        sa.Column("debits_posted_delta", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending_delta", sa.BigInteger(), nullable=False),
        sa.Column("credits_posted_delta", sa.BigInteger(), nullable=False),
        sa.Column("debits_pending", sa.BigInteger(), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), nullable=False),
        sa.Column("created_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_entries_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["ledger_transfers.id"],
            name=op.f("fk_ledger_entries_transfer_id_ledger_transfers"),
        ),
        sa.PrimaryKeyConstraint("account_id", "version", name=op.f("pk_ledger_entries")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_entries_transfer", ["transfer_id"], unique=False)

    op.create_table(
        "ledger_postings",
        sa.Column("transfer_id", sa.String(length=128), nullable=False),
        sa.Column("stage", sa.String(length=8), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("debit_account_id", sa.Uuid(), nullable=False),
        sa.Column("credit_account_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_postings_amount_positive")),
        sa.ForeignKeyConstraint(
            ["credit_account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_postings_credit_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["debit_account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_postings_debit_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["ledger_transfers.id"],
            name=op.f("fk_ledger_postings_transfer_id_ledger_transfers"),
        ),
        sa.PrimaryKeyConstraint("transfer_id", "stage", "seq", name=op.f("pk_ledger_postings")),
    )


def downgrade() -> None:
    op.drop_table("ledger_postings")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_transfer")

    op.drop_table("ledger_entries")
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_accounts_merchant")

    op.drop_table("ledger_accounts")
    op.drop_table("ledger_transfers")
    op.drop_table("ledger_fee_schedules")
