"""The README's walk-through, run as a new user would: `merchants create --json >
merchant.json`, the `walkthrough.py` block verbatim against `clearing-gateway serve` in
sandbox mode (it ends with a successful withdrawal and its `transfer` webhook), then the
settlement commands. If the README changes, this test runs the new text."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from clearing_gateway.app import build_runtime
from clearing_gateway.cli import app as cli
from tests.conftest import TEST_ENCRYPTION_KEY, make_settings
from tests.sdk.conftest import _wait_ready, gateway_database
from tests.settlements.conftest import debit_events
from tests.support.receiver import free_port
from tests.support.seed_client import SeedClient

README = Path(__file__).resolve().parents[1] / "README.md"
UV_RUN = ".tools/bin/uv run "
BIN = Path(sys.executable).with_name("clearing-gateway")
__all__ = ["gateway_database"]
pytestmark = pytest.mark.timeout(600)


def block_after(marker: str, language: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(marker)
    match = re.compile(rf"```{language}\n(.*?)```", re.S).search(text, start)
    assert match is not None, f"no ```{language} block after {marker!r}"
    return match.group(1)


@dataclass
class Served:
    url: str
    env: dict[str, str]
    workdir: Path


@pytest.fixture(scope="module")
def served(gateway_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("walkthrough")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": gateway_database,
        "GATEWAY_ENV": "sandbox",
        "GATEWAY_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        "SANDBOX_SETTLE_DELAY_SECONDS": "0.1",
        "WORKER_POLL_INTERVAL_SECONDS": "0.05",
    }
    log_path = workdir / "gateway.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own executable, fixed arguments
            [str(BIN), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            # Generous: a cold interpreter on a busy CI machine can take a minute or more.
            _wait_ready(url, process, log_path, timeout=240)
            yield Served(url, env, workdir)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def run_command(line: str, served: Served, **substitutions: str) -> str:
    """A README shell line `.tools/bin/uv run clearing-gateway …`, run in-process (the
    same typer app the executable runs; an interpreter per command would cost seconds)."""
    assert line.startswith(UV_RUN + "clearing-gateway "), line
    for name, value in substitutions.items():
        line = line.replace(f'"${name}"', shlex.quote(value))
    words = shlex.split(line.removeprefix(UV_RUN))
    redirect = words.index(">") if ">" in words else None
    target = words[redirect + 1] if redirect is not None else None
    words = words[:redirect] if redirect is not None else words
    result = CliRunner().invoke(
        cli, words[1:], env={k: served.env[k] for k in ("DATABASE_URL", "GATEWAY_ENCRYPTION_KEY")}
    )
    assert result.exit_code == 0, result.output
    if target is not None:
        (served.workdir / target).write_text(result.stdout, encoding="utf-8")
    return result.stdout


def test_the_readme_walkthrough_ends_with_a_successful_withdrawal(served: Served) -> None:
    # 1. The merchant, exactly as the README creates it.
    (create,) = [
        line
        for line in block_after("In terminal 2", "sh").splitlines()
        if "merchants create" in line
    ]
    run_command(create, served)
    merchant = json.loads((served.workdir / "merchant.json").read_text(encoding="utf-8"))

    # 2. walkthrough.py, verbatim.
    script = served.workdir / "walkthrough.py"
    script.write_text(block_after("<!-- walkthrough.py", "python"), encoding="utf-8")
    walked = subprocess.run(  # noqa: S603 - the README's script, run by this interpreter
        [sys.executable, str(script)],
        env={**served.env, "CACI_URL": served.url, "WEBHOOK_PORT": str(free_port())},
        cwd=served.workdir,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert walked.returncode == 0, walked.stdout + walked.stderr
    lines = walked.stdout.splitlines()
    deposit = next(line.split() for line in lines if line.startswith("deposit "))
    assert deposit[2:] == ["COMPLETED", "150000.00"]
    transfers = [
        json.loads(line.split(" ", 2)[2]) for line in lines if line.startswith("webhook transfer ")
    ]
    success = transfers[-1]
    assert success["responseCode"] == "00"
    assert (success["originalPartnerReferenceNo"], success["beneficiaryAccountNo"]) == (
        "111111111",
        "888801000003301",
    )
    assert success["amount"] == {"value": "20000.00", "currency": "IDR"}
    confirmed = next(line.split() for line in lines if line.startswith("confirmed "))
    assert confirmed[1:] == [success["additionalInfo"]["caciTxId"], "SUCCESS"]

    # 3. The settlement commands: the deposit reaches the withdrawal vault.
    for line in block_after("<!-- settlement commands", "sh").splitlines():
        if line.startswith("M="):
            continue
        run_command(line, served, M=merchant["merchantId"])
    balances = asyncio.run(_balances(served.url, merchant))
    assert balances[("topremit", "deposit")] == "0.00"
    # 1,000,000.00 topped up - 20,000.00 paid out + 150,000.00 swept.
    assert balances[("finpay", "withdrawal")] == "1130000.00"
    (event,) = asyncio.run(_debit_events(served.env["DATABASE_URL"], merchant["merchantId"]))
    assert (event["debitType"], event["amount"]["value"]) == ("SETTLEMENT", "150000.00")


async def _balances(url: str, merchant: dict[str, str]) -> dict[tuple[str, str], str]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        client = SeedClient(http, merchant["apiKey"], merchant["apiSecret"])
        response = await client.get("/v1/balances")
    assert response.status_code == 200, response.text
    return {
        (group["provider"], vault["vaultType"]): vault["available"]
        for group in response.json()["data"]
        for vault in group["balances"]
    }


async def _debit_events(database_url: str, merchant_id: str) -> list[dict[str, object]]:
    import uuid

    runtime = build_runtime(make_settings(database_url))
    try:
        return await debit_events(runtime, uuid.UUID(merchant_id))
    finally:
        await runtime.aclose()
