"""What a webhook event names: the leads and cards a delivery asks the next cycle to look at.

Events are hints that name objects; the cycle then reads those objects' current state and merges it
against the base. So a redelivered, replayed or reordered event can never change anything twice.
Pure functions of the decoded body: no I/O, and no import of the engine, the store or an HTTP client.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from leadsync.core import CardId, LeadId

__all__ = [
    "MalformedEvent",
    "Targets",
    "airtable_ping_webhook_id",
    "airtable_targets",
    "decode_body",
    "trello_targets",
]

# Ids an event may name: anything else is never read, so it can't reshape a query (a formula, a batch URL).
_CARD_ID = re.compile(r"[0-9a-fA-F]{24}")
_RECORD_ID = re.compile(r"rec[A-Za-z0-9]{14}")


class MalformedEvent(ValueError):
    """A body that is not the delivery it claims to be (not JSON, too deep, or the wrong shape)."""


@dataclass
class Targets:
    """What events named: leads and cards to sync, and echoes of leadsync's own writes left out."""

    leads: set[LeadId] = field(default_factory=set)
    cards: set[CardId] = field(default_factory=set)
    echoes: int = 0

    def __bool__(self) -> bool:
        return bool(self.leads or self.cards)


def decode_body(body: bytes) -> Any:
    """The JSON value of a delivery's body; MalformedEvent for anything else, however deeply nested."""
    try:
        return json.loads(body)
    except RecursionError:
        # The decoder recurses once per nesting level: a body of a few KB of brackets exhausts the stack.
        raise MalformedEvent("body is nested too deeply") from None
    except ValueError as exc:  # also UnicodeDecodeError
        raise MalformedEvent(f"body is not JSON: {exc}") from None


def _object(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (absent and mistyped parts name nothing)."""
    return value if isinstance(value, dict) else {}


def trello_targets(event: Any, own_member: str | None) -> Targets:
    """The card a Trello delivery names, unless leadsync itself made the change."""
    action = event.get("action") if isinstance(event, dict) else None
    if not isinstance(action, dict):
        raise MalformedEvent("delivery has no action")
    if own_member is not None and action.get("idMemberCreator") == own_member:
        return Targets(echoes=1)
    card_id = _object(_object(action.get("data")).get("card")).get("id")
    if not (isinstance(card_id, str) and _CARD_ID.fullmatch(card_id)):
        return Targets()
    return Targets(cards={CardId(card_id)})


def airtable_targets(payloads: Iterable[dict[str, Any]], table_id: str, own_user: str | None) -> Targets:
    """The records Airtable payloads name (created, changed or destroyed in the Leads table)."""
    out = Targets()
    for payload in payloads:
        meta = _object(_object(payload).get("actionMetadata"))
        user = _object(_object(meta.get("sourceMetadata")).get("user")).get("id")
        if own_user is not None and meta.get("source") == "publicApi" and user == own_user:
            out.echoes += 1
            continue
        table = _object(_object(_object(payload).get("changedTablesById")).get(table_id))
        named = [*_object(table.get("createdRecordsById")), *_object(table.get("changedRecordsById"))]
        destroyed = table.get("destroyedRecordIds")
        named += destroyed if isinstance(destroyed, list) else []
        out.leads.update(LeadId(rid) for rid in named if isinstance(rid, str) and _RECORD_ID.fullmatch(rid))
    return out


def airtable_ping_webhook_id(ping: Any) -> str:
    """The webhook id an Airtable notification names (``{"webhook": {"id": ...}}``)."""
    hook_id = _object(_object(ping).get("webhook")).get("id")
    if not isinstance(hook_id, str):
        raise MalformedEvent("not an Airtable webhook notification")
    return hook_id
