"""The card's managed description block: the lines leadsync owns, and the person's text around them.

The block is the run of consecutive lines ``Lead Name: ...``, ``Email: ...``, ``Source: ...`` and
``Lead ID: ...`` that contains the ``Lead ID`` line (the seed script wrote the first, second and last
of these). Everything outside that run is the person's and is kept byte for byte.

A line ends at ``\\n`` only, as Trello shows it: a form feed, ``\\u2028`` or ``\\x85`` is a character of
the person's text, not a line break, so a ``Lead ID:`` after one is not a line of its own.
"""

from __future__ import annotations

import re

from leadsync.core.values import Card, Lead, LeadId

__all__ = [
    "DESC_LIMIT",
    "NAME_LIMIT",
    "TITLE_PREFIX",
    "card_title",
    "lead_title",
    "merge_desc",
    "parse_lead_id",
    "render_block",
    "shown_fields",
    "without_control_characters",
]

DESC_LIMIT = 16384
"""Trello's maximum description length."""

NAME_LIMIT = 16384
"""Trello's maximum card title length."""

TITLE_PREFIX = "Follow up: "
"""What every card title leadsync writes starts with."""

# Blanks are spaces and tabs only: ``\s`` would take a form feed or a Unicode separator for one.
_BLOCK_LINE = re.compile(r"^[ \t]*(Lead Name|Email|Source|Lead ID):", re.IGNORECASE)
_LEAD_ID_LINE = re.compile(r"^[ \t]*Lead ID:[ \t]*(rec[A-Za-z0-9]{14})[ \t\r]*$", re.IGNORECASE)
# The same line found in a whole description: Python's multiline anchors stop at ``\n`` only.
_LEAD_ID_ANYWHERE = re.compile(_LEAD_ID_LINE.pattern, re.IGNORECASE | re.MULTILINE)
_VALUE_LIMIT = 1000  # a block value longer than this is cut, so the block never crowds out the person's text
_SHOWN_KEYS = {"lead name": "name", "email": "email", "source": "source"}
_SHOWN_KEYS_AS_WRITTEN = {"Lead Name": "name", "Email": "email", "Source": "source"}
_SHOWN_LINE = re.compile(r"^[ \t]*(Lead Name|Email|Source)[ \t]*:([^\n]*)", re.IGNORECASE | re.MULTILINE)
# Unicode's control characters (category Cc) are exactly these: C0, DEL and C1. The line break stays.
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def without_control_characters(value: str) -> str:
    """``value`` less its C0 and C1 control characters and DEL, but for the line break."""
    return value if value.isprintable() else _CONTROL.sub("", value)


def _one_line(value: str) -> str:
    flat = _one_line_unbounded(value)
    return flat if len(flat) <= _VALUE_LIMIT else flat[: _VALUE_LIMIT - 1] + "…"


def card_title(name: str) -> str:
    """``Follow up: <Lead Name>``, on one line, without control characters, within Trello's limit."""
    title = TITLE_PREFIX + (_one_line_unbounded(name) or "(no name)")
    return title[:NAME_LIMIT]


def lead_title(lead: Lead) -> str:
    """The card title of ``lead``: its flow's template as rendered by the shell, else ``card_title``."""
    if not lead.title:
        return card_title(lead.name)
    return (_one_line_unbounded(lead.title) or card_title(lead.name))[:NAME_LIMIT]


def _one_line_unbounded(value: str) -> str:
    return without_control_characters(" ".join(value.split()))


def render_block(lead: Lead) -> str:
    """The managed block for ``lead``: name, email, source when set, and the lead's id."""
    lines = [f"Lead Name: {_one_line(lead.name)}", f"Email: {_one_line(lead.email)}"]
    if lead.source:
        lines.append(f"Source: {_one_line(lead.source)}")
    lines.extend(f"{_one_line(label)}: {_one_line(value)}" for label, value in lead.extra)
    lines.append(f"Lead ID: {lead.id}")
    return "\n".join(lines)


def _block_span(lines: list[str], labels: frozenset[str] = frozenset()) -> tuple[int, int] | None:
    """[start, end) of the managed block, or None; ``labels`` are the flow's extra block lines' labels."""

    def in_block(line: str) -> bool:
        if _BLOCK_LINE.match(line):
            return True
        label, colon, _ = line.partition(":")
        return bool(colon) and label.strip() in labels

    for i, line in enumerate(lines):
        if _LEAD_ID_LINE.match(line):
            start, end = i, i + 1
            while start > 0 and in_block(lines[start - 1]):
                start -= 1
            while end < len(lines) and in_block(lines[end]) and not _LEAD_ID_LINE.match(lines[end]):
                end += 1
            return start, end
    return None


def parse_lead_id(desc: str) -> LeadId | None:
    """The lead id the card's description claims, if any (the first ``Lead ID:`` line)."""
    found = _LEAD_ID_ANYWHERE.search(desc)
    return None if found is None else LeadId(found.group(1))


def merge_desc(desc: str, lead: Lead) -> str | None:
    """``desc`` with its managed block replaced by ``lead``'s (appended when there is none).

    Every character outside the block is kept. None when the result would pass Trello's limit: the
    person's text is never cut to make room.
    """
    lines = desc.split("\n")
    block = render_block(lead).split("\n")
    span = _block_span(lines, frozenset(_one_line(label) for label, _ in lead.extra))
    if span is None:
        person = desc.rstrip("\n")
        merged = f"{person}\n\n" + "\n".join(block) if person else "\n".join(block)
    else:
        start, end = span
        merged = "\n".join([*lines[:start], *block, *lines[end:]])
    return merged if len(merged) <= DESC_LIMIT else None


def shown_fields(card: Card) -> dict[str, str]:
    """Name/email/source as the card's managed block shows them, when the block and title agree."""
    shown: dict[str, str] = {}
    for key, value in _SHOWN_LINE.findall(card.desc):
        name = _SHOWN_KEYS_AS_WRITTEN.get(key) or _SHOWN_KEYS[key.lower()]
        if name not in shown:  # the first line of a key wins
            shown[name] = value.strip()
    lead_name = shown.get("name")
    if lead_name is not None and card.name != card_title(lead_name):
        del shown["name"]
    return shown
