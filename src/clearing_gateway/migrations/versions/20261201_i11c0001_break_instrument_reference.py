"""reconciliation breaks: the statement line's own reference (the instrument paid)

Revision ID: i11c0001
Revises: i12a0001
Create Date: 2026-12-01 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i11c0001"
down_revision: str | None = "i12a0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reconciliation_breaks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("instrument_reference", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reconciliation_breaks", schema=None) as batch_op:
        batch_op.drop_column("instrument_reference")
