"""qris and cash-in instruments: qr content and payment url

Revision ID: 621dd74d2f59
Revises: 14190c62e84a
Create Date: 2026-11-21 06:09:19.907353
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "621dd74d2f59"
down_revision: str | None = "14190c62e84a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("virtual_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("qr_content", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("payment_url", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("virtual_accounts", schema=None) as batch_op:
        batch_op.drop_column("payment_url")
        batch_op.drop_column("qr_content")
