"""A person settles an open conflict: keep Airtable's value or Trello's, for ``conflicts resolve`` and the
dashboard alike.

Both sides are read first (the lead and its card), so the pair's new base holds the losing side's
value as it is now, not as it was when the conflict was recorded: an edit a person made meanwhile on
either side is neither lost nor mistaken for a new change. The next cycle then writes the kept side's
current value to the other side.
"""

from __future__ import annotations

from datetime import UTC, datetime

from leadsync.core import DUE, Conflict, LeadId, Side, keep_side
from leadsync.engine import Engine
from leadsync.errors import StoreError

__all__ = ["NothingToSettle", "settle_conflict"]


class NothingToSettle(StoreError):
    """The lead has no open conflict (of that field): settled meanwhile, or never in conflict."""


def settle_conflict(engine: Engine, lead_id: LeadId, keep: Side, field: str | None = None) -> Conflict:
    """Resolve the lead's open conflict (of ``field``, or its oldest) keeping ``keep``'s value; returns
    the resolved conflict. NothingToSettle when the lead has no open conflict (of ``field``) or no pair."""
    store = engine.store
    conflict = store.get_open_conflict(lead_id, field)
    base = store.get_pair(lead_id)
    if conflict is None or base is None:
        raise NothingToSettle(f"lead {lead_id} has no open conflict" + (f" on {field}" if field else ""))
    losing = Side.TRELLO if keep is Side.AIRTABLE else Side.AIRTABLE
    lists = engine.mapping()
    snapshot = engine.read_targets({lead_id}, {base.card_id})
    lead, card = snapshot.leads.get(lead_id), snapshot.cards.get(base.card_id)
    losing_now: str | None
    if losing is Side.AIRTABLE and lead is not None:
        losing_now = lead.due if conflict.field == DUE else lead.status
    elif losing is Side.TRELLO and card is not None:
        losing_now = card.due if conflict.field == DUE else lists.status_for(card.list_id)
    else:  # the losing side is gone: what was recorded is all there is
        losing_now = conflict.status_of(losing)
    resolved, new_base = keep_side(conflict, base, keep, datetime.now(UTC), losing_now=losing_now)
    store.set_base(new_base, action="conflict resolved", detail=f"{conflict.field}: kept {keep.value}")
    store.resolve_conflict(lead_id, resolved.resolution or "", field=conflict.field)
    return resolved
