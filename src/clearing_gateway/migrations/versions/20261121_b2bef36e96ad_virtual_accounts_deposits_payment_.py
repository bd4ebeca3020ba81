"""virtual accounts, deposits, payment exceptions, withdrawals

Revision ID: b2bef36e96ad
Revises: db740de718f4
Create Date: 2026-11-21 05:48:36.892373
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clearing_gateway.db

revision: str = "b2bef36e96ad"
down_revision: str | None = "db740de718f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "virtual_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("user_pk", sa.Uuid(), nullable=False),
        sa.Column("user_ref", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("bank_code", sa.String(length=8), nullable=False),
        sa.Column("virtual_account_no", sa.String(length=40), nullable=False),
        sa.Column("virtual_account_name", sa.String(length=200), nullable=False),
        sa.Column("provider_reference", sa.String(length=64), nullable=False),
        sa.Column("partner_service_id", sa.String(length=16), nullable=True),
        sa.Column("customer_no", sa.String(length=32), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("min_amount", sa.BigInteger(), nullable=False),
        sa.Column("max_amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expired_date", clearing_gateway.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_virtual_accounts_merchant_id_merchants"),
        ),
        sa.ForeignKeyConstraint(
            ["user_pk"], ["users.id"], name=op.f("fk_virtual_accounts_user_pk_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_virtual_accounts")),
        sa.UniqueConstraint(
            "provider",
            "bank_code",
            "virtual_account_no",
            name=op.f("uq_virtual_accounts_provider_bank_code_virtual_account_no"),
        ),
    )
    with op.batch_alter_table("virtual_accounts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_virtual_accounts_merchant_user", ["merchant_id", "user_ref"], unique=False
        )

    op.create_table(
        "withdrawals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("user_pk", sa.Uuid(), nullable=False),
        sa.Column("user_ref", sa.String(length=64), nullable=False),
        sa.Column("merchant_reference", sa.String(length=64), nullable=False),
        sa.Column("beneficiary_bank_code", sa.String(length=8), nullable=False),
        sa.Column("beneficiary_account_no", sa.String(length=34), nullable=False),
        sa.Column("beneficiary_account_name", sa.String(length=200), nullable=True),
        sa.Column("verified_account_name", sa.String(length=200), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("merchant_fee", sa.BigInteger(), nullable=True),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("provider_reference", sa.String(length=64), nullable=False),
        sa.Column("provider_transaction_id", sa.String(length=64), nullable=True),
        sa.Column("provider_status_code", sa.String(length=16), nullable=True),
        sa.Column("provider_message", sa.String(length=200), nullable=True),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("outcome_unknown", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.Column("next_poll_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("stuck_since", clearing_gateway.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("trx_date_time", clearing_gateway.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_withdrawals_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["user_pk"], ["users.id"], name=op.f("fk_withdrawals_user_pk_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawals")),
        sa.UniqueConstraint(
            "merchant_id",
            "merchant_reference",
            name=op.f("uq_withdrawals_merchant_id_merchant_reference"),
        ),
        sa.UniqueConstraint("provider_reference", name=op.f("uq_withdrawals_provider_reference")),
    )
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_withdrawals_merchant_created", ["merchant_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_withdrawals_merchant_user_created",
            ["merchant_id", "user_ref", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_withdrawals_status_updated", ["status", "updated_at"], unique=False
        )

    op.create_table(
        "deposits",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("payment_instrument_id", sa.Uuid(), nullable=False),
        sa.Column("user_pk", sa.Uuid(), nullable=False),
        sa.Column("user_ref", sa.String(length=64), nullable=False),
        sa.Column("instrument", sa.String(length=8), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("bank_code", sa.String(length=8), nullable=False),
        sa.Column("virtual_account_no", sa.String(length=40), nullable=False),
        sa.Column("payment_request_id", sa.String(length=128), nullable=False),
        sa.Column("payer_name", sa.String(length=200), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("net_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("trx_date_time", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_deposits_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["payment_instrument_id"],
            ["virtual_accounts.id"],
            name=op.f("fk_deposits_payment_instrument_id_virtual_accounts"),
        ),
        sa.ForeignKeyConstraint(["user_pk"], ["users.id"], name=op.f("fk_deposits_user_pk_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposits")),
        sa.UniqueConstraint(
            "provider", "payment_request_id", name=op.f("uq_deposits_provider_payment_request_id")
        ),
    )
    with op.batch_alter_table("deposits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deposits_merchant_created", ["merchant_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_deposits_merchant_status_created",
            ["merchant_id", "status", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_deposits_merchant_user_created",
            ["merchant_id", "user_ref", "created_at"],
            unique=False,
        )

    op.create_table(
        "withdrawal_status_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("withdrawal_id", sa.Uuid(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["withdrawal_id"],
            ["withdrawals.id"],
            name=op.f("fk_withdrawal_status_changes_withdrawal_id_withdrawals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawal_status_changes")),
    )
    with op.batch_alter_table("withdrawal_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_withdrawal_status_changes_withdrawal_id"),
            ["withdrawal_id"],
            unique=False,
        )

    op.create_table(
        "payment_exceptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("payment_request_id", sa.String(length=128), nullable=False),
        sa.Column("virtual_account_no", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=True),
        sa.Column("deposit_id", sa.Uuid(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("resolved_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("resolution_note", sa.String(length=500), nullable=True),
        sa.Column("created_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deposit_id"], ["deposits.id"], name=op.f("fk_payment_exceptions_deposit_id_deposits")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_payment_exceptions_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_exceptions")),
        sa.UniqueConstraint(
            "provider",
            "payment_request_id",
            name=op.f("uq_payment_exceptions_provider_payment_request_id"),
        ),
    )
    with op.batch_alter_table("payment_exceptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_exceptions_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_exceptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_exceptions_created_at"))

    op.drop_table("payment_exceptions")
    with op.batch_alter_table("withdrawal_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_withdrawal_status_changes_withdrawal_id"))

    op.drop_table("withdrawal_status_changes")
    with op.batch_alter_table("deposits", schema=None) as batch_op:
        batch_op.drop_index("ix_deposits_merchant_user_created")
        batch_op.drop_index("ix_deposits_merchant_status_created")
        batch_op.drop_index("ix_deposits_merchant_created")

    op.drop_table("deposits")
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.drop_index("ix_withdrawals_status_updated")
        batch_op.drop_index("ix_withdrawals_merchant_user_created")
        batch_op.drop_index("ix_withdrawals_merchant_created")

    op.drop_table("withdrawals")
    with op.batch_alter_table("virtual_accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_virtual_accounts_merchant_user")

    op.drop_table("virtual_accounts")
