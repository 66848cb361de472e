"""The soak's end state judged: duplicates, missing cards, disagreeing pairs and lost updates, from both
trackers and the store; and, for each lost update, the trail of who changed what on both APIs."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import create_engine, select

from leadsync.core import Lead, LeadId, merge_desc, parse_lead_id
from leadsync.sandbox.person import Person
from leadsync.store import DEFAULT_FLOW
from leadsync.store.schema import activity, conflicts, cycles, sync_state

__all__ = ["OPEN_STATUSES", "STATUSES", "History", "Verdict", "cut_cycles", "judge", "reverted", "trail"]

STATUSES = ("NEW", "CONTACTED", "QUALIFIED", "LOST")
OPEN_STATUSES = ("NEW", "CONTACTED", "QUALIFIED")


@dataclass
class History:
    """The person's last status edit per lead (either side), with its wall-clock time."""

    last_status: dict[str, tuple[float, str]] = field(default_factory=dict)
    story: dict[str, list[str]] = field(default_factory=dict)  # every status edit per lead, for reports
    events: dict[str, list[tuple[float, str, str]]] = field(default_factory=dict)  # (time, side, value)
    deleted: set[str] = field(default_factory=set)
    edits: Counter[str] = field(default_factory=Counter)

    def status(self, lead: str, value: str, side: str) -> None:
        """A status edit that changed its side's value (setting the value a side holds is no edit)."""
        self.last_status[lead] = (time.time(), value)
        self.story.setdefault(lead, []).append(f"{datetime.now():%H:%M:%S.%f} {side} -> {value}")
        self.events.setdefault(lead, []).append((time.time(), "T" if side == "Trello" else "A", value))


@dataclass
class Verdict:
    leads: int = 0
    with_one_card: int = 0
    without_card: int = 0
    duplicates: int = 0
    missing: int = 0  # a lead with an open status and no card
    disagreeing: int = 0
    lost_updates: int = 0
    details: list[str] = field(default_factory=list)
    lost: list[tuple[str, str]] = field(default_factory=list)  # (lead, card) of each lost update

    @property
    def settled(self) -> bool:
        return self.duplicates == 0 and self.missing == 0 and self.disagreeing == 0


def judge(person: Person, db_url: str, history: History, lists: dict[str, str]) -> Verdict:
    """Every lead has at most one card, each lead with an open status exactly one; every active pair agrees
    (status, and the managed block); no pair lost the person's last status edit without a conflict."""
    status_of = {lid: name for name, lid in lists.items()}
    leads: dict[str, Lead] = {}
    for rec in person.leads():
        f = rec["fields"]
        leads[rec["id"]] = Lead(LeadId(rec["id"]), f.get("Name", ""), f.get("Email", ""), f.get("Status"),
                                f.get("Source", ""))  # fmt: skip
    cards_of: dict[str, list[dict[str, Any]]] = {}
    for card in person.cards("all"):
        claimed = parse_lead_id(card["desc"])
        if claimed:
            cards_of.setdefault(claimed, []).append(card)
    recorded: dict[str, list[datetime]] = {}
    open_conflicts: set[str] = set()
    actions: dict[str, list[str]] = {}
    writes: dict[str, list[tuple[float, str, str]]] = {}
    db = create_engine(db_url)
    try:
        with db.connect() as conn:  # the store's own table types: its times come back aware on either backend
            for lead_id, detected, resolved in conn.execute(
                select(conflicts.c.lead_id, conflicts.c.detected_at, conflicts.c.resolved_at)
            ):
                recorded.setdefault(lead_id, []).append(detected)
                if resolved is None:
                    open_conflicts.add(lead_id)
            entries = select(activity.c.at, activity.c.action, activity.c.lead_id, activity.c.detail)
            for at, action, lead_id, detail in conn.execute(entries.order_by(activity.c.id)):
                actions.setdefault(lead_id, []).append(f"{at.astimezone():%H:%M:%S.%f} {action}: {detail}")
                writes.setdefault(lead_id, []).append((at.timestamp(), action, detail))
    finally:
        db.dispose()
    v = Verdict(leads=len(leads))
    for lead_id, lead in leads.items():
        cards = cards_of.get(lead_id, [])
        if len(cards) > 1:
            v.duplicates += 1
            v.details.append(f"duplicate: lead {lead_id} has {len(cards)} cards")
        if len(cards) == 1:
            v.with_one_card += 1
        elif not cards:
            v.without_card += 1  # a lead set LOST before its first sync gets none
            if lead.status in OPEN_STATUSES:
                v.missing += 1
                v.details.append(f"missing: lead {lead_id} ({lead.status}) has no card")
        if len(cards) != 1 or cards[0]["closed"] or lead_id in open_conflicts:
            continue
        card = cards[0]
        final = status_of.get(card["idList"])
        if lead.status != final or merge_desc(card["desc"], lead) not in (None, card["desc"]):
            v.disagreeing += 1
            v.details.append(f"disagree: lead {lead_id} {lead.status!r} vs card {final!r}")
            continue
        last = history.last_status.get(lead_id)
        if last is not None and final != last[1]:
            after = [d for d in recorded.get(lead_id, []) if d.timestamp() >= last[0] - 1.0]
            if not after and not reverted(history.events.get(lead_id, []), writes.get(lead_id, []), final):
                v.lost_updates += 1
                v.lost.append((lead_id, card["id"]))
                v.details.append(
                    f"lost update: lead {lead_id} ends {final!r}, the person last set {last[1]!r}\n  person: "
                    + "\n  person: ".join(history.story.get(lead_id, []))
                    + "\n  leadsync: "
                    + "\n  leadsync: ".join(actions.get(lead_id, []))
                )
    return v


