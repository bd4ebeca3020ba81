"""virtual accounts: drop the unused partner_service_id

Revision ID: 1bb5677f26fb
Revises: 621dd74d2f59
Create Date: 2026-11-21 07:02:34.288748
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1bb5677f26fb"
down_revision: str | None = "621dd74d2f59"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("virtual_accounts", schema=None) as batch_op:
        batch_op.drop_column("partner_service_id")


def downgrade() -> None:
    with op.batch_alter_table("virtual_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partner_service_id", sa.VARCHAR(length=16), nullable=True))
