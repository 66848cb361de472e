"""The card's managed description block: the lines leadsync owns, and the person's text around them.

The block is the run of consecutive lines ``Lead Name: ...``, ``Email: ...``, ``Source: ...`` and
``Lead ID: ...`` that contains the ``Lead ID`` line (the seed script wrote the first, second and last
of these). Everything outside that run is the person's and is kept byte for byte.
"""

from __future__ import annotations

import re

from leadsync.models import Lead, LeadId

DESC_LIMIT = 16384
"""Trello's maximum description length."""

NAME_LIMIT = 16384
TITLE_PREFIX = "Follow up: "
_BLOCK_LINE = re.compile(r"^\s*(Lead Name|Email|Source|Lead ID):", re.IGNORECASE)
_LEAD_ID_LINE = re.compile(r"^\s*Lead ID:\s*(rec[A-Za-z0-9]{14})\s*$", re.IGNORECASE)
_VALUE_LIMIT = 1000  # a block value longer than this is cut, so the block never crowds out the person's text


def _one_line(value: str) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= _VALUE_LIMIT else flat[: _VALUE_LIMIT - 1] + "…"


def card_title(name: str) -> str:
    """``Follow up: <Lead Name>``, on one line and within Trello's limit."""
    title = TITLE_PREFIX + (" ".join(name.split()) or "(no name)")
    return title[:NAME_LIMIT]


def render_block(lead: Lead) -> str:
    lines = [f"Lead Name: {_one_line(lead.name)}", f"Email: {_one_line(lead.email)}"]
    if lead.source:
        lines.append(f"Source: {_one_line(lead.source)}")
    lines.append(f"Lead ID: {lead.id}")
    return "\n".join(lines)


def _block_span(lines: list[str]) -> tuple[int, int] | None:
    """[start, end) of the managed block, or None."""
    for i, line in enumerate(lines):
        if _LEAD_ID_LINE.match(line):
            start, end = i, i + 1
            while start > 0 and _BLOCK_LINE.match(lines[start - 1]):
                start -= 1
            while end < len(lines) and _BLOCK_LINE.match(lines[end]) and not _LEAD_ID_LINE.match(lines[end]):
                end += 1
            return start, end
    return None


def parse_lead_id(desc: str) -> LeadId | None:
    """The lead id the card's description claims, if any (the first ``Lead ID:`` line)."""
    for line in desc.splitlines():
        m = _LEAD_ID_LINE.match(line)
        if m:
            return LeadId(m.group(1))
    return None


def merge_desc(desc: str, lead: Lead) -> str | None:
    """``desc`` with its managed block replaced by ``lead``'s (appended when there is none).

    None when the result would pass Trello's limit: the person's text is never cut to make room.
    """
    lines = desc.splitlines()
    block = render_block(lead).splitlines()
    span = _block_span(lines)
    if span is None:
        person = desc.rstrip("\n")
        merged = f"{person}\n\n" + "\n".join(block) if person else "\n".join(block)
    else:
        start, end = span
        merged = "\n".join([*lines[:start], *block, *lines[end:]])
        if desc.endswith("\n"):
            merged += "\n"
    return merged if len(merged) <= DESC_LIMIT else None
