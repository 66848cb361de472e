"""Every third-party module the project imports is declared in pyproject.toml, pinned with ``==``."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = {"leadsync", "tests", "bench", "sync", "webhook_server"}
SOURCES = ["src", "tests", "bench", "sync.py", "webhook_server.py"]


def normalized(distribution: str) -> str:
    """A distribution name as package indexes compare them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def declared_requirements() -> list[str]:
    """Every requirement string in pyproject.toml: runtime, every optional extra, and the build system."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = list(project["project"]["dependencies"])
    for extra in project["project"].get("optional-dependencies", {}).values():
        requirements.extend(extra)
    requirements.extend(project["build-system"]["requires"])
    return requirements


def distribution_of(requirement: str) -> str:
    """The distribution a requirement names (``psycopg[binary]==3.3.9`` -> ``psycopg``)."""
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, f"not a requirement: {requirement!r}"
    return normalized(match.group(0))


def imported_modules(source: str) -> set[str]:
    """The top-level names of the absolute imports in one module's source."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def undeclared(
    sources: Iterable[str], declared: set[str], providers: Mapping[str, list[str]]
) -> dict[str, list[str]]:
    """Third-party modules imported by ``sources`` that no declared distribution provides, each with the
    distributions that would (an empty list: no installed distribution provides it at all)."""
    missing: dict[str, list[str]] = {}
    for source in sources:
        for module in imported_modules(source):
            if module in sys.stdlib_module_names or module in FIRST_PARTY or module == "__future__":
                continue
            candidates = [normalized(d) for d in providers.get(module, [])]
            if not declared.intersection(candidates):
                missing[module] = candidates
    return missing


def project_sources() -> list[str]:
    """The text of every Python file in the project (src, tests, bench and the root shims)."""
    files: list[Path] = []
    for entry in SOURCES:
        path = ROOT / entry
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return [file.read_text() for file in files]


def test_every_third_party_import_is_declared_in_pyproject() -> None:
    declared = {distribution_of(r) for r in declared_requirements()}
    missing = undeclared(project_sources(), declared, importlib.metadata.packages_distributions())
    assert missing == {}, f"imported but not declared in pyproject.toml (module: providers): {missing}"


def test_every_declared_requirement_is_pinned_exactly() -> None:
    loose = [r for r in declared_requirements() if not re.fullmatch(r"[A-Za-z0-9._\-\[\],]+==[\w.]+", r)]
    assert loose == []


def test_the_check_catches_an_undeclared_import() -> None:
    providers = {"dotenv": ["python-dotenv"], "httpx": ["httpx"]}
    source = "import os\nimport httpx\nfrom dotenv import dotenv_values\nfrom . import sibling\n"
    assert undeclared([source], {"httpx"}, providers) == {"dotenv": ["python-dotenv"]}
    assert undeclared([source], {"httpx", "python-dotenv"}, providers) == {}
    assert undeclared(["import not_installed_anywhere"], set(), providers) == {"not_installed_anywhere": []}
