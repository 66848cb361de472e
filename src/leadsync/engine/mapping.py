"""A flow's mapping, resolved against the live table and board: fields, lists and labels by id.

The table's schema is read at the start of every cycle (one request): fields are then read and
written by id, a formula gets a field's current name, and a mapped field deleted or given another type
stops the cycle before any write with exit 2 naming it. The board's lists and labels are resolved
once per process. Every resolution is remembered in the store, so a name changed while leadsync was
stopped still finds its field, list or label by the id it had.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from leadsync.board_labels import LABEL_KEY, LabelBook
from leadsync.clients.airtable import AirtableClient
from leadsync.clients.airtable_schema import ResolvedTable, resolve_table
from leadsync.clients.lead_codec import LeadCodec
from leadsync.clients.trello import TrelloClient
from leadsync.config import FlowConfig
from leadsync.core import StatusLists
from leadsync.engine.reading import Reader, reading
from leadsync.store import Store

__all__ = ["FIELD_KEY", "LIST_KEY", "FlowMapping"]

FIELD_KEY = "field:"
"""The prefix of the table's and its fields' keys among a flow's remembered ids."""

LIST_KEY = "list:"
"""The prefix of a status's list among a flow's remembered ids."""


def _strip(ids: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {k.removeprefix(prefix): v for k, v in ids.items() if k.startswith(prefix)}


@dataclass
class FlowMapping:
    """The flow's mapping for one process: the table resolved each cycle, lists and labels once."""

    flow: FlowConfig
    store: Store
    airtable: AirtableClient
    trello: TrelloClient
    reader: Reader
    table: ResolvedTable | None = None
    labels: LabelBook | None = None
    _lists: StatusLists | None = field(default=None, repr=False)

    def refresh_table(self) -> ResolvedTable:
        """Read the table's schema and point both clients at its fields by id (a ConfigError, before any
        write, when a mapped field is gone or unusable)."""
        remembered = self.store.remembered_ids(self.flow.name)
        with reading("Airtable schema"):
            schema = self.airtable.schema()
        known = _strip(remembered, FIELD_KEY)
        table = resolve_table(schema, self.flow, known)
        if table.remembered() != known:  # a write only when an id is new or changed
            ids = {FIELD_KEY + k: v for k, v in table.remembered().items()}
            self.store.remember_ids(ids, self.flow.name, prefix=FIELD_KEY)
        codec = LeadCodec(table, self.flow.title)
        self.airtable.use(codec)
        self.trello.due_type = codec.due_type
        self.table = table
        return table

    def lists(self) -> StatusLists:
        """Status -> list id (once per process), the statuses that get no card, and the labels."""
        if self._lists is None:
            known = _strip(self.store.remembered_ids(self.flow.name), LIST_KEY)
            found = self.reader.status_lists(known)
            if dict(found.list_by_status) != known:
                self.store.remember_ids(
                    {LIST_KEY + s: lid for s, lid in found.list_by_status.items()},
                    self.flow.name,
                    prefix=LIST_KEY,
                )
            self._lists = StatusLists(found.list_by_status, self.flow.no_card)
        if self.table is not None and "labels" in self.table.roles and self.labels is None:
            self.labels = self._label_book(self.table)
        if self.labels is None:
            return self._lists
        return StatusLists(self._lists.list_by_status, self._lists.no_card, self.labels.snapshot())

    def _label_book(self, table: ResolvedTable) -> LabelBook:
        """Each option's board label: the one remembered by id while it exists, else one of its name."""
        remembered = _strip(self.store.remembered_ids(self.flow.name), LABEL_KEY)
        with reading("Trello labels"):
            board = {str(row["id"]): str(row.get("name", "")) for row in self.trello.labels()}
        by_name = {name: lid for lid, name in reversed(list(board.items()))}
        options = set(table.roles["labels"].choices) | remembered.keys()
        known: dict[str, str] = {}
        for option in options:
            lid = remembered.get(option)
            if lid is None or lid not in board:
                lid = by_name.get(option)
            if lid is not None:
                known[option] = lid
        return LabelBook(self.trello, self.store, self.flow.name, known)
