"""provider callback inbox

Revision ID: 3a5f6322a393
Revises: b2bef36e96ad
Create Date: 2026-11-21 05:39:23.746046
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import clearing_gateway.db

revision: str = "3a5f6322a393"
down_revision: str | None = "b2bef36e96ad"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provider_callbacks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column(
            "headers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=True),
        sa.Column("event_key", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("processed_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_callbacks")),
    )
    with op.batch_alter_table("provider_callbacks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_provider_callbacks_provider_key", ["provider", "event_key"], unique=False
        )
        batch_op.create_index(
            "ix_provider_callbacks_status_received", ["status", "received_at"], unique=False
        )

    op.create_table(
        "provider_event_claims",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("callback_id", sa.Uuid(), nullable=False),
        sa.Column("claimed_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["callback_id"],
            ["provider_callbacks.id"],
            name=op.f("fk_provider_event_claims_callback_id_provider_callbacks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_event_claims")),
        sa.UniqueConstraint(
            "provider", "event_key", name=op.f("uq_provider_event_claims_provider_event_key")
        ),
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_table("provider_event_claims")
    with op.batch_alter_table("provider_callbacks", schema=None) as batch_op:
        batch_op.drop_index("ix_provider_callbacks_status_received")
        batch_op.drop_index("ix_provider_callbacks_provider_key")

    op.drop_table("provider_callbacks")
    # ### end Alembic commands ###
