"""A record as the REST API returns it ("V1" JSON or ``cellFormat=string``), computed cells included."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadsync.sandbox.airtable.cells import is_empty, string_value
from leadsync.sandbox.airtable.computed import computed_cells
from leadsync.sandbox.airtable.rows import RecordRow, TableDef
from leadsync.sandbox.clock import iso_ms

__all__ = ["render_record"]


def render_record(
    table: TableDef,
    row: RecordRow,
    now: datetime,
    *,
    by_id: bool = False,
    as_string: bool = False,
    only: set[str] | None = None,
) -> dict[str, Any]:
    """A record as REST returns it at ``now``: empty cells omitted, keyed by field name (or id)."""
    computed = computed_cells(table, row, now)
    fields: dict[str, Any] = {}
    for fid, fdef in table.fields.items():
        value = computed[fid] if fid in computed else row.cells.get(fid)
        if is_empty(value) or (only is not None and fid not in only):
            continue
        fields[fid if by_id else fdef.name] = string_value(value) if as_string else value
    return {"id": row.id, "createdTime": iso_ms(row.created_time), "fields": fields}
