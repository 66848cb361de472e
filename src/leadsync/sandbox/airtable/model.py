"""The Airtable world: one base holding the ``Leads`` table, and the webhooks and list iterators on it."""

from __future__ import annotations

import copy
from typing import Any

from leadsync.sandbox.airtable.errors import table_not_found
from leadsync.sandbox.airtable.rows import FieldDef, ListIterator, TableDef, WebhookRow
from leadsync.sandbox.shared_state import SharedState

__all__ = ["ALL_SCOPES", "STATUS_CHOICES", "AirtableWorld"]

# The basic scopes of a personal access token (https://airtable.com/developers/web/api/scopes).
ALL_SCOPES = (
    "data.records:read",
    "data.records:write",
    "schema.bases:read",
    "schema.bases:write",
    "webhook:manage",
    "user.email:read",
)

STATUS_CHOICES = ("NEW", "CONTACTED", "QUALIFIED", "LOST")


class AirtableWorld:
    """One base with the ``Leads`` table, readable and writable by both identities.

    Knobs a test may turn (``reset`` turns them back):

    - ``scopes``: the scopes of each identity's token, by identity name (all basic scopes at first);
      a call needing a scope the token lacks is answered 403 ``INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND``.
    - ``oauth_identities``: whose tokens answer ``whoami`` as OAuth access tokens do, listing their
      scopes. None at first: the sandbox's tokens are personal access tokens, whose ``whoami`` answers
      ``{id, email?}`` only ("scopes: Only returned if accessing via an OAuth access token",
      https://airtable.com/developers/web/api/get-user-id-scopes), so a client probes for its scopes.
    - ``other_bases``: further bases the tokens can list (``GET /v0/meta/bases``) but hold nothing.
    - ``computed_fields_creatable``: let the metadata API create computed fields (``autoNumber``,
      ``createdTime``, ``lastModifiedTime``, ``formula``), which Airtable refuses with 422
      ``UNSUPPORTED_FIELD_TYPE_FOR_CREATE``; stands for a person adding them in the UI.
    """

    def __init__(self, shared: SharedState, *, empty: bool = False) -> None:
        """The provisioned base: with the ``Leads`` table, or ``empty`` as a new base is (one blank
        ``Table 1``), for ``leadsync init`` to set up."""
        self.shared = shared
        self.base_id = shared.airtable_id("app")
        self.base_name = "Lead tracking"
        self.scopes: dict[str, set[str]] = {name: set(ALL_SCOPES) for name in shared.identities}
        self.oauth_identities: set[str] = set()
        self.other_bases: list[dict[str, str]] = []
        self.computed_fields_creatable = False
        self.table_name = "Leads"
        self.tables: dict[str, TableDef] = {}
        table = self._blank_table(shared) if empty else self._leads_table(shared)
        self.table_id = table.id
        self.tables[table.id] = table
        self.iterators: dict[str, ListIterator] = {}
        self.webhooks: dict[str, WebhookRow] = {}
        self.transaction_number = 0

    def _leads_table(self, shared: SharedState) -> TableDef:
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
        table = TableDef(shared.airtable_id("tbl"), self.table_name, name.id, {f.id: f for f in fields})
        table.view_id = shared.airtable_id("viw")
        return table

    @staticmethod
    def _blank_table(shared: SharedState) -> TableDef:
        # A base made from scratch in Airtable's UI holds one table, "Table 1", whose primary field is
        # "Name"; the UI's other starter fields are left out (nothing of leadsync's depends on them).
        name = FieldDef(shared.airtable_id("fld"), "Name", "singleLineText")
        notes = FieldDef(shared.airtable_id("fld"), "Notes", "multilineText")
        table = TableDef(shared.airtable_id("tbl"), "Table 1", name.id, {name.id: name, notes.id: notes})
        table.view_id = shared.airtable_id("viw")
        return table

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the world's data (not of the shared state), for :meth:`restore`."""
        return copy.deepcopy({k: v for k, v in self.__dict__.items() if k != "shared"})

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Back to a :meth:`snapshot`, in place: whoever holds this world sees the restored data."""
        self.__dict__.update(copy.deepcopy(snapshot))

    def table(self, id_or_name: str) -> TableDef:
        """A table by ``tbl`` id or by name; 404 ``TABLE_NOT_FOUND`` otherwise."""
        table = self.tables.get(id_or_name) or self.table_by_name(id_or_name)
        if table is None:
            raise table_not_found(id_or_name, self.base_id)
        return table

    def table_by_name(self, name: str) -> TableDef | None:
        """A table by its current name, if any."""
        return next((t for t in self.tables.values() if t.name == name), None)

    def table_name_taken(self, name: str, *, except_id: str | None = None) -> bool:
        """True when another table already has ``name``, compared case-insensitively."""
        wanted = name.casefold()
        return any(t.name.casefold() == wanted and t.id != except_id for t in self.tables.values())

    def bases(self) -> list[dict[str, str]]:
        """Every base the tokens can list: this one first, then ``other_bases``."""
        own = {"id": self.base_id, "name": self.base_name, "permissionLevel": "create"}
        return [own, *copy.deepcopy(self.other_bases)]
