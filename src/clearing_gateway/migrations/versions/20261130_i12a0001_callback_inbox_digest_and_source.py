"""callback inbox: body digest, size and source (rejected rows keep no body)

Revision ID: i12a0001
Revises: i11a0001
Create Date: 2026-11-30 20:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i12a0001"
down_revision: str | None = "i11a0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provider_callbacks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("body_size", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("source", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("provider_callbacks", schema=None) as batch_op:
        batch_op.drop_column("source")
        batch_op.drop_column("body_size")
        batch_op.drop_column("body_sha256")
