"""The ``latest`` conflict policy's timestamps: which side changed a conflicting status last.

Each API's own clock decides: Trello's ``updateCard`` action that moved the card, Airtable's
``LAST_MODIFIED_TIME({Status})``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from leadsync.clients.airtable import AirtableClient
from leadsync.clients.trello import TrelloClient
from leadsync.core import Card, CardId, Conflict, LeadId, Side, Snapshot
from leadsync.engine.reading import reading
from leadsync.store import Store

__all__ = ["card_move_times", "latest_winners"]


def latest_winners(
    conflicts: Sequence[Conflict],
    snapshot: Snapshot,
    *,
    store: Store,
    airtable: AirtableClient,
    trello: TrelloClient,
) -> dict[LeadId, Side]:
    """For each of these status conflicts, the side whose change is the later by each API's own
    timestamp. Asks nothing when there is no conflict."""
    if not conflicts:
        return {}
    moves = card_move_times({c.card_id for c in conflicts}, snapshot.cards, store=store, trello=trello)
    times = {c.lead_id: moves[c.card_id] for c in conflicts}
    with reading("Airtable (status change times)"):
        airtable_later = airtable.status_changed_after(times)
    return {lid: Side.AIRTABLE if lid in airtable_later else Side.TRELLO for lid in times}


def card_move_times(
    card_ids: set[CardId], cards: Mapping[CardId, Card], *, store: Store, trello: TrelloClient
) -> dict[CardId, datetime]:
    """When each card last moved (its creation when no move is on record since the last cycles)."""
    conflict_since = store.sync_state().trello_conflict_since
    since = None if conflict_since is None else conflict_since.isoformat()
    with reading("Trello actions"):
        actions = trello.actions(since=since, filter_="updateCard:idList,createCard")
    out: dict[CardId, datetime] = {}
    for action in actions:  # newest first: the first seen per card is its latest move
        cid = action.get("data", {}).get("card", {}).get("id")
        if cid in card_ids and cid not in out:
            out[CardId(cid)] = datetime.fromisoformat(action["date"].replace("Z", "+00:00"))
    for cid in card_ids - out.keys():
        out[cid] = cards[cid].created_at if cid in cards else datetime.now(UTC)
    return out
