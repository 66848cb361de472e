"""The ``latest`` conflict policy's timestamps: which side changed a conflicting field last.

Each API's own clock decides. Status: Trello's ``updateCard`` action that moved the card, Airtable's
``LAST_MODIFIED_TIME({Status})``. Due date: Trello's ``updateCard`` action whose ``old`` holds ``due``,
Airtable's ``LAST_MODIFIED_TIME({due field})``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from leadsync.clients.airtable import AirtableClient
from leadsync.clients.trello import TrelloClient
from leadsync.core import DUE, Card, CardId, Conflict, LeadId, Side, Snapshot
from leadsync.engine.reading import reading
from leadsync.store import Store

__all__ = ["card_change_times", "latest_winners"]

_ACTION_FILTER = {"status": "updateCard:idList,createCard", DUE: "updateCard:due,createCard"}


def latest_winners(
    conflicts: Sequence[Conflict],
    snapshot: Snapshot,
    *,
    store: Store,
    airtable: AirtableClient,
    trello: TrelloClient,
) -> dict[LeadId, Side]:
    """For each of these conflicts (all of one field), the side whose change is the later by each
    API's own timestamp. Asks nothing when there is no conflict."""
    if not conflicts:
        return {}
    field = conflicts[0].field
    changes = card_change_times(
        {c.card_id for c in conflicts}, snapshot.cards, field, store=store, trello=trello
    )
    times = {c.lead_id: changes[c.card_id] for c in conflicts}
    with reading(f"Airtable ({field} change times)"):
        airtable_later = airtable.changed_after(field, times)
    return {lid: Side.AIRTABLE if lid in airtable_later else Side.TRELLO for lid in times}


def card_change_times(
    card_ids: set[CardId],
    cards: Mapping[CardId, Card],
    field: str,
    *,
    store: Store,
    trello: TrelloClient,
) -> dict[CardId, datetime]:
    """When ``field`` (``status``: the list; ``due``) of each card last changed (its creation when no
    change is on record since the last cycles)."""
    conflict_since = store.sync_state().trello_conflict_since
    since = None if conflict_since is None else conflict_since.isoformat()
    with reading("Trello actions"):
        actions = trello.actions(since=since, filter_=_ACTION_FILTER[field])
    out: dict[CardId, datetime] = {}
    for action in actions:  # newest first: the first seen per card is its latest change
        data = action.get("data", {})
        if field == DUE and action.get("type") == "updateCard" and "due" not in data.get("old", {}):
            continue
        cid = data.get("card", {}).get("id")
        if cid in card_ids and cid not in out:
            out[CardId(cid)] = datetime.fromisoformat(action["date"].replace("Z", "+00:00"))
    for cid in card_ids - out.keys():
        out[cid] = cards[cid].created_at if cid in cards else datetime.now(UTC)
    return out
