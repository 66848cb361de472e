"""The sandbox's module layout: its import graph is a DAG (every import counted, wherever it is in the
file, under ``TYPE_CHECKING`` or inside a function), and every module is short and documented."""

from __future__ import annotations

import ast
from pathlib import Path

import leadsync.sandbox

ROOT = Path(leadsync.sandbox.__file__).parent
PACKAGE = "leadsync.sandbox"
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """Every dotted name a module imports (``from a import b`` gives both ``a`` and ``a.b``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    """Module -> the sandbox modules it imports (a name resolves to the longest module it names)."""
    files = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = set()
        for name in imported_names(tree, module, path.name == "__init__.py"):
            parts = name.split(".")
            for end in range(len(parts), 0, -1):
                candidate = ".".join(parts[:end])
                if candidate in files:
                    if candidate != module:
                        targets.add(candidate)
                    break
        graph[module] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that ends where it starts, or None when it is a DAG."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, list[str]]] = [(start, sorted(graph.get(start, ())))]
        path.append(start)
        on_path.add(start)
        while stack:
            node, pending = stack[-1]
            if not pending:
                stack.pop()
                path.pop()
                on_path.discard(node)
                done.add(node)
                continue
            nxt = pending.pop(0)
            if nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in done:
                stack.append((nxt, sorted(graph.get(nxt, ()))))
                path.append(nxt)
                on_path.add(nxt)
    return None


def test_the_sandbox_import_graph_has_no_cycle() -> None:
    graph = import_graph()
    assert len(graph) > 20  # the walk found the package
    assert f"{PACKAGE}.state" in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_reports_a_cycle_and_accepts_a_dag() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_imports_inside_functions_and_type_checking_count() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from leadsync.sandbox.state import SandboxState\n"
        "def f():\n    from leadsync.sandbox import clock\n"
    )
    names = imported_names(ast.parse(source), f"{PACKAGE}.x", is_package=False)
    assert {f"{PACKAGE}.state", f"{PACKAGE}.clock"} <= names


def test_the_two_halves_never_import_each_other_the_state_or_the_app() -> None:
    graph = import_graph()
    for module, targets in graph.items():
        for half, other in (("airtable", "trello"), ("trello", "airtable")):
            if module.startswith(f"{PACKAGE}.{half}"):
                forbidden = {t for t in targets if t.startswith(f"{PACKAGE}.{other}")}
                forbidden |= targets & {f"{PACKAGE}.state", f"{PACKAGE}.app", PACKAGE}
                assert not forbidden, f"{module} imports {sorted(forbidden)}"


def test_every_module_is_documented_and_under_the_line_limit() -> None:
    for path in sorted(ROOT.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert len(text.splitlines()) <= MAX_LINES, f"{path.relative_to(ROOT)} is over {MAX_LINES} lines"
        assert ast.get_docstring(ast.parse(text)), f"{path.relative_to(ROOT)} has no module docstring"
