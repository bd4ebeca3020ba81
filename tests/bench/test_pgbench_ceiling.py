"""The pgbench ceiling's SQL is a real deposit in our schema's shapes: every replayed
transaction commits balanced ledger rows, an inbox row, a deposit and its outbox job."""

from __future__ import annotations

import asyncio
import shutil

import asyncpg
import pytest
from benchmarks import pgbench_ceiling
from benchmarks.harness import database_dsn

from tests.support.databases import postgres_reachable

REPORT = """transaction type: deposit_hot.sql
scaling factor: 1
number of clients: 16
number of transactions actually processed: 8123
number of failed transactions: 0 (0.000%)
latency average = 19.700 ms
initial connection time = 49.458 ms
tps = 812.345678 (without initial connection time)
"""


def test_parse_reads_the_figures_of_a_pgbench_report() -> None:
    figures = pgbench_ceiling.parse(REPORT)
    assert figures == {
        "deposits_per_s": 812.3,
        "deposits": 8123,
        "failures": 0,
        "latency_avg_ms": 19.7,
    }


def test_parse_refuses_a_report_without_a_result() -> None:
    with pytest.raises(RuntimeError, match="no result"):
        pgbench_ceiling.parse("connection to server failed")


needs_pgbench = pytest.mark.skipif(
    shutil.which("pgbench") is None or postgres_reachable() is not None,
    reason="pgbench and PostgreSQL are needed",
)


@needs_pgbench
@pytest.mark.parametrize("variant", sorted(pgbench_ceiling.VARIANTS))
def test_each_replayed_deposit_commits_balanced_rows(variant: str) -> None:
    database = f"ceiling_test_{variant}"
    clients, per_client = 3, 4
    deposits = clients * per_client

    async def run() -> dict[str, int]:
        await pgbench_ceiling.create(database)
        try:
            figures = await asyncio.to_thread(
                pgbench_ceiling.run_variant,
                database,
                variant,
                clients,
                transactions=per_client,
            )
            assert figures["deposits"] == deposits
            assert figures["failures"] == 0
            connection = await asyncpg.connect(database_dsn(database))
            try:
                row = await connection.fetchrow(
                    """SELECT (SELECT count(*) FROM deposits) AS deposits,
                              (SELECT count(*) FROM provider_callbacks) AS callbacks,
                              (SELECT count(*) FROM ledger_transfers) AS transfers,
                              (SELECT count(*) FROM jobs) AS jobs,
                              (SELECT count(*) FROM webhook_events) AS events,
                              (SELECT count(*) FROM ledger_entries) AS entries,
                              (SELECT sum(amount) FROM deposits) AS paid,
                              (SELECT sum(credits_posted - debits_posted)
                                 FROM ledger_accounts) AS imbalance,
                              (SELECT sum(credits_posted) FROM ledger_accounts
                                WHERE must_not_go_negative) AS vaults,
                              (SELECT sum(fee) FROM deposits) AS fees,
                              (SELECT debits_posted FROM ledger_accounts
                                WHERE code = 'provider_clearing:topremit:IDR') AS clearing"""
                )
            finally:
                await connection.close()
            return dict(row)
        finally:
            await pgbench_ceiling.drop(database)

    row = asyncio.run(run())
    for table in ("deposits", "callbacks", "transfers", "jobs", "events"):
        assert row[table] == deposits, table
    assert row["vaults"] == row["paid"] - row["fees"]
    if variant == "hot":
        # Both legs posted: the clearing account carries the whole payment, nothing lost.
        assert row["entries"] == 3 * deposits
        assert row["imbalance"] == 0
        assert row["clearing"] == row["paid"]
    else:
        # The shared rows are left to an aggregation: only the vault moves.
        assert row["entries"] == deposits
        assert row["clearing"] == 0
