"""ledger: gateway_ledger_apply(), the accounts changed at COMMIT in one round trip

Revision ID: i17b0001
Revises: i17a0002
Create Date: 2026-12-01 11:10:00

The changes a transaction defers to its COMMIT (ledger/shared_rows.py: the shared
clearing and fee rows, a busy merchant's vault) are applied by one call instead of one
UPDATE per account and an INSERT of the entries. Their row locks are held from the
first UPDATE to the COMMIT, and every statement in between is a round trip through an
event loop that is serving other requests; one call leaves only the COMMIT after the
locks. The function applies the changes in the order given (the caller's lock order),
each with the overdraft rule of a vault, writes one entry per change, and returns the
id of the first account that refused (the caller then rolls back), or NULL.
SQLite runs the same steps as separate statements (one writer, no lock to shorten).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "i17b0001"
down_revision: str | None = "i17a0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE OR REPLACE FUNCTION gateway_ledger_apply(
            account_ids uuid[],
            d_debits_pending bigint[],
            d_debits_posted bigint[],
            d_credits_pending bigint[],
            d_credits_posted bigint[],
            transfer_ids text[],
            events text[],
            made_at timestamptz[]
        ) RETURNS uuid
        LANGUAGE plpgsql AS $$
        DECLARE
            n integer;
            changed record;
        BEGIN
            FOR n IN 1 .. coalesce(array_length(account_ids, 1), 0) LOOP
                UPDATE ledger_accounts AS a SET
                    debits_pending = a.debits_pending + d_debits_pending[n],
                    debits_posted = a.debits_posted + d_debits_posted[n],
                    credits_pending = a.credits_pending + d_credits_pending[n],
                    credits_posted = a.credits_posted + d_credits_posted[n],
                    version = a.version + 1,
                    updated_at = made_at[n]
                WHERE a.id = account_ids[n]
                  AND (NOT a.must_not_go_negative
                       OR a.credits_posted + d_credits_posted[n]
                          - a.debits_posted - d_debits_posted[n]
                          - a.debits_pending - d_debits_pending[n] >= 0)
                RETURNING a.debits_pending, a.debits_posted, a.credits_pending,
                          a.credits_posted, a.version
                INTO changed;
                IF NOT FOUND THEN
                    RETURN account_ids[n];
                END IF;
                INSERT INTO ledger_entries (
                    account_id, version, transfer_id, event,
                    debits_pending_delta, debits_posted_delta,
                    credits_pending_delta, credits_posted_delta,
                    debits_pending, debits_posted, credits_pending, credits_posted,
                    created_at
                ) VALUES (
                    account_ids[n], changed.version, transfer_ids[n], events[n],
                    d_debits_pending[n], d_debits_posted[n],
                    d_credits_pending[n], d_credits_posted[n],
                    changed.debits_pending, changed.debits_posted,
                    changed.credits_pending, changed.credits_posted,
                    made_at[n]
                );
            END LOOP;
            RETURN NULL;
        END
        $$
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "DROP FUNCTION IF EXISTS gateway_ledger_apply("
        "uuid[], bigint[], bigint[], bigint[], bigint[], text[], text[], timestamptz[])"
    )
