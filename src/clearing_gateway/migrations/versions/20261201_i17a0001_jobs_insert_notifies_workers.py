"""jobs: an INSERT notifies the workers (PostgreSQL LISTEN/NOTIFY)

Revision ID: i17a0001
Revises: i15a0002
Create Date: 2026-12-01 03:40:00

A statement-level trigger, so every writer of the outbox (the API, the worker, the CLI)
wakes the workers at COMMIT without a statement of its own; NOTIFY inside a transaction
is delivered only if it commits and is folded to one per transaction. SQLite has no
NOTIFY: its single worker keeps polling.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "i17a0001"
down_revision: str | None = "i15a0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "gateway_jobs"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION gateway_jobs_notify() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER jobs_notify AFTER INSERT ON jobs "
        "FOR EACH STATEMENT EXECUTE FUNCTION gateway_jobs_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS jobs_notify ON jobs")
    op.execute("DROP FUNCTION IF EXISTS gateway_jobs_notify()")
