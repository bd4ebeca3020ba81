"""The documentation holds itself to two rules: it refers only to files inside the
repository, and every threat in docs/security.md names tests that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
TEST_REFERENCE = re.compile(r"`((?:tests/[\w/]+\.py)?::[\w\[\]-]+|tests/[\w/]+\.py)`")


def test_docs_refer_only_to_files_inside_the_repository() -> None:
    outside = [
        f"{doc.relative_to(ROOT)}:{number}"
        for doc in DOCS
        for number, line in enumerate(doc.read_text().splitlines(), 1)
        if "../shared" in line or "/work/" in line
    ]
    assert outside == []


def security_rows() -> list[list[str]]:
    text = (ROOT / "docs" / "security.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[1:]]


def test_every_threat_has_a_defence_and_tests_that_exist() -> None:
    rows = security_rows()
    assert len(rows) >= 15
    missing: list[str] = []
    for threat, defence, tests in rows:
        assert defence, threat
        assert tests, threat
        current: Path | None = None
        references = TEST_REFERENCE.findall(tests)
        assert references, f"{threat}: no test named"
        for reference in references:
            path, _, name = reference.partition("::")
            if path:
                current = ROOT / path
            assert current is not None, reference
            assert current.exists(), reference
            if name:
                function = name.split("[")[0]
                source = current.read_text()
                if not re.search(rf"(def|class) {re.escape(function)}\b", source):
                    missing.append(f"{current.relative_to(ROOT)}::{name}")
    assert missing == []
