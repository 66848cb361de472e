"""The sandbox's whole state: the shared part, both API worlds, injected faults and the request log."""

from __future__ import annotations

import json

from leadsync.sandbox.airtable.model import AirtableWorld
from leadsync.sandbox.faults import FaultRule
from leadsync.sandbox.request_log import LogEntry, api_of
from leadsync.sandbox.shared_state import SharedState
from leadsync.sandbox.trello.model import TrelloWorld

__all__ = ["SandboxState"]


class SandboxState(SharedState):
    """Everything the emulator knows. ``reset()`` returns to the provisioned state (same ids, same keys)."""

    def __init__(
        self,
        *,
        seed: int | None = None,
        rate_scale: float = 1.0,
        latency_ms: float = 0.0,
        empty: bool = False,
    ) -> None:
        """A provisioned sandbox; ``empty``: a base without the Leads table and a board without lists."""
        super().__init__(seed=seed, rate_scale=rate_scale, latency_ms=latency_ms)
        self.base_url = "http://127.0.0.1:8787"
        self.faults: list[FaultRule] = []
        self.log: list[LogEntry] = []
        self._seq = 0
        self.airtable = AirtableWorld(self, empty=empty)
        self.bases: dict[str, AirtableWorld] = {}
        """More bases, beside :attr:`airtable` (``leadsync sandbox --flows``), by id."""
        self.trello = TrelloWorld(self, empty=empty)
        self._initial = (self.airtable.snapshot(), self.trello.snapshot())

    # ---- request log and faults ------------------------------------------------------------------
    def new_entry(self, method: str, path: str, query: str) -> LogEntry:
        """Log a new API request and return its entry (the status is filled in later)."""
        self._seq += 1
        entry = LogEntry(self._seq, method, path, query, api_of(path))
        self.log.append(entry)
        return entry

    def take_fault(self, method: str, path: str) -> FaultRule | None:
        """The first fault rule matching this request, one use of it spent; None when none matches."""
        for rule in self.faults:
            if rule.matches(method, path):
                rule.count -= 1
                return rule
        return None

    # ---- control ---------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the provisioned state: data, faults, limits and log cleared; ids and keys kept."""
        self.airtable.restore(self._initial[0])
        self.trello.restore(self._initial[1])
        self.faults.clear()
        self.log.clear()
        self.reset_limits()

    def settings(self) -> dict[str, str]:
        """The ``KEY=VALUE`` settings leadsync needs, and the person's credentials."""
        return {
            "AIRTABLE_API_URL": self.base_url,
            "AIRTABLE_API_KEY": self.leadsync.airtable_token,
            "AIRTABLE_BASE_ID": self.airtable.base_id,
            "AIRTABLE_LEADS_TABLE_NAME": self.airtable.table_name,
            "TRELLO_API_URL": self.base_url,
            "TRELLO_API_KEY": self.leadsync.trello_key,
            "TRELLO_TOKEN": self.leadsync.trello_token,
            "TRELLO_API_SECRET": self.trello_secrets[self.leadsync.trello_key],
            "TRELLO_BOARD_ID": self.trello.board_id,
            # an empty board has no lists to name
            **(
                {"TRELLO_LIST_IDS": json.dumps(self.trello.list_ids, separators=(",", ":"))}
                if self.trello.list_ids
                else {}
            ),
            **(
                {"LEADSYNC_RATE_LIMIT_SCALE": f"{self.rate_scale:g}"} if self.rate_scale not in (0, 1) else {}
            ),
            "PERSON_AIRTABLE_API_KEY": self.person.airtable_token,
            "PERSON_TRELLO_API_KEY": self.person.trello_key,
            "PERSON_TRELLO_TOKEN": self.person.trello_token,
        }
