"""The package's public surface: every module of ``leadsync`` says what it exports, and documents it.

For each module found by walking the package: ``__all__`` exists and is sorted the way ruff sorts it,
every name it lists exists, every public function, class and UPPER_CASE constant the module defines is
listed, and the module, every listed function or class and every public method of those classes has a
docstring.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from types import ModuleType

import pytest

import leadsync

# Modules another change is rewriting at the same time; each one is documented by that change, and its
# entry is to be removed once that change is merged. A prefix also covers the module's submodules.
EXEMPT: dict[str, str] = {}


def _exempt(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in EXEMPT)


ALL_MODULES = sorted(m.name for m in pkgutil.walk_packages(leadsync.__path__, "leadsync."))
MODULES = ["leadsync", *(name for name in ALL_MODULES if not _exempt(name))]


def ruff_order(name: str) -> tuple[int, list[int | str]]:
    """The key ruff's ``__all__`` sort uses: UPPER_CASE names, then CamelCase, then the rest, each group
    in natural order (digit runs compared as numbers)."""
    group = 0 if name.isupper() else 1 if name[0].isupper() else 2
    parts: list[int | str] = [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]
    return group, parts


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def _exports(module: ModuleType) -> list[str]:
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{module.__name__} has no __all__"
    return list(exported)


def _syntax(module: ModuleType) -> ast.Module:
    assert module.__file__ is not None
    return ast.parse(Path(module.__file__).read_text(encoding="utf-8"))


def _constants(tree: ast.Module) -> set[str]:
    """The UPPER_CASE names the module's own top-level statements assign."""
    names: set[str] = set()
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        names.update(t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper())
    return names


def _undocumented_methods(cls: ast.ClassDef, prefix: str) -> list[str]:
    """The public methods (nested public classes included) of ``cls`` without a docstring."""
    missing: list[str] = []
    for node in cls.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name.startswith("_"):
                continue
            is_setter = any(
                isinstance(d, ast.Attribute) and d.attr in ("setter", "deleter") for d in node.decorator_list
            )
            if not is_setter and ast.get_docstring(node) is None:
                missing.append(f"{prefix}.{node.name}")
            if isinstance(node, ast.ClassDef):
                missing += _undocumented_methods(node, f"{prefix}.{node.name}")
    return missing


def test_the_walk_finds_the_package_and_every_exemption_still_names_a_module() -> None:
    assert len(MODULES) > 50
    for prefix in EXEMPT:
        assert prefix in ALL_MODULES, f"exemption {prefix} names no module: remove it"


@pytest.mark.parametrize("name", MODULES)
def test_all_exists_is_sorted_and_names_only_what_exists(name: str) -> None:
    module = _module(name)
    exported = _exports(module)
    assert exported == sorted(exported, key=ruff_order), f"{name}.__all__ is not sorted"
    assert len(set(exported)) == len(exported), f"{name}.__all__ lists a name twice"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ lists names the module lacks: {missing}"


@pytest.mark.parametrize("name", MODULES)
def test_every_public_definition_is_in_all(name: str) -> None:
    module = _module(name)
    exported = set(_exports(module))
    defined = {
        attr
        for attr, value in vars(module).items()
        if (inspect.isfunction(value) or inspect.isclass(value)) and value.__module__ == name
    }
    defined |= _constants(_syntax(module))
    unlisted = sorted(n for n in defined if not n.startswith("_") and n not in exported)
    assert not unlisted, f"{name} defines public names missing from __all__: {unlisted}"


@pytest.mark.parametrize("name", MODULES)
def test_the_module_and_everything_it_lists_are_documented(name: str) -> None:
    module = _module(name)
    assert (module.__doc__ or "").strip(), f"{name} has no docstring"
    own = {
        node.name: node
        for node in _syntax(module).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    undocumented: list[str] = []
    for export in _exports(module):
        value = getattr(module, export, None)
        if not (inspect.isfunction(value) or inspect.isclass(value)):
            continue
        node = own.get(export)
        if node is None:  # re-exported: documented where it is defined
            if not (value.__doc__ or "").strip():
                undocumented.append(export)
            continue
        if ast.get_docstring(node) is None:
            undocumented.append(export)
        if isinstance(node, ast.ClassDef):
            undocumented += _undocumented_methods(node, export)
    assert not undocumented, f"{name}: no docstring on {undocumented}"
