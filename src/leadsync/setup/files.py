"""The two files ``leadsync init`` writes: ``.env`` (the secrets, mode 0600) and ``leadsync.toml`` (the
mapping, which names the secrets' variables and never holds one).

Both are written only when their content changes, so a second ``init`` leaves them byte for byte.
``.env`` keeps every line it had; a variable init sets is replaced in place or added at the end.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values

from leadsync.config.mapping_file import CardSection, FieldsSection, FlowSection, MappingFile

__all__ = ["PRIVATE_MODE", "merge_env", "render_mapping", "write_if_changed"]

PRIVATE_MODE = 0o600

_HEADER = (
    "# leadsync's mapping file, written by `leadsync init` (see the README's mapping file section).\n"
    "# Secrets live in .env or the environment: this file names their variables, never their values.\n"
)


def _q(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def _flow_lines(flow: FlowSection) -> list[str]:
    lines = ["[[flow]]", f"name = {_q(flow.name)}"]
    if flow.conflict_policy is not None:
        lines.append(f"conflict_policy = {_q(flow.conflict_policy.value)}")
    a, t = flow.airtable, flow.trello
    lines += [
        "",
        "[flow.airtable]",
        f"base = {_q(a.base)}",
        f"table = {_q(a.table)}",
        f"token_env = {_q(a.token_env)}",
    ]
    lines += ["", "[flow.trello]", f"board = {_q(t.board)}", f"key_env = {_q(t.key_env)}", f"token_env = {_q(t.token_env)}"]  # fmt: skip
    lines += ["", "[flow.fields]"]
    for role in FieldsSection.model_fields:
        value = getattr(flow.fields, role)
        lines.append(f"{role} = {_q(value)}" if value is not None else f'# {role} = "..."  (not mapped)')
    lines += ["", "[flow.statuses]                        # Airtable option = Trello list name"]
    lines += [f"{_q(option)} = {_q(name)}" for option, name in flow.statuses.items()]
    card = flow.card
    if card != CardSection():
        lines += ["", "[flow.card]", f"title = {_q(card.title)}"]
        lines.append("block = [" + ", ".join(_q(b) for b in card.block) + "]")
        if card.no_card is not None:
            lines.append("no_card = [" + ", ".join(_q(n) for n in card.no_card) + "]")
    return lines


def render_mapping(mapping: MappingFile) -> str:
    """The text of ``leadsync.toml`` for ``mapping``: the same text for the same mapping."""
    blocks = ["\n".join(_flow_lines(flow)) for flow in mapping.flow]
    return _HEADER + "\n" + "\n\n".join(blocks) + "\n"


def _env_line(key: str, value: str) -> str:
    # Unquoted when nothing needs quoting, so `set -a; . ./.env` and python-dotenv read the same value.
    if value and all(ch.isalnum() or ch in "-_.:/@+=,%~" for ch in value):
        return f"{key}={value}"
    return f"{key}='{value}'" if "'" not in value else f"{key}={_q(value)}"


def merge_env(existing: str, values: Mapping[str, str]) -> str:
    """``existing`` ``.env`` text with ``values`` set: a line whose value already reads the same is kept
    as it is, a different one replaced in place, a new variable added at the end."""
    lines = existing.splitlines()
    done: set[str] = set()
    for i, line in enumerate(lines):
        key = line.split("=", 1)[0].strip().removeprefix("export ").strip()
        if key in values and "=" in line and not line.lstrip().startswith("#"):
            current = dotenv_values(stream=io.StringIO(line + "\n")).get(key)
            if current != values[key]:
                lines[i] = _env_line(key, values[key])
            done.add(key)
    lines += [_env_line(k, v) for k, v in values.items() if k not in done]
    return "\n".join(lines) + "\n" if lines else ""


def write_if_changed(path: Path, text: str, *, private: bool = False) -> bool:
    """Write ``text`` to ``path`` unless it already holds it; ``private`` files are made 0600 (before a
    byte is written). Returns whether the content changed."""
    if private and path.exists() and (path.stat().st_mode & 0o777) != PRIVATE_MODE:
        path.chmod(PRIVATE_MODE)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE if private else 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    if private:
        tmp.chmod(PRIVATE_MODE)
    tmp.replace(path)
    return True
