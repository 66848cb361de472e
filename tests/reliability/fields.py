"""The mapped two-way fields of the model-based test: a due date and labels, both ways.

The sandbox's default Leads table gets a ``Follow-up`` date field and a ``Tags`` multiple-select
field through the metadata API (``POST /v0/meta/bases/{base}/tables/{table}/fields``, as a person
adding columns in Airtable's UI would), the board gets the labels of two of the tags and one label
of the person's own (which maps to no option), and leadsync gets a ``leadsync.toml`` mapping the two
fields. The third tag, ``VIP``, has no label until leadsync makes one.

The person's edits of labels are modelled per option (labels merge per option, so each option is a
two-way yes/no field of its own); a due date like a status.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from leadsync.clients.due_dates import DATE, canonical_due
from leadsync.core import ConflictPolicy
from leadsync.sandbox import SandboxState

__all__ = [
    "BOARD_TAGS",
    "DUE_DATES",
    "DUE_FIELD",
    "OWN_LABEL",
    "TAGS",
    "TAGS_FIELD",
    "Edit",
    "LabelEdits",
    "card_due",
    "last_word_kept",
    "prepare",
    "presence_changes",
]

DUE_FIELD = "Follow-up"
TAGS_FIELD = "Tags"
TAGS = ("Hot", "Cold", "VIP")
BOARD_TAGS = ("Hot", "Cold")  # the tags whose labels the board has from the start
OWN_LABEL = "Mine"  # a label of the person's, mapped to no tag: leadsync never touches it
DUE_DATES = (None, "2026-01-05", "2026-02-10", "2026-03-15")


@dataclass
class Edit:
    """One of the person's edits of a value, at a logical clock."""

    clock: int
    value: Any


LabelEdits = dict[str, list[Edit]]
"""Per option (or the person's own label): the person's edits of its presence."""


def prepare(http: httpx.Client, state: SandboxState, config: Path, policy: ConflictPolicy) -> None:
    """Add the two fields to the Leads table and the labels to the board, as the person, and write
    the mapping file leadsync reads (``LEADSYNC_CONFIG``)."""
    s = state.settings()
    base, table = state.airtable.base_id, state.airtable.table_id
    url = f"{s['AIRTABLE_API_URL']}/v0/meta/bases/{base}/tables/{table}/fields"
    headers = {"Authorization": f"Bearer {s['PERSON_AIRTABLE_API_KEY']}"}
    for body in (
        {"name": DUE_FIELD, "type": "date", "options": {"dateFormat": {"name": "iso"}}},
        {"name": TAGS_FIELD, "type": "multipleSelects", "options": {"choices": [{"name": t} for t in TAGS]}},
    ):
        http.post(url, json=body, headers=headers, timeout=10).raise_for_status()
    person = {"key": s["PERSON_TRELLO_API_KEY"], "token": s["PERSON_TRELLO_TOKEN"]}
    board = state.trello.board_id
    for name, color in ((BOARD_TAGS[0], "red"), (BOARD_TAGS[1], "blue"), (OWN_LABEL, "green")):
        made = http.post(
            f"{s['TRELLO_API_URL']}/1/boards/{board}/labels",
            params={**person, "name": name, "color": color},
            timeout=10,
        )
        made.raise_for_status()
    config.write_text(
        f"""# The model-based test's flow: the seed's fields, plus a due date and tags both ways.
[[flow]]
name = "default"
conflict_policy = "{policy.value}"

[flow.airtable]
base = "{base}"
table = "{state.airtable.table_name}"

[flow.trello]
board = "{board}"

[flow.fields]
due = "{DUE_FIELD}"
labels = "{TAGS_FIELD}"
""",
        encoding="utf-8",
    )


def card_due(raw: str | None) -> str | None:
    """A card's due time as a date (the form of the ``Follow-up`` field)."""
    return canonical_due(raw, DATE)


def presence_changes(before: Iterable[str], after: Iterable[str], names: Iterable[str]) -> dict[str, bool]:
    """The names among ``names`` whose presence differs between ``before`` and ``after``, each with
    its presence after."""
    was, now = set(before), set(after)
    return {name: name in now for name in names if (name in was) != (name in now)}


def last_word_kept(
    edits: list[Edit], final: Any, agreed_seen: list[Edit], later_conflicts: list[list[Any]]
) -> str | None:
    """I3 for one value: None when ``final`` is what the person's last edit set, or what a conflict
    recorded after it let the policy keep (``later_conflicts``: the values each such conflict's
    policy may keep), or the last edit set the agreed value back (Unison's rule: no change, so the
    other side's earlier edit stands); otherwise what was lost."""
    ordered = sorted(edits, key=lambda e: e.clock)
    if not ordered:
        return None
    last = ordered[-1]
    if final == last.value:
        return None
    if later_conflicts:
        kept = later_conflicts[-1]
        return None if final in kept else f"{final!r} after a conflict that keeps one of {kept!r}"
    agreed = [b.value for b in agreed_seen if b.clock >= last.clock] + [
        b.value for b in agreed_seen if b.clock < last.clock
    ][-1:]
    if last.value in agreed and final in {e.value for e in ordered}:
        return None
    history = [(e.clock, e.value) for e in ordered]
    return f"ends {final!r}, but the person's last edit set {last.value!r} (edits: {history})"
