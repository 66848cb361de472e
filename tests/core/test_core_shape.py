"""The functional core stays a core: it imports nothing from the shell and its functions stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import leadsync.core

CORE = Path(leadsync.core.__file__).parent
MODULES = sorted(CORE.glob("*.py"))
PURE_STDLIB = frozenset(
    {
        "__future__",
        "collections",
        "collections.abc",
        "contextlib",
        "dataclasses",
        "datetime",
        "enum",
        "functools",
        "gc",
        "itertools",
        "re",
        "typing",
        "unicodedata",
    }
)
"""Standard modules that do no I/O."""

MAX_LINES = 60


def imported_modules(tree: ast.Module) -> list[str]:
    """Every module an ``import`` or ``from ... import`` names (relative imports as ``.name``)."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append("." * node.level + (node.module or ""))
    return found


def shell_imports(source: str) -> list[str]:
    """The imports of ``source`` that are neither pure standard modules nor the core itself."""
    return [
        name
        for name in imported_modules(ast.parse(source))
        if name not in PURE_STDLIB and not name.startswith("leadsync.core.") and name != "leadsync.core"
    ]


def long_functions(source: str) -> list[tuple[str, int]]:
    """Functions of ``source`` longer than :data:`MAX_LINES` lines, with their length."""
    out: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_LINES:
                out.append((node.name, length))
    return out


def test_the_core_has_modules_to_check() -> None:
    assert {path.stem for path in MODULES} >= {"planner", "values", "block", "ops", "statuses"}


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_a_core_module_imports_only_pure_standard_modules_and_the_core(module: Path) -> None:
    assert shell_imports(module.read_text()) == []


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_no_core_function_is_longer_than_60_lines(module: Path) -> None:
    assert long_functions(module.read_text()) == []


def test_the_import_check_catches_the_shell_and_io() -> None:
    source = "import os\nfrom leadsync.settings import Settings\nimport httpx\nfrom . import x\nimport re\n"
    assert shell_imports(source) == ["os", "leadsync.settings", "httpx", "."]


def test_the_length_check_catches_a_long_function() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    assert long_functions(f"def long():\n{body}\n") == [("long", MAX_LINES + 1)]


def test_the_core_ruff_config_holds_complexity_to_15() -> None:
    config = (CORE / "ruff.toml").read_text()
    assert 'extend-select = ["C901"]' in config
    assert "max-complexity = 15" in config
