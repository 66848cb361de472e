"""One authenticated Airtable API request, read in full before any state is touched."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.datastructures import QueryParams

from leadsync.sandbox.airtable.errors import invalid_request, malformed_json
from leadsync.sandbox.airtable.model import AirtableWorld
from leadsync.sandbox.identities import Identity
from leadsync.sandbox.shared_state import SharedState

__all__ = ["Call", "flag", "now_ms"]


@dataclass
class Call:
    """One authenticated API request, read in full before any state is touched."""

    world: AirtableWorld
    identity: Identity
    method: str
    query: QueryParams
    body: bytes
    now: datetime  # the sandbox clock at the request, to the millisecond

    @property
    def shared(self) -> SharedState:
        """What both APIs share: clock, ids, identities, limits, the webhook dispatcher."""
        return self.world.shared

    def json_body(self) -> dict[str, Any]:
        """The body as a JSON object: 400 when it does not parse, 422 when it is not an object."""
        if not self.body.strip():
            raise invalid_request()
        try:
            data = json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise malformed_json() from None
        if not isinstance(data, dict):
            raise invalid_request()
        return data


def now_ms(shared: SharedState) -> datetime:
    """The sandbox clock now, to the millisecond (Airtable's timestamps have no finer grain)."""
    moment = shared.clock.now()
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def flag(value: Any) -> bool:
    """A boolean option given as JSON or as a query string (``1``/``true``/``0``/``false``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "0", "false", ""):
        return value.lower() in ("1", "true")
    raise invalid_request()
