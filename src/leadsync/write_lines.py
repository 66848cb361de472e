"""One line per write of a plan, about people's things: the lead's name and the list's name, not their ids.

What ``leadsync sync`` lists after a cycle, what ``--dry-run --json`` carries as its planned writes, what
``-v`` logs for each write and what the activity log says: the same words everywhere. Pure: a plan's
operations and two name tables in, text out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from leadsync.core import KEEP, CardChanges, CreateCard, LeadChanges, Plan, UpdateCard, WriteKind, WriteLead

__all__ = ["WriteLine", "card_change_words", "lead_change_words", "limited", "write_line", "write_lines"]


class WriteLine(TypedDict):
    """One planned or done write: ``kind`` (create, move, update, archive, status; lead: a lead's due date
    or labels, its status too maybe), the lead's record id,
    the card's id (None for a card not made yet) and ``what`` it does, in words."""

    kind: str
    lead: str
    card: str | None
    what: str


def _list(list_names: Mapping[str, str], list_id: str) -> str:
    return repr(list_names.get(list_id, list_id))


def card_change_words(changes: CardChanges, list_names: Mapping[str, str]) -> str:
    """A card's changes in words: ``moved to 'CONTACTED', new title, new description, archived``."""
    words = []
    if changes.list_id is not None:
        words.append(f"moved to {_list(list_names, changes.list_id)}")
    if changes.title is not None:
        words.append(f"new title {changes.title!r}")
    if changes.description is not None:
        words.append("new description")
    if changes.closed is not None:
        words.append("archived" if changes.closed else "unarchived")
    if changes.due is not KEEP:
        words.append(f"due {changes.due}" if changes.due else "due date removed")
    words += [f"label {label!r} added" for label in sorted(changes.add_labels)]
    words += [f"label {label!r} removed" for label in sorted(changes.remove_labels)]
    return ", ".join(words) or "no change"


def lead_change_words(changes: LeadChanges) -> str:
    """A lead's changes in words: ``Status 'QUALIFIED', due 2026-12-03, labels 'hot', 'vip'``."""
    words = []
    if changes.status is not None:
        words.append(f"Status {changes.status!r}")
    if changes.due is not KEEP:
        words.append(f"due {changes.due}" if changes.due else "due date removed")
    if changes.labels is not None:
        words.append("labels " + (", ".join(map(repr, sorted(changes.labels))) or "none"))
    return ", ".join(words) or "no change"


def write_line(
    op: CreateCard | UpdateCard | WriteLead, lead_name: str, list_names: Mapping[str, str]
) -> WriteLine:
    """The line of one write; ``lead_name`` is the lead's Name (its id when it has none)."""
    who = repr(lead_name or op.lead_id)
    if isinstance(op, CreateCard):
        return WriteLine(
            kind="create", lead=op.lead_id, card=None, what=f"card {who} in {_list(list_names, op.list_id)}"
        )
    if isinstance(op, UpdateCard):
        kind = (
            "archive"
            if WriteKind.ARCHIVED in op.kinds
            else "move"
            if WriteKind.MOVED in op.kinds
            else "update"
        )
        what = f"card {who}: {card_change_words(op.changes, list_names)}"
        return WriteLine(
            kind=kind, lead=op.lead_id, card=op.card_id, what=f"{what} ({op.reason})" if op.reason else what
        )
    what = f"lead {who}: {lead_change_words(op.changes)}"
    return WriteLine(
        kind="status" if op.changes.names() == ["status"] else "lead",
        lead=op.lead_id,
        card=None,
        what=f"{what} ({op.reason})" if op.reason else what,
    )


def write_lines(plan: Plan, lead_names: Mapping[str, str], list_names: Mapping[str, str]) -> list[WriteLine]:
    """The line of every write of ``plan``, in its order."""
    return [write_line(op, lead_names.get(op.lead_id, ""), list_names) for op in plan.writes]


def limited(lines: list[str], most: int = 10) -> list[str]:
    """At most ``most`` lines: past that, the first ones and ``… and N more``."""
    if len(lines) <= most:
        return lines
    return [*lines[: most - 1], f"… and {len(lines) - most + 1} more"]
