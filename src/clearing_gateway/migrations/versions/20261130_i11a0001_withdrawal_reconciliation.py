"""withdrawals: submission fence, unconfirmed provider notice, operator review, provider fee

Revision ID: i11a0001
Revises: i11b0001
Create Date: 2026-11-30 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clearing_gateway.db

revision: str = "i11a0001"
down_revision: str | None = "i11b0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submit_token", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column(
                "submit_lease_until", clearing_gateway.db.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("notice_code", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("notice_at", clearing_gateway.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("review_reason", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("provider_fee", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.drop_column("provider_fee")
        batch_op.drop_column("review_reason")
        batch_op.drop_column("notice_at")
        batch_op.drop_column("notice_code")
        batch_op.drop_column("submit_lease_until")
        batch_op.drop_column("submit_token")
