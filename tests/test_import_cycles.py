"""Imports flow one way: no circle among the gateway's modules, and no domain imports
the worker or the module that collects every domain's job handlers.

Read from the source, not by importing it: every `import` counts, at module level or
inside a function (a lazy import still closes a circle at run time), except those under
`if TYPE_CHECKING:`, which never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import clearing_gateway

ROOT = Path(clearing_gateway.__file__).parent
PACKAGE = "clearing_gateway"
# The entry points: they may import anything, and nothing under a domain imports them.
# Every domain's `cli` module is one too: only `clearing_gateway.cli` mounts them, and an
# operator command may build the whole runtime (`app.run_with_runtime`).
ENTRY_POINTS = {
    f"{PACKAGE}.app",
    f"{PACKAGE}.cli",
    f"{PACKAGE}.tasks",
    f"{PACKAGE}.jobs.worker",
    *(
        f"{PACKAGE}.{'.'.join(path.relative_to(ROOT).with_suffix('').parts)}"
        for path in ROOT.rglob("cli.py")
        if path.parent.name != "kit"  # kit/cli.py: helpers every command imports
    ),
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _type_checking_only(tree: ast.Module) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skipped.update(id(n) for n in ast.walk(child))
    return skipped


def import_graph() -> dict[str, set[str]]:
    """module → the gateway modules it imports (`from a import b` counts as a.b when b is
    a module, else as a)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_only(tree)
        targets: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    targets.add(full if full in modules else node.module)
        edges = set()
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                edges.add(target)
        graph[name] = edges
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_gateway_has_no_import_circle() -> None:
    assert circles(import_graph()) == []


def test_domains_never_import_the_worker_or_the_task_collection() -> None:
    graph = import_graph()
    offenders = {
        name: sorted(graph[name] & ENTRY_POINTS)
        for name in graph
        if name not in ENTRY_POINTS and graph[name] & ENTRY_POINTS
    }
    assert offenders == {}


def test_the_detector_finds_a_circle_through_a_lazy_import() -> None:
    # The shape the worker used to have: jobs → worker → (lazy) tasks → domain → jobs.
    graph = {
        "jobs": {"jobs.worker"},
        "jobs.worker": {"tasks"},
        "tasks": {"webhooks.tasks"},
        "webhooks.tasks": {"jobs"},
        "kit": set(),
    }
    assert circles(graph) == [["jobs", "jobs.worker", "tasks", "webhooks.tasks"]]
