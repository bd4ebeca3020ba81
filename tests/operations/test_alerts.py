"""The alert rules parse (`promtool check rules` when Prometheus is installed, the YAML
structure always), use only metrics the gateway exports, and each has its runbook entry
in docs/operations.md, which lists every metric."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.operations.test_metrics import DOMAIN_METRICS

ROOT = Path(__file__).parents[2]
RULES = ROOT / "ops" / "prometheus" / "gateway-alerts.yml"
RUNBOOK = ROOT / "docs" / "operations.md"
# Suffixes Prometheus adds to histogram and counter families.
_SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def rules() -> list[dict[str, object]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_promtool_accepts_the_rules() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package `prometheus`); see the parser test")
    done = subprocess.run(  # noqa: S603
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules())} rules found" in done.stdout


def test_rules_use_exported_metrics_and_have_a_runbook() -> None:
    runbook = RUNBOOK.read_text()
    headings = {
        line.lstrip("#").strip().lower() for line in runbook.splitlines() if line.startswith("#")
    }
    exported = {name.removesuffix("_total") for name in DOMAIN_METRICS} | DOMAIN_METRICS
    found = rules()
    assert len(found) >= 10
    for rule in found:
        assert set(rule) >= {"alert", "expr", "labels", "annotations"}, rule
        name = str(rule["alert"])
        assert rule["labels"]["severity"] in ("page", "ticket"), name  # type: ignore[index]
        assert name.lower() in headings, f"{name} has no section in docs/operations.md"
        used = set(re.findall(r"\b(gateway_[a-z_]+)", str(rule["expr"])))
        assert used, name
        for metric in used:
            base = metric
            for suffix in _SUFFIXES:
                base = base.removesuffix(suffix)
            assert metric in exported or base in exported, f"{name} uses unknown {metric}"


def test_the_runbook_lists_every_metric() -> None:
    runbook = RUNBOOK.read_text()
    missing = [name for name in sorted(DOMAIN_METRICS) if f"`{name}`" not in runbook]
    assert missing == []
