"""Where a key sits in a TOML file: the line number an error message points the person to.

``tomllib`` parses without positions, so the line is found again in the text: the table headers are
followed (``[[flow]]`` counted, so the second flow's keys are told from the first's) until the key's
own ``key =`` line, or the table's header when the key is missing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["line_of"]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")


def _unquote(key: str) -> str:
    return key[1:-1] if key[:1] in "\"'" else key


def line_of(text: str, loc: Sequence[str | int]) -> int | None:
    """The 1-based line of ``loc`` (``("flow", 0, "fields", "status")``) in ``text``: the key's line, else
    its table's header line, else None."""
    wanted_table, key = _split(loc)
    counts: dict[str, int] = {}
    current: tuple[str, int] = ("", 0)
    header_line: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            name = ".".join(_unquote(part.strip()) for part in header.group(2).split("."))
            if header.group(1) == "[[":
                counts[name] = counts.get(name, -1) + 1
            top = name.split(".", 1)[0]
            current = (name, counts.get(top, 0))
            if current == wanted_table and header_line is None:
                header_line = number
            continue
        found = _KEY.match(line)
        if found and current == wanted_table and key is not None and _unquote(found.group(1)) == key:
            return number
    return header_line


def _split(loc: Sequence[str | int]) -> tuple[tuple[str, int], str | None]:
    """``("flow", 1, "fields", "due")`` -> ``(("flow.fields", 1), "due")``."""
    names: list[str] = []
    index = 0
    for part in loc:
        if isinstance(part, int):
            index = part
        else:
            names.append(part)
    if not names:
        return ("", 0), None
    return (".".join(names[:-1]), index), names[-1]