def cut_cycles(db_url: str) -> list[float]:
    """For each cycle a SIGKILL cut short (started, never finished: its process died holding the store's
    lock), the seconds until the next cycle started; a lock outliving its dead holder shows as a long gap.
    A cut cycle with no cycle after it (the final ``leadsync sync`` did not run) counts as 0."""
    db = create_engine(db_url)
    try:
        with db.connect() as conn:
            rows = conn.execute(
                select(cycles.c.started_at, cycles.c.finished_at).order_by(cycles.c.started_at)
            ).all()
    finally:
        db.dispose()
    return [
        (rows[i + 1].started_at - row.started_at).total_seconds() if i + 1 < len(rows) else 0.0
        for i, row in enumerate(rows)
        if row.finished_at is None
    ]


def reverted(
    events: list[tuple[float, str, str]], writes: list[tuple[float, str, str]], final: str | None
) -> bool:
    """Whether the person's last status edit set its side back to a value both sides had agreed on, and
    the pair ends with the other side's value: that edit was no change (Unison's rule), not a loss.

    Both sides' values are replayed from the person's edits and leadsync's recorded writes (its card
    moves copy the lead's status of the moment, its lead writes name the status they set)."""
    timeline = [(t, side, value) for t, side, value in events]
    for t, action, detail in writes:
        if action == "status" and "Status -> " in detail:
            timeline.append((t, "A", detail.rsplit("Status -> ", 1)[1]))
        elif action in ("created", "moved", "moved+updated", "linked"):
            timeline.append((t, "T", "<A>"))
    timeline.sort()
    sides: dict[str, str | None] = {"A": None, "T": None}
    agreed: set[str] = set()
    last_side, last_value = "", ""
    for _, side, value in timeline:
        sides[side] = sides["A"] if value == "<A>" else value
        if sides["A"] is not None and sides["A"] == sides["T"]:
            agreed.add(sides["A"])
        if value != "<A>" and (side, value) in {(e[1], e[2]) for e in events}:
            last_side, last_value = side, value
    other = sides["T" if last_side == "A" else "A"]
    return last_value in agreed and final == other


def trail(settings: dict[str, str], db_url: str, lead_id: str, card_id: str) -> str:
    """Every change of a lead's Status and of its card's list, by whom, from both APIs' own records
    (Trello's board actions, the Airtable webhook's payloads): to tell a lost update from a race."""
    url, base = settings["AIRTABLE_API_URL"], settings["AIRTABLE_BASE_ID"]
    names = {lid: name for name, lid in json.loads(settings["TRELLO_LIST_IDS"]).items()}
    auth = {"key": settings["PERSON_TRELLO_API_KEY"], "token": settings["PERSON_TRELLO_TOKEN"]}
    lines: list[tuple[str, str]] = []
    actions = httpx.get(f"{url}/1/boards/{settings['TRELLO_BOARD_ID']}/actions", timeout=30,
                        params={**auth, "filter": "updateCard,createCard", "limit": 1000}).json()  # fmt: skip
    person = httpx.get(f"{url}/1/members/me", params=auth, timeout=30).json()["id"]
    for a in actions:
        data = a.get("data", {})
        if data.get("card", {}).get("id") == card_id and ("listAfter" in data or a["type"] == "createCard"):
            after = data.get("listAfter", data.get("list", {}))
            who = "person" if a["idMemberCreator"] == person else "leadsync"
            lines.append((a["date"], f"Trello   {who}: card -> {names.get(after.get('id'), after)}"))
    db = create_engine(db_url)
    try:
        with db.connect() as conn:
            hook = conn.execute(
                select(sync_state.c.airtable_webhook_id).where(sync_state.c.flow == DEFAULT_FLOW)
            ).scalar()
    finally:
        db.dispose()
    headers = {"Authorization": f"Bearer {settings['PERSON_AIRTABLE_API_KEY']}"}
    tables = (
        httpx.get(f"{url}/v0/meta/bases/{base}/tables", headers=headers, timeout=30).json().get("tables", [])
    )
    status_field = next((f["id"] for t in tables for f in t["fields"] if f["name"] == "Status"), "")
    headers = {"Authorization": f"Bearer {settings['AIRTABLE_API_KEY']}"}
    cursor = 1
    while hook:
        page = httpx.get(f"{url}/v0/bases/{base}/webhooks/{hook}/payloads", headers=headers, timeout=30,
                         params={"cursor": cursor}).json()  # fmt: skip
        for p in page.get("payloads", []):
            who = p["actionMetadata"]["sourceMetadata"]["user"]["email"].split("@")[0]
            for table in p.get("changedTablesById", {}).values():
                for kind in ("createdRecordsById", "changedRecordsById"):
                    record = table.get(kind, {}).get(lead_id)
                    if record is not None:
                        cells = record.get("cellValuesByFieldId") or record.get("current", {}).get(
                            "cellValuesByFieldId", {}
                        )
                        if status_field in cells:
                            value = cells[status_field]
                            lines.append(
                                (
                                    p["timestamp"],
                                    f"Airtable {who}: Status -> {value.get('name') if isinstance(value, dict) else value}",
                                )
                            )
        cursor = page.get("cursor", cursor)
        if not page.get("mightHaveMore"):
            break
    return f"trail of lead {lead_id} / card {card_id}:\n  " + "\n  ".join(
        f"{t} {line}" for t, line in sorted(lines)
    )
