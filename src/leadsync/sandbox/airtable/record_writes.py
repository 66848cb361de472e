"""Records write endpoints: create, update (PATCH merges, PUT replaces), upsert and delete.

Every write validates the whole request before it changes anything (all-or-nothing), then applies
it and hands what changed to the webhooks, which record one payload for the request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse

from leadsync.sandbox.airtable import webhooks
from leadsync.sandbox.airtable.cells import PendingChoices, add_choices, coerce_cell
from leadsync.sandbox.airtable.errors import (
    ApiError,
    computed_field,
    invalid_request,
    record_not_found,
    row_does_not_exist,
    unknown_field,
)
from leadsync.sandbox.airtable.render import render_record
from leadsync.sandbox.airtable.request import Call, flag
from leadsync.sandbox.airtable.rows import COMPUTED_TYPES, MERGEABLE_TYPES, RecordRow, TableDef

__all__ = [
    "MAX_RECORDS_PER_WRITE",
    "create_records",
    "delete_record",
    "delete_records",
    "update_record",
    "update_records",
]

MAX_RECORDS_PER_WRITE = 10


@dataclass
class _Write:
    row: RecordRow | None  # None: create
    cells: dict[str, Any]  # by field id; None clears


def _body_with(call: Call, allowed: set[str]) -> dict[str, Any]:
    body = call.json_body()
    if set(body) - allowed:
        raise invalid_request()
    return body


def _records_list(body: dict[str, Any], item_keys: set[str]) -> list[dict[str, Any]]:
    records = body.get("records")
    if not isinstance(records, list) or not 1 <= len(records) <= MAX_RECORDS_PER_WRITE:
        raise invalid_request()  # the status and body of an 11-record batch are UNVERIFIED: 422 here
    for item in records:
        if not isinstance(item, dict) or set(item) - item_keys or "fields" not in item:
            raise invalid_request()
    return records


def _cells(table: TableDef, fields: Any, typecast: bool, pending: PendingChoices) -> dict[str, Any]:
    if not isinstance(fields, dict):
        raise invalid_request()
    out: dict[str, Any] = {}
    for key, value in fields.items():
        fdef = table.field_by_key(key)
        if fdef is None:
            raise unknown_field(key)
        if fdef.type in COMPUTED_TYPES:
            raise computed_field(key)
        out[fdef.id] = coerce_cell(fdef, value, typecast, pending)
    return out


def _options(body: dict[str, Any]) -> tuple[bool, bool]:
    return flag(body.get("typecast", False)), flag(body.get("returnFieldsByFieldId", False))


def _apply(
    call: Call, table: TableDef, writes: list[_Write], pending: PendingChoices, *, replace: bool
) -> tuple[list[RecordRow], list[str], list[str]]:
    """Apply validated writes; returns the rows (in request order) and the created and updated ids."""
    for field_id, names in pending.items():
        add_choices(call.shared, table.fields[field_id], names)
    changes = webhooks.ChangeSet(call.identity)
    rows: list[RecordRow] = []
    created: list[str] = []
    updated: list[str] = []
    for write in writes:
        if write.row is None:
            cells = {k: v for k, v in write.cells.items() if v is not None}
            table.records_created += 1
            row = RecordRow(
                call.shared.airtable_id("rec"),
                call.now,
                cells,
                dict.fromkeys(cells, call.now),
                table.records_created,
            )
            table.records[row.id] = row
            changes.record_created(table, row)
            created.append(row.id)
        else:
            row = write.row
            before = dict(row.cells)
            shown_before = webhooks.cells_with_computed(table, row, call.now)
            after = {} if replace else dict(before)
            for field_id, value in write.cells.items():
                if value is None:
                    after.pop(field_id, None)
                else:
                    after[field_id] = value
            changed = [f for f in table.fields if before.get(f) != after.get(f)]
            if changed:
                row.cells = after
                for field_id in changed:
                    row.modified[field_id] = call.now
                changes.record_changed(table, row, shown_before)
            updated.append(row.id)
        rows.append(row)
    webhooks.publish(call, changes)
    return rows, created, updated


def _rendered(call: Call, table: TableDef, rows: list[RecordRow], by_id: bool) -> list[dict[str, Any]]:
    return [render_record(table, row, call.now, by_id=by_id) for row in rows]


def create_records(call: Call, table: TableDef) -> JSONResponse:
    """``POST``: create one record, or up to 10 (``records``), or upsert (``performUpsert``)."""
    body = _body_with(call, {"records", "fields", "typecast", "returnFieldsByFieldId"})
    typecast, by_id = _options(body)
    pending: PendingChoices = {}
    if "records" in body:
        if "fields" in body:
            raise invalid_request()
        items = _records_list(body, {"fields"})
        writes = [_Write(None, _cells(table, item["fields"], typecast, pending)) for item in items]
        rows, _, _ = _apply(call, table, writes, pending, replace=False)
        return JSONResponse({"records": _rendered(call, table, rows, by_id)})
    if "fields" not in body:
        raise invalid_request()
    write = _Write(None, _cells(table, body["fields"], typecast, pending))
    rows, _, _ = _apply(call, table, [write], pending, replace=False)
    return JSONResponse(render_record(table, rows[0], call.now, by_id=by_id))


def update_record(call: Call, table: TableDef, record_id: str, *, replace: bool) -> JSONResponse:
    """``PATCH``/``PUT`` on one record: merge (PATCH) or replace (PUT) its cells."""
    body = _body_with(call, {"fields", "typecast", "returnFieldsByFieldId"})
    typecast, by_id = _options(body)
    row = table.records.get(record_id)
    if row is None:
        raise record_not_found()
    if "fields" not in body:
        raise invalid_request()
    pending: PendingChoices = {}
    write = _Write(row, _cells(table, body["fields"], typecast, pending))
    rows, _, _ = _apply(call, table, [write], pending, replace=replace)
    return JSONResponse(render_record(table, rows[0], call.now, by_id=by_id))


def update_records(call: Call, table: TableDef, *, replace: bool) -> JSONResponse:
    """``PATCH``/``PUT`` on the table: up to 10 updates, or an upsert (``performUpsert``)."""
    body = _body_with(call, {"records", "typecast", "returnFieldsByFieldId", "performUpsert"})
    typecast, by_id = _options(body)
    if "performUpsert" in body:
        return _upsert(call, table, body, typecast, by_id, replace=replace)
    pending: PendingChoices = {}
    writes = []
    for item in _records_list(body, {"id", "fields"}):
        record_id = item.get("id")
        row = table.records.get(record_id) if isinstance(record_id, str) else None
        if row is None:
            raise row_does_not_exist(str(record_id))
        writes.append(_Write(row, _cells(table, item["fields"], typecast, pending)))
    rows, _, _ = _apply(call, table, writes, pending, replace=replace)
    return JSONResponse({"records": _rendered(call, table, rows, by_id)})


def _merge_fields(table: TableDef, spec: Any) -> list[str]:
    if not isinstance(spec, dict) or set(spec) != {"fieldsToMergeOn"}:
        raise invalid_request()
    names = spec["fieldsToMergeOn"]
    if not isinstance(names, list) or not 1 <= len(names) <= 3 or not all(isinstance(n, str) for n in names):
        raise invalid_request()
    field_ids = []
    for name in names:
        fdef = table.field_by_key(name)
        if fdef is None:
            raise unknown_field(name)
        if fdef.type not in MERGEABLE_TYPES:
            raise invalid_request()
        field_ids.append(fdef.id)
    return field_ids


def _upsert(
    call: Call, table: TableDef, body: dict[str, Any], typecast: bool, by_id: bool, *, replace: bool
) -> JSONResponse:
    merge_ids = _merge_fields(table, body["performUpsert"])
    pending: PendingChoices = {}
    writes: list[_Write] = []
    seen_keys: set[str] = set()
    for item in _records_list(body, {"id", "fields"}):
        cells = _cells(table, item["fields"], typecast, pending)
        if "id" in item:  # an id bypasses the merge fields
            row = table.records.get(item["id"]) if isinstance(item["id"], str) else None
            if row is None:
                raise row_does_not_exist(str(item["id"]))
            writes.append(_Write(row, cells))
            continue
        if any(f not in cells for f in merge_ids):
            raise invalid_request()
        key = json.dumps([cells[f] for f in merge_ids])
        matches = [r for r in table.records.values() if all(r.cells.get(f) == cells[f] for f in merge_ids)]
        if len(matches) > 1 or key in seen_keys:
            # The error type is UNVERIFIED in the documentation; the whole request fails either way.
            raise ApiError(
                422,
                {
                    "error": {
                        "type": "INVALID_REQUEST_UNKNOWN",
                        "message": "fieldsToMergeOn must identify at most one record, and each record "
                        "in the request must have distinct merge values",
                    }
                },
            )
        seen_keys.add(key)
        writes.append(_Write(matches[0] if matches else None, cells))
    rows, created, updated = _apply(call, table, writes, pending, replace=replace)
    return JSONResponse(
        {"records": _rendered(call, table, rows, by_id), "createdRecords": created, "updatedRecords": updated}
    )


def delete_record(call: Call, table: TableDef, record_id: str) -> JSONResponse:
    """``DELETE`` one record."""
    row = table.records.get(record_id)
    if row is None:
        raise record_not_found()
    _destroy(call, table, [row])
    return JSONResponse({"id": record_id, "deleted": True})


def delete_records(call: Call, table: TableDef) -> JSONResponse:
    """``DELETE`` up to 10 records given as ``records[]``."""
    if set(call.query.keys()) - {"records[]"}:
        raise invalid_request()
    ids = call.query.getlist("records[]")
    if not 1 <= len(ids) <= MAX_RECORDS_PER_WRITE:
        raise invalid_request()
    rows = []
    for record_id in dict.fromkeys(ids):
        row = table.records.get(record_id)
        if row is None:
            raise record_not_found()
        rows.append(row)
    _destroy(call, table, rows)
    return JSONResponse({"records": [{"id": r.id, "deleted": True} for r in rows]})


def _destroy(call: Call, table: TableDef, rows: list[RecordRow]) -> None:
    changes = webhooks.ChangeSet(call.identity)
    for row in rows:
        del table.records[row.id]
        changes.record_destroyed(table, row)
    webhooks.publish(call, changes)
