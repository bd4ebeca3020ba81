"""withdrawals: partial index on stuck_since (the console's stuck queue and count)

Revision ID: i15a0002
Revises: i15a0001
Create Date: 2026-12-01 04:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i15a0002"
down_revision: str | None = "i15a0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_withdrawals_stuck_since",
            ["stuck_since"],
            unique=False,
            postgresql_where=sa.text("stuck_since IS NOT NULL"),
            sqlite_where=sa.text("stuck_since IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.drop_index("ix_withdrawals_stuck_since")
