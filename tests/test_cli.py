"""The operator CLI against a real database."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from clearing_gateway.cli import app
from tests.conftest import TEST_ENCRYPTION_KEY


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {"DATABASE_URL": database_url, "GATEWAY_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_create_prints_only_json(cli_env: dict[str, str]) -> None:
    code, out, _ = run("merchants", "create", "--name", "Acme", "--ip", "10.0.0.0/8", "--json")
    assert code == 0
    issued = json.loads(out)  # stdout is exactly one JSON document
    assert set(issued) == {"merchantId", "apiKey", "apiSecret"}
    code, out, _ = run("merchants", "list", "--json")
    listed = json.loads(out)
    assert listed[0]["merchantId"] == issued["merchantId"]
    assert listed[0]["allowedIps"] == ["10.0.0.0/8"]
    assert issued["apiSecret"] not in out


def test_rotate_and_allow_ip(cli_env: dict[str, str]) -> None:
    _, out, _ = run("merchants", "create", "--name", "Acme", "--json")
    issued = json.loads(out)
    code, out, _ = run(
        "merchants", "rotate-key", issued["merchantId"], "--overlap-hours", "2", "--json"
    )
    assert code == 0
    rotated = json.loads(out)
    assert rotated["apiKey"] != issued["apiKey"]
    listed = json.loads(run("merchants", "list", "--json")[1])
    keys = {k["apiKey"]: k["expiresAt"] for k in listed[0]["apiKeys"]}
    assert keys[issued["apiKey"]] is not None  # old key expires after the overlap
    assert keys[rotated["apiKey"]] is None
    code, out, _ = run("merchants", "allow-ip", issued["merchantId"], "--ip", "192.0.2.1")
    assert code == 0
    assert json.loads(out)["allowedIps"] == ["192.0.2.1/32"]


def test_bad_input_is_a_clear_error(cli_env: dict[str, str]) -> None:
    code, _, err = run("merchants", "create", "--name", "Acme", "--ip", "not-an-ip")
    assert code == 1
    assert "not an IP address" in err
    code, _, err = run("merchants", "rotate-key", "nope")
    assert code == 1
    assert "not a valid merchant id" in err
    code, _, err = run(
        "merchants", "allow-ip", "00000000-0000-0000-0000-000000000000", "--ip", "1.2.3.4"
    )
    assert code == 1
    assert "unknown merchant" in err
