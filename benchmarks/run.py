"""`make bench`: the deposit pipeline and the merchant API on PostgreSQL, against the
database's physical ceiling, all on loopback.

    .venv/bin/python -m benchmarks.run [--quick] [--profile] [--label NAME]

Creates a scratch database on TEST_DATABASE_URL's server, migrates it, starts the gateway
(`clearing-gateway serve`, sandbox, in-process worker), a webhook sink and this process as
the load generator; every load is bounded in count and in time. Then two API processes
and two workers (scale-out). The ceiling is `pgbench` committing the rows a deposit must
write, in our schema's shapes (benchmarks/pgbench/), with and without the shared clearing
and fee rows, measured right after the pipeline stages of the same run; the pipeline is
reported as a ratio of both. The replay of the gateway's own SQL (benchmarks/ceiling.py)
is kept as a diagnostic (`--replay`): it measures our design against itself.
Writes benchmarks/results/<label>.json and prints markdown tables.
The database is dropped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg

from benchmarks import ceiling, deposits, merchant_api, pgbench_ceiling, simulator
from benchmarks.harness import (
    Gateway,
    admin_dsn,
    create_database,
    create_merchant,
    database_dsn,
    drop_database,
    free_port,
    rss_mb,
    start_sink,
)

RESULTS = Path(__file__).parent / "results"


def _git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    dirty = subprocess.run(["git", "status", "--porcelain", "src"], capture_output=True, text=True)
    return done.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


async def _machine() -> dict[str, Any]:
    connection = await asyncpg.connect(admin_dsn())
    try:
        version = await connection.fetchval("SHOW server_version")
        settings = {
            name: await connection.fetchval(f"SHOW {name}")
            for name in ("synchronous_commit", "shared_buffers", "max_connections")
        }
    finally:
        await connection.close()
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "postgresql": version,
        "postgresql_settings": settings,
        "python": platform.python_version(),
        "commit": _git_commit(),
        "load_average_at_start": os.getloadavg(),
    }


def _profile(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    """py-spy on the gateway process while a stage runs (collapsed stacks)."""
    spy = Path(sys.executable).parent / "py-spy"
    return subprocess.Popen(
        [
            *(str(spy), "record", "--pid", str(pid), "--duration", str(int(seconds))),
            *("--rate", "200", "--format", "raw", "--output", str(out), "--nonblocking"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    database = f"bench_{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    results: dict[str, Any] = {"label": args.label, "machine": await _machine()}
    results["parameters"] = {k: v for k, v in vars(args).items() if k != "label"}
    await create_database(database)
    dsn = database_dsn(database)
    gateway = Gateway(database, workdir, {"LOG_LEVEL": args.log_level})
    sink_port = free_port()
    sink = start_sink(sink_port, workdir)
    sink_url = f"http://127.0.0.1:{sink_port}/hook"
    try:
        gateway.cli("migrate")
        port = free_port()
        server = gateway.serve(port)
        rss = {"idle": rss_mb(server.pid)}

        # --- deposit pipeline, one API process with its in-process worker ---------------
        merchant = create_merchant(gateway, "Bench Deposits")
        accounts = deposits.setup_accounts(merchant, port, args.users, sink_url)
        stages = []
        for concurrency in args.concurrency:
            requests, payment_ids = deposits.signed_callbacks(
                f"http://127.0.0.1:{port}", accounts, args.callbacks, f"C{concurrency}-"
            )
            spy = None
            if args.profile and concurrency == max(args.concurrency):
                spy = _profile(server.pid, args.stage_seconds, RESULTS / f"{args.label}.pyspy")
            stage = await deposits.run_stage(
                ports=[port],
                sink_port=sink_port,
                dsn=dsn,
                requests=requests,
                payment_ids=payment_ids,
                concurrency=concurrency,
                max_seconds=args.stage_seconds,
                drain_seconds=args.drain_seconds,
            )
            if spy is not None:
                spy.wait(timeout=args.stage_seconds + 30)
            stage["rss_mb"] = rss_mb(server.pid)
            stages.append(stage)
            _log(f"pipeline c={concurrency}", stage)
        best = max(stages, key=lambda s: s["deposits_per_s"])
        half = round(best["deposits_per_s"] / 2, 1)
        requests, payment_ids = deposits.signed_callbacks(
            f"http://127.0.0.1:{port}", accounts, int(half * args.paced_seconds), "H-"
        )
        at_half = await deposits.run_stage(
            ports=[port],
            sink_port=sink_port,
            dsn=dsn,
            requests=requests,
            payment_ids=payment_ids,
            rate=half,
            max_seconds=args.paced_seconds + 5,
            drain_seconds=args.drain_seconds,
        )
        _log(f"pipeline paced {half}/s", at_half)
        # --- the public simulator path, end to end -------------------------------------
        simulated = await simulator.run_stage(
            port=port,
            sink_port=sink_port,
            dsn=dsn,
            requests=simulator.payment_requests(merchant, accounts, args.callbacks),
            concurrency=args.simulator_concurrency,
            max_seconds=args.stage_seconds,
            drain_seconds=args.drain_seconds,
        )
        _log(f"simulator path c={args.simulator_concurrency}", simulated)
        rss["after_pipeline"] = rss_mb(server.pid)
        results["pipeline"] = {"stages": stages, "at_half_max": at_half, "simulator": simulated}

        # --- the physical ceiling, in the same run, with the gateway idle ---------------
        results["pgbench"] = await pgbench_ceiling.measure(
            clients=args.pgbench_clients, seconds=args.pgbench_seconds
        )
        for variant in pgbench_ceiling.VARIANTS:
            _log(f"pgbench ceiling ({variant})", results["pgbench"][variant])
            top = results["pgbench"][variant]["deposits_per_s"]
            results["pipeline"][f"ratio_to_pgbench_{variant}"] = (
                round(best["deposits_per_s"] / top, 3) if top else None
            )
            results["pipeline"][f"simulator_ratio_to_pgbench_{variant}"] = (
                round(simulated["end_to_end_per_s"] / top, 3) if top else None
            )

        # --- merchant API --------------------------------------------------------------
        api_merchant = create_merchant(gateway, "Bench API")
        api_accounts = deposits.setup_accounts(api_merchant, port, 4, sink_url)
        started = time.monotonic()
        ids = await merchant_api.bulk_deposits(dsn, api_accounts[0].instrument_id, args.deposits)
        results["bulk_insert_seconds"] = round(time.monotonic() - started, 1)
        _log("bulk insert", {"deposits": args.deposits, "seconds": results["bulk_insert_seconds"]})
        gateway.cli(
            "ledger",
            "top-up",
            "--merchant",
            api_merchant.merchant_id,
            "--provider",
            "finpay",
            "--vault",
            "withdrawal",
            "--amount",
            "1000000000.00",
            "--note",
            "benchmark funds",
            "--id",
            f"bench-funds:{api_merchant.merchant_id}",
        )
        results["merchant_api"] = await merchant_api.run_endpoints(
            port=port,
            merchant=api_merchant,
            deposit_ids=ids,
            user_refs=[a.customer_no for a in api_accounts],
            concurrency=args.api_concurrency,
            count=args.api_requests,
            max_seconds=args.stage_seconds,
            paced_rate=args.api_rate,
        )
        for name, figures in results["merchant_api"].items():
            _log(name, figures)
        rss["after_merchant_api"] = rss_mb(server.pid)
        results["rss_mb"] = rss
        gateway.stop(server)

        # --- scale-out: two API processes, two workers ------------------------------------
        ports = [free_port(), free_port()]
        for p in ports:
            gateway.serve(p, worker=False)
        gateway.worker("a")
        gateway.worker("b")
        concurrency = best["concurrency"]
        requests, payment_ids = deposits.signed_callbacks(
            f"http://127.0.0.1:{ports[0]}", accounts, args.callbacks, "S-"
        )
        scaled = await deposits.run_stage(
            ports=ports,
            sink_port=sink_port,
            dsn=dsn,
            requests=requests,
            payment_ids=payment_ids,
            concurrency=concurrency,
            max_seconds=args.stage_seconds,
            drain_seconds=args.drain_seconds,
        )
        _log(f"scale-out 2 API + 2 workers c={concurrency}", scaled)
        results["scale_out"] = {"single_process": best, "two_api_two_workers": scaled}
        gateway.stop_all()

        # --- diagnostic: the gateway's own SQL replayed without Python -----------------
        if args.replay:
            results["ceiling"] = await ceiling.measure(
                gateway=gateway,
                dsn=dsn,
                accounts=accounts,
                merchant=merchant,
                concurrency=concurrency,
                count=args.ceiling_transactions,
                max_seconds=args.stage_seconds,
            )
            _log(
                "own-SQL replay", {k: v for k, v in results["ceiling"].items() if k != "statements"}
            )
            top = results["ceiling"]["deposits_per_s"]
            results["pipeline"]["ratio_to_replay"] = (
                round(best["deposits_per_s"] / top, 2) if top else None
            )
        results["machine"]["load_average_at_end"] = os.getloadavg()
        results["targets"] = targets(results, args.api_rate)
        return results
    finally:
        gateway.stop_all()
        sink.terminate()
        sink.wait()
        await drop_database(database)


def targets(results: dict[str, Any], api_rate: float) -> dict[str, Any]:
    best = max(results["pipeline"]["stages"], key=lambda s: s["deposits_per_s"])
    steady = results["merchant_api"][f"GET /v1/deposits/{{id}} at {api_rate:g} req/s"]
    api = results["merchant_api"]
    measured = {
        "pipeline_over_pgbench_hot": results["pipeline"]["ratio_to_pgbench_hot"],
        "pipeline_over_pgbench_cold": results["pipeline"]["ratio_to_pgbench_cold"],
        "simulator_over_pgbench_hot": results["pipeline"]["simulator_ratio_to_pgbench_hot"],
        "webhook_p99_at_half_max_ms": results["pipeline"]["at_half_max"]["webhook_latency_p99_ms"],
        "get_deposit_rps": api.get("GET /v1/deposits/{id}", {}).get("per_second"),
        "post_withdrawals_rps": _first(api, "POST /v1/withdrawals"),
        "post_virtual_accounts_rps": _first(api, "POST /v1/virtual-accounts"),
        "api_process_rss_mb": max(results["rss_mb"].values()),
        "scale_out_over_single": round(
            results["scale_out"]["two_api_two_workers"]["deposits_per_s"] / best["deposits_per_s"],
            2,
        )
        if best["deposits_per_s"]
        else None,
    }
    return {
        name: {"before": BASELINE[name][0], "target": BASELINE[name][1], "measured": value}
        for name, value in measured.items()
    } | {
        "merchant_api_p99_at_200_rps_ms": {"target": "< 20", "measured": steady["p99_ms"]},
        "best_stage_concurrency": best["concurrency"],
    }


def _first(api: dict[str, Any], prefix: str) -> float | None:
    for name, figures in api.items():
        if name.startswith(prefix) and "per_second" in figures:
            return float(figures["per_second"])
    return None


# The "today" column (measured before this work, same machine) and its targets.
BASELINE: dict[str, tuple[Any, str]] = {
    "pipeline_over_pgbench_hot": ("0.02-0.03", ">= 0.25"),
    "pipeline_over_pgbench_cold": (None, ""),
    "simulator_over_pgbench_hot": ("0.01", ">= 0.1"),
    "webhook_p99_at_half_max_ms": (780, "< 100"),
    "get_deposit_rps": (276, ">= 1000"),
    "post_withdrawals_rps": (27, ">= 200"),
    "post_virtual_accounts_rps": (81, ">= 300"),
    "api_process_rss_mb": (123, "< 150"),
    "scale_out_over_single": ("lower", "not lower"),
}


def _log(title: str, figures: dict[str, Any]) -> None:
    shown = {k: v for k, v in figures.items() if not isinstance(v, dict | list)}
    nested = figures.get("callbacks")
    if isinstance(nested, dict):
        shown.update({f"cb_{k}": v for k, v in nested.items() if k in ("p50_ms", "p99_ms")})
    print(f"[bench] {title}: {json.dumps(shown)}", file=sys.stderr, flush=True)


def table(results: dict[str, Any]) -> str:
    lines = [
        "| deposit pipeline | deposits/s | callback p50 / p95 / p99 ms | "
        "webhook p50 / p99 ms | deposits / transfers / webhooks |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    rows = [(f"concurrency {s['concurrency']}", s) for s in results["pipeline"]["stages"]]
    rows.append(
        (
            f"paced {results['pipeline']['at_half_max']['rate']}/s (half max)",
            results["pipeline"]["at_half_max"],
        )
    )
    rows.append(("scale-out: 2 API + 2 workers", results["scale_out"]["two_api_two_workers"]))
    simulated = results["pipeline"].get("simulator")
    for name, s in rows:
        c = s["callbacks"]
        lines.append(
            f"| {name} | {s['deposits_per_s']} | {c['p50_ms']} / {c['p95_ms']} / {c['p99_ms']} | "
            f"{s['webhook_latency_p50_ms']} / {s['webhook_latency_p99_ms']} | "
            f"{s['deposits']} / {s['ledger_transfers']} / {s['webhooks_received']} of {s['sent']} |"
        )
    if simulated is not None:
        c = simulated["requests"]
        lines.append(
            f"| simulator path c={simulated['concurrency']} (end to end) | "
            f"{simulated['end_to_end_per_s']} | {c['p50_ms']} / {c['p95_ms']} / {c['p99_ms']} | "
            f"{simulated['webhook_latency_p50_ms']} / {simulated['webhook_latency_p99_ms']} | "
            f"{simulated['deposits']} / {simulated['ledger_transfers']} / "
            f"{simulated['webhooks_received']} of {simulated['accepted']} |"
        )
    hot, cold = results["pgbench"]["hot"], results["pgbench"]["cold"]
    lines += [
        "",
        f"Physical ceiling (pgbench -c {hot['clients']}, our schema's shapes): "
        f"{hot['deposits_per_s']} deposits/s with the shared clearing + fee rows updated "
        f"last, {cold['deposits_per_s']} without them.",
        f"Pipeline ÷ hot ceiling = {results['pipeline']['ratio_to_pgbench_hot']}; "
        f"pipeline ÷ cold ceiling = {results['pipeline']['ratio_to_pgbench_cold']}.",
        f"Simulator path ÷ hot ceiling = "
        f"{results['pipeline'].get('simulator_ratio_to_pgbench_hot')}; ÷ cold ceiling = "
        f"{results['pipeline'].get('simulator_ratio_to_pgbench_cold')}.",
    ]
    if "ceiling" in results:
        replay = results["ceiling"]
        lines.append(
            f"Diagnostic, our own SQL replayed by asyncpg (concurrency "
            f"{replay['concurrency']}): {replay['deposits_per_s']} deposits/s; pipeline ÷ "
            f"replay = {results['pipeline']['ratio_to_replay']}."
        )
    lines += [
        "",
        "| merchant API | concurrency / rate | req/s | p50 ms | p99 ms | statuses |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, s in results["merchant_api"].items():
        if "pending" in s:
            lines.append(f"| {name} | | | | | pending: {s['pending']} |")
            continue
        load = s.get("concurrency") or f"{s.get('rate')}/s"
        lines.append(
            f"| {name} | {load} | {s['per_second']} | {s['p50_ms']} | {s['p99_ms']} | "
            f"{s['statuses']} |"
        )
    lines += ["", f"RSS of the API process (MB): {results['rss_mb']}", ""]
    lines += ["| target | before (issue) | target | measured |", "| --- | ---: | ---: | ---: |"]
    for name, figures in results["targets"].items():
        if isinstance(figures, dict) and "before" in figures:
            lines.append(
                f"| {name} | {figures['before']} | {figures['target']} | {figures['measured']} |"
            )
    machine = results["machine"]
    lines += [
        "",
        f"Load average at start {machine['load_average_at_start']}, at the ceiling "
        f"{results['pgbench']['load_average_at_start']}, at end "
        f"{machine.get('load_average_at_end')}.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="bench")
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    parser.add_argument("--profile", action="store_true", help="py-spy the busiest stage")
    parser.add_argument("--callbacks", type=int, default=400, help="callbacks per stage")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--stage-seconds", type=float, default=20.0)
    parser.add_argument("--drain-seconds", type=float, default=45.0)
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--deposits", type=int, default=1_000_000)
    parser.add_argument("--api-requests", type=int, default=2000)
    parser.add_argument("--api-concurrency", type=int, default=8)
    parser.add_argument("--simulator-concurrency", type=int, default=8)
    parser.add_argument("--api-rate", type=float, default=200.0)
    parser.add_argument("--ceiling-transactions", type=int, default=3000)
    parser.add_argument("--pgbench-clients", type=int, default=16)
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument(
        "--replay", action="store_true", help="also replay our own SQL (diagnostic)"
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args()
    if args.quick:
        args.callbacks, args.concurrency, args.deposits = 100, [1, 8], 20_000
        args.api_requests, args.ceiling_transactions, args.paced_seconds = 200, 300, 3
        args.pgbench_seconds = 5
    results = asyncio.run(bench(args))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{args.label}.json"
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(table(results))
    print(f"\nresults: {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
