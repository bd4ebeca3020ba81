"""console accounts sessions audit and search indexes

Revision ID: i15a0001
Revises: i16b0001
Create Date: 2026-12-01 03:14:10.881230
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clearing_gateway.db

revision: str = "i15a0001"
down_revision: str | None = "i16b0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "console_audit",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_email", sa.String(length=254), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("source_ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_audit")),
    )
    with op.batch_alter_table("console_audit", schema=None) as batch_op:
        batch_op.create_index("ix_console_audit_created", ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_console_audit_merchant_id"), ["merchant_id"], unique=False
        )

    op.create_table(
        "console_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=True),
        sa.Column("disabled_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_console_accounts_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_accounts")),
        sa.UniqueConstraint("email", name=op.f("uq_console_accounts_email")),
    )
    with op.batch_alter_table("console_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_console_accounts_merchant_id"), ["merchant_id"], unique=False
        )

    op.create_table(
        "console_sessions",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["console_accounts.id"],
            name=op.f("fk_console_sessions_account_id_console_accounts"),
        ),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_console_sessions")),
    )
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_console_sessions_account_id"), ["account_id"], unique=False
        )

    with op.batch_alter_table("deposits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deposits_created_provider", ["created_at", "provider"], unique=False
        )
        batch_op.create_index(
            "ix_deposits_virtual_account_no", ["virtual_account_no"], unique=False
        )

    with op.batch_alter_table("virtual_accounts", schema=None) as batch_op:
        batch_op.create_index("ix_virtual_accounts_number", ["virtual_account_no"], unique=False)

    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_withdrawals_created_provider", ["created_at", "provider"], unique=False
        )
        batch_op.create_index(
            "ix_withdrawals_merchant_reference", ["merchant_reference"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.drop_index("ix_withdrawals_merchant_reference")
        batch_op.drop_index("ix_withdrawals_created_provider")

    with op.batch_alter_table("virtual_accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_virtual_accounts_number")

    with op.batch_alter_table("deposits", schema=None) as batch_op:
        batch_op.drop_index("ix_deposits_virtual_account_no")
        batch_op.drop_index("ix_deposits_created_provider")

    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_sessions_account_id"))

    op.drop_table("console_sessions")
    with op.batch_alter_table("console_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_accounts_merchant_id"))

    op.drop_table("console_accounts")
    with op.batch_alter_table("console_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_audit_merchant_id"))
        batch_op.drop_index("ix_console_audit_created")

    op.drop_table("console_audit")
