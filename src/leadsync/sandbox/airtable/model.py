"""The Airtable world: one base holding the ``Leads`` table, and the webhooks and list iterators on it."""

from __future__ import annotations

import copy
from typing import Any

from leadsync.sandbox.airtable.errors import table_not_found
from leadsync.sandbox.airtable.rows import FieldDef, ListIterator, TableDef, WebhookRow
from leadsync.sandbox.shared_state import SharedState

__all__ = ["STATUS_CHOICES", "AirtableWorld"]

STATUS_CHOICES = ("NEW", "CONTACTED", "QUALIFIED", "LOST")


class AirtableWorld:
    """One base with the ``Leads`` table, readable and writable by both identities."""

    def __init__(self, shared: SharedState) -> None:
        self.shared = shared
        self.base_id = shared.airtable_id("app")
        self.table_name = "Leads"
        name = FieldDef(shared.airtable_id("fld"), "Name", "singleLineText")
        fields = [
            name,
            FieldDef(shared.airtable_id("fld"), "Email", "email"),
            FieldDef(
                shared.airtable_id("fld"),
                "Status",
                "singleSelect",
                {
                    "choices": [
                        {"id": shared.airtable_id("sel"), "name": c, "color": "blueLight2"}
                        for c in STATUS_CHOICES
                    ]
                },
            ),
            FieldDef(shared.airtable_id("fld"), "Source", "singleLineText"),
        ]
        self.table_id = shared.airtable_id("tbl")
        table = TableDef(self.table_id, self.table_name, name.id, {f.id: f for f in fields})
        table.view_id = shared.airtable_id("viw")
        self.tables: dict[str, TableDef] = {self.table_id: table}
        self.iterators: dict[str, ListIterator] = {}
        self.webhooks: dict[str, WebhookRow] = {}
        self.transaction_number = 0

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the world's data (not of the shared state), for :meth:`restore`."""
        return copy.deepcopy({k: v for k, v in self.__dict__.items() if k != "shared"})

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Back to a :meth:`snapshot`, in place: whoever holds this world sees the restored data."""
        self.__dict__.update(copy.deepcopy(snapshot))

    def table(self, id_or_name: str) -> TableDef:
        """A table by ``tbl`` id or by name; 404 ``TABLE_NOT_FOUND`` otherwise."""
        table = self.tables.get(id_or_name) or next(
            (t for t in self.tables.values() if t.name == id_or_name), None
        )
        if table is None:
            raise table_not_found(id_or_name, self.base_id)
        return table
