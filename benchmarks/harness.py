"""Processes and databases the benchmarks run against: a scratch PostgreSQL database,
gateway API and worker processes, the webhook sink, signed merchant requests."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from benchmarks.httpload import build_request
from clearing_gateway.merchants.signing import canonical_body, sign

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
GATEWAY = [str(Path(sys.executable).parent / "clearing-gateway")]


def admin_dsn() -> str:
    url = make_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_URL))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def database_dsn(name: str) -> str:
    url = make_url(admin_dsn()).set(database=name)
    return url.render_as_string(hide_password=False)


async def create_database(name: str) -> None:
    connection = await asyncpg.connect(admin_dsn())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_database(name: str) -> None:
    connection = await asyncpg.connect(admin_dsn())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


@dataclass
class Gateway:
    """Environment shared by every gateway process of one benchmark run."""

    database: str
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    key: str = field(default_factory=lambda: Fernet.generate_key().decode())
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self, port: int | None = None, **overrides: str) -> dict[str, str]:
        env = {
            **os.environ,
            "DATABASE_URL": database_dsn(self.database),
            "GATEWAY_ENV": "sandbox",
            "GATEWAY_ENCRYPTION_KEY": self.key,
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port or 8000}",
            # A load test is one address and one merchant: it measures, not throttles.
            "RATE_LIMIT_ENABLED": "false",
            **self.extra_env,
            **overrides,
        }
        return env

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [*GATEWAY, *args], env=self.env(), capture_output=True, check=True, cwd=self.workdir
        )
        return done.stdout.decode()

    def serve(self, port: int, *, worker: bool = True, **overrides: str) -> subprocess.Popen[bytes]:
        env = self.env(port, RUN_WORKER_IN_PROCESS="true" if worker else "false", **overrides)
        log = (self.workdir / f"serve-{port}.log").open("ab")
        process = subprocess.Popen(
            [*GATEWAY, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        self.processes.append(process)
        wait_ready(port, process)
        return process

    def worker(self, name: str, timeout: float = 180.0) -> subprocess.Popen[bytes]:
        """A `clearing-gateway worker` process, returned once it says it is running (on a
        loaded machine its imports alone can take a minute: a stage started before that
        would count its undelivered webhooks against the gateway)."""
        path = self.workdir / f"worker-{name}.log"
        log = path.open("ab")
        process = subprocess.Popen(
            [*GATEWAY, "worker"],
            env=self.env(PYTHONUNBUFFERED="1"),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        self.processes.append(process)
        deadline = time.monotonic() + timeout
        while b"worker started" not in path.read_bytes():
            if process.poll() is not None:
                raise RuntimeError(f"worker {name} exited with {process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker {name} did not start within {timeout}s")
            time.sleep(0.2)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process in self.processes:
            self.processes.remove(process)

    def stop_all(self) -> None:
        for process in list(self.processes):
            self.stop(process)


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process on port {port} exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"nothing answered on port {port} within {timeout}s")


def start_sink(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.sink", "--port", str(port)],
        stdout=(workdir / "sink.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/arrivals", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("webhook sink did not start")


def sink_arrivals(port: int) -> list[tuple[str, str, float]]:
    answer = httpx.get(f"http://127.0.0.1:{port}/arrivals", timeout=30)
    return [tuple(row) for row in answer.json()]  # type: ignore[misc]


@dataclass
class Merchant:
    merchant_id: str
    api_key: str
    api_secret: str

    def headers(self, method: str, path: str, body: str = "") -> dict[str, str]:
        """Signed exactly as the seed's Python example (path without the query)."""
        timestamp = str(int(time.time() * 1000))
        signed = "" if method == "GET" else canonical_body(body)
        return {
            "X-Api-Key": self.api_key,
            "X-Timestamp": timestamp,
            "X-Signature": sign(method, path.split("?")[0], signed, timestamp, self.api_secret),
            "Content-Type": "application/json",
        }

    def raw(self, method: str, path: str, document: dict[str, Any] | None = None) -> bytes:
        body = json.dumps(document) if document is not None else ""
        return build_request(method, path, self.headers(method, path, body), body.encode())

    def call(
        self, port: int, method: str, path: str, document: dict[str, Any] | None = None
    ) -> Any:
        body = json.dumps(document) if document is not None else ""
        answer = httpx.request(
            method,
            f"http://127.0.0.1:{port}{path}",
            content=body.encode(),
            headers=self.headers(method, path, body),
            timeout=30,
        )
        if answer.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text}")
        return answer.json()["data"]


def create_merchant(gateway: Gateway, name: str) -> Merchant:
    issued = json.loads(gateway.cli("merchants", "create", "--name", name, "--json"))
    return Merchant(issued["merchantId"], issued["apiKey"], issued["apiSecret"])


def request_id() -> str:
    return secrets.token_hex(12)
