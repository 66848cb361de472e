"""Airtable Web API emulator: records, formulas, metadata and webhooks under ``/v0``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from leadsync.sandbox.state import SandboxState

STATUS_CHOICES = ("NEW", "CONTACTED", "QUALIFIED", "LOST")


@dataclass
class FieldDef:
    id: str
    name: str
    type: str
    options: dict[str, Any] | None = None


@dataclass
class RecordRow:
    id: str
    created_time: datetime
    cells: dict[str, Any] = field(default_factory=dict)  # by field id
    modified: dict[str, datetime] = field(default_factory=dict)  # by field id: last user modification


@dataclass
class TableDef:
    id: str
    name: str
    primary_field_id: str
    fields: dict[str, FieldDef] = field(default_factory=dict)  # by field id, in creation order
    records: dict[str, RecordRow] = field(default_factory=dict)  # by record id, in creation order


class AirtableWorld:
    """One base with the ``Leads`` table, readable and writable by both identities."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.base_id = state.airtable_id("app")
        self.table_name = "Leads"
        name = FieldDef(state.airtable_id("fld"), "Name", "singleLineText")
        fields = [
            name,
            FieldDef(state.airtable_id("fld"), "Email", "email"),
            FieldDef(
                state.airtable_id("fld"),
                "Status",
                "singleSelect",
                {
                    "choices": [
                        {"id": state.airtable_id("sel"), "name": c, "color": "blueLight2"}
                        for c in STATUS_CHOICES
                    ]
                },
            ),
            FieldDef(state.airtable_id("fld"), "Source", "singleLineText"),
        ]
        self.table_id = state.airtable_id("tbl")
        self.tables: dict[str, TableDef] = {
            self.table_id: TableDef(self.table_id, self.table_name, name.id, {f.id: f for f in fields})
        }

    def __deepcopy__(self, memo: dict[int, Any]) -> AirtableWorld:
        import copy

        clone = object.__new__(AirtableWorld)
        for key, value in self.__dict__.items():
            setattr(clone, key, value if key == "state" else copy.deepcopy(value, memo))
        return clone


def routes(state: SandboxState) -> list[BaseRoute]:
    async def not_found(_: Request) -> Response:
        return JSONResponse({"error": "NOT_FOUND"}, status_code=404)

    return [Route("/{rest:path}", not_found, methods=["GET", "POST", "PATCH", "PUT", "DELETE"])]
