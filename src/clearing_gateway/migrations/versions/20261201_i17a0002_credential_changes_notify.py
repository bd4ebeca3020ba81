"""merchants, merchant_api_keys: a change NOTIFYs the API processes' credential caches

Revision ID: i17a0002
Revises: i17a0001
Create Date: 2026-12-01 03:50:00

Row-level triggers send the merchant id on `gateway_credentials` for every INSERT,
UPDATE or DELETE of a merchant or one of its API keys, whoever writes it (API, CLI,
console): each API process drops that merchant's cached credentials at the COMMIT.
SQLite has no NOTIFY, and no credential cache.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "i17a0002"
down_revision: str | None = "i17a0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "gateway_credentials"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for function, column in (
        ("gateway_merchant_changed", "id"),
        ("gateway_api_key_changed", "merchant_id"),
    ):
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    PERFORM pg_notify('{CHANNEL}', OLD.{column}::text);
                ELSE
                    PERFORM pg_notify('{CHANNEL}', NEW.{column}::text);
                END IF;
                RETURN NULL;
            END
            $$
            """
        )
    op.execute(
        "CREATE TRIGGER merchants_credentials_notify AFTER INSERT OR UPDATE OR DELETE "
        "ON merchants FOR EACH ROW EXECUTE FUNCTION gateway_merchant_changed()"
    )
    op.execute(
        "CREATE TRIGGER merchant_api_keys_credentials_notify AFTER INSERT OR UPDATE OR DELETE "
        "ON merchant_api_keys FOR EACH ROW EXECUTE FUNCTION gateway_api_key_changed()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS merchant_api_keys_credentials_notify ON merchant_api_keys")
    op.execute("DROP TRIGGER IF EXISTS merchants_credentials_notify ON merchants")
    op.execute("DROP FUNCTION IF EXISTS gateway_api_key_changed()")
    op.execute("DROP FUNCTION IF EXISTS gateway_merchant_changed()")
