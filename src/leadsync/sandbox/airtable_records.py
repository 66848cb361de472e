"""Records endpoints: list (GET and ``POST .../listRecords``), get, create, update (PATCH merges, PUT
replaces), upsert and delete.

Every write validates the whole request before it changes anything (all-or-nothing), then applies
it and hands what changed to the webhooks, which record one payload for the request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

from leadsync.sandbox import airtable_webhooks as webhooks
from leadsync.sandbox.airtable_model import (
    MERGEABLE_TYPES,
    ApiError,
    Call,
    PendingChoices,
    RecordRow,
    TableDef,
    add_choices,
    coerce_cell,
    flag,
    formula_value,
    invalid_formula,
    invalid_request,
    iterator_not_available,
    record_not_found,
    render_record,
    row_does_not_exist,
    unknown_field,
)
from leadsync.sandbox.formula import FormulaError, compile_formula

if TYPE_CHECKING:
    from leadsync.sandbox.airtable import AirtableWorld

MAX_PAGE_SIZE = 100
MAX_RECORDS_PER_WRITE = 10
# "Iteration may timeout due to client inactivity": the timeout is undocumented ("minutes"); an
# offset expires this long after its page was served, by the sandbox clock.
ITERATOR_TTL_SECONDS = 300.0

_SORT_PARAM = re.compile(r"sort\[(\d+)\]\[(field|direction)\]")
_TEXT_OPTIONS = {
    "offset": "offset",
    "view": "view",
    "filterByFormula": "formula",
    "cellFormat": "cell_format",
    "timeZone": "time_zone",
    "userLocale": "user_locale",
}


# ---- listing -----------------------------------------------------------------------------------------


@dataclass
class ListIterator:
    """The records a first page matched, served page by page through opaque offsets."""

    table_id: str
    record_ids: list[str]
    position: int
    touched: float  # sandbox clock seconds at the last page served


@dataclass
class ListOptions:
    page_size: int = MAX_PAGE_SIZE
    max_records: int | None = None
    offset: str | None = None
    view: str | None = None
    fields: list[str] | None = None
    formula: str = ""
    sort: list[tuple[str, str]] = field(default_factory=list)
    cell_format: str = "json"
    time_zone: str | None = None
    user_locale: str | None = None
    by_id: bool = False
    comment_count: bool = False

    @classmethod
    def from_query(cls, call: Call) -> ListOptions:
        opts = cls()
        sorts: dict[int, dict[str, str]] = {}
        fields: list[str] = []
        for key, value in call.query.multi_items():
            if key == "fields[]":
                fields.append(value)
            elif key == "recordMetadata[]":
                opts.set_metadata([value])
            elif match := _SORT_PARAM.fullmatch(key):
                sorts.setdefault(int(match.group(1)), {})[match.group(2)] = value
            else:
                opts.set_scalar(key, value)
        opts.fields = fields or None
        opts.sort = [_sort_entry(sorts[i]) for i in sorted(sorts)]
        return opts

    @classmethod
    def from_body(cls, call: Call) -> ListOptions:
        opts = cls()
        for key, value in call.query.multi_items():
            if key not in ("timeZone", "userLocale"):  # only these two stay in the query string
                raise invalid_request()
            opts.set_scalar(key, value)
        body = call.json_body() if call.body.strip() else {}
        for key, value in body.items():
            if key == "fields":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise invalid_request()
                opts.fields = list(value)
            elif key == "sort":
                if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                    raise invalid_request()
                opts.sort = [_sort_entry(v) for v in value]
            elif key == "recordMetadata":
                if not isinstance(value, list):
                    raise invalid_request()
                opts.set_metadata(value)
            elif key in ("timeZone", "userLocale"):
                raise invalid_request()
            else:
                opts.set_scalar(key, value)
        return opts

    def set_scalar(self, key: str, value: Any) -> None:
        if key == "pageSize":
            self.page_size = _integer(value, 1, MAX_PAGE_SIZE)
        elif key == "maxRecords":
            self.max_records = _integer(value, 1, None)
        elif key in _TEXT_OPTIONS:
            if not isinstance(value, str):
                raise invalid_request()
            setattr(self, _TEXT_OPTIONS[key], value)
        elif key == "returnFieldsByFieldId":
            self.by_id = flag(value)
        else:
            raise invalid_request()

    def set_metadata(self, values: list[Any]) -> None:
        if any(v != "commentCount" for v in values):
            raise invalid_request()
        self.comment_count = True

    def validate(self, table: TableDef) -> None:
        if self.cell_format not in ("json", "string"):
            raise invalid_request()
        if self.cell_format == "string" and not (self.time_zone and self.user_locale):
            raise invalid_request()
        if self.view is not None and self.view not in (table.view_id, table.view_name):
            # UNVERIFIED: the type and message of an unknown view.
            raise ApiError(
                422, {"error": {"type": "VIEW_NAME_NOT_FOUND", "message": f'View "{self.view}" not found'}}
            )
        for name in [*(self.fields or []), *(s for s, _ in self.sort)]:
            if table.field_by_key(name) is None:
                raise unknown_field(name)


def _integer(value: Any, low: int, high: int | None) -> int:
    if isinstance(value, bool):
        raise invalid_request()
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid_request() from None
    if number < low or (high is not None and number > high):
        raise invalid_request()
    return number


def _sort_entry(entry: dict[str, Any]) -> tuple[str, str]:
    name, direction = entry.get("field"), entry.get("direction", "asc")
    if set(entry) - {"field", "direction"} or not isinstance(name, str) or direction not in ("asc", "desc"):
        raise invalid_request()
    return name, str(direction)


@dataclass(frozen=True)
class _FormulaView:
    """One record as :mod:`leadsync.sandbox.formula` sees it."""

    table: TableDef
    row: RecordRow

    @property
    def record_id(self) -> str:
        return self.row.id

    @property
    def created_time(self) -> datetime:
        return self.row.created_time

    def cell(self, field_id: str) -> Any:
        return formula_value(self.table.fields[field_id], self.row.cells.get(field_id))

    def last_modified_time(self, field_ids: Iterable[str]) -> datetime:
        # A field never modified since creation falls back to the record's createdTime: Airtable's
        # behaviour here is UNVERIFIED in the reference; this is the documented choice of the sandbox.
        times = [
            self.row.modified[f] for f in (list(field_ids) or self.table.fields) if f in self.row.modified
        ]
        return max(times, default=self.row.created_time)


def _sort_key(table: TableDef, field_key: str) -> Any:
    fdef = table.field_by_key(field_key)
    assert fdef is not None  # validated before sorting
    order = {c["name"]: i for i, c in enumerate(fdef.choices)}

    def key(row: RecordRow) -> tuple[int, Any]:
        value = row.cells.get(fdef.id)
        if value is None:
            return (0, "")  # blanks first when ascending
        if fdef.type == "singleSelect":
            return (1, order.get(value, len(order)))
        if isinstance(value, bool | int | float):
            return (1, value)
        if isinstance(value, list):
            return (1, ", ".join(map(str, value)).casefold())
        return (1, str(value).casefold())

    return key


def _matching_ids(call: Call, table: TableDef, opts: ListOptions) -> list[str]:
    rows = list(table.records.values())
    if opts.formula.strip():

        def resolve(name: str) -> str | None:
            fdef = table.field_by_key(name)
            return fdef.id if fdef else None

        try:
            formula = compile_formula(opts.formula, resolve)
        except FormulaError:
            raise invalid_formula() from None
        rows = [r for r in rows if formula.matches(_FormulaView(table, r), call.now)]
    for name, direction in reversed(opts.sort):
        rows.sort(key=_sort_key(table, name), reverse=direction == "desc")
    if opts.max_records is not None:
        rows = rows[: opts.max_records]
    return [r.id for r in rows]


def _expire_iterators(world: AirtableWorld, now: float) -> None:
    for key in [k for k, it in world.iterators.items() if now - it.touched > ITERATOR_TTL_SECONDS]:
        del world.iterators[key]


def list_records(call: Call, table: TableDef, *, via_post: bool) -> JSONResponse:
    opts = ListOptions.from_body(call) if via_post else ListOptions.from_query(call)
    opts.validate(table)
    world, now = call.world, call.state.clock.time()
    _expire_iterators(world, now)
    if opts.offset:
        iterator_id, _, next_id = opts.offset.partition("/")
        iterator = world.iterators.get(iterator_id)
        if (
            iterator is None
            or iterator.table_id != table.id
            or iterator.position >= len(iterator.record_ids)
            or iterator.record_ids[iterator.position] != next_id
        ):
            raise iterator_not_available()
    else:
        iterator_id = call.state.airtable_id("itr")
        iterator = ListIterator(table.id, _matching_ids(call, table, opts), 0, now)
    start = iterator.position
    page_ids = iterator.record_ids[start : start + opts.page_size]
    iterator.position, iterator.touched = start + len(page_ids), now
    only = None
    if opts.fields is not None:
        only = {f.id for name in opts.fields if (f := table.field_by_key(name)) is not None}
    records = []
    for record_id in page_ids:
        row = table.records.get(record_id)
        if row is None:
            continue  # deleted since the first page
        record = render_record(
            table, row, by_id=opts.by_id, as_string=opts.cell_format == "string", only=only
        )
        if opts.comment_count:
            record["commentCount"] = 0
        records.append(record)
    body: dict[str, Any] = {"records": records}
    if iterator.position < len(iterator.record_ids):
        world.iterators[iterator_id] = iterator
        body["offset"] = f"{iterator_id}/{iterator.record_ids[iterator.position]}"
    else:
        world.iterators.pop(iterator_id, None)
    return JSONResponse(body)


def get_record(call: Call, table: TableDef, record_id: str) -> JSONResponse:
    by_id, as_string = False, False
    for key, value in call.query.multi_items():
        if key == "returnFieldsByFieldId":
            by_id = flag(value)
        elif key == "cellFormat":
            if value not in ("json", "string"):
                raise invalid_request()
            as_string = value == "string"
        elif key not in ("timeZone", "userLocale"):
            raise invalid_request()
    row = table.records.get(record_id)
    if row is None:
        raise record_not_found()
    return JSONResponse(render_record(table, row, by_id=by_id, as_string=as_string))


# ---- writes ------------------------------------------------------------------------------------------


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
        out[fdef.id] = coerce_cell(fdef, value, typecast, pending)
    return out


def _options(body: dict[str, Any]) -> tuple[bool, bool]:
    return flag(body.get("typecast", False)), flag(body.get("returnFieldsByFieldId", False))


def _apply(
    call: Call, table: TableDef, writes: list[_Write], pending: PendingChoices, *, replace: bool
) -> tuple[list[RecordRow], list[str], list[str]]:
    """Apply validated writes; returns the rows (in request order) and the created and updated ids."""
    for field_id, names in pending.items():
        add_choices(call.state, table.fields[field_id], names)
    changes = webhooks.ChangeSet(call.identity)
    rows: list[RecordRow] = []
    created: list[str] = []
    updated: list[str] = []
    for write in writes:
        if write.row is None:
            cells = {k: v for k, v in write.cells.items() if v is not None}
            row = RecordRow(call.state.airtable_id("rec"), call.now, cells, dict.fromkeys(cells, call.now))
            table.records[row.id] = row
            changes.record_created(table, row)
            created.append(row.id)
        else:
            row = write.row
            before = dict(row.cells)
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
                changes.record_changed(table, row, before)
            updated.append(row.id)
        rows.append(row)
    webhooks.publish(call, changes)
    return rows, created, updated


def _rendered(table: TableDef, rows: list[RecordRow], by_id: bool) -> list[dict[str, Any]]:
    return [render_record(table, row, by_id=by_id) for row in rows]


def create_records(call: Call, table: TableDef) -> JSONResponse:
    body = _body_with(call, {"records", "fields", "typecast", "returnFieldsByFieldId"})
    typecast, by_id = _options(body)
    pending: PendingChoices = {}
    if "records" in body:
        if "fields" in body:
            raise invalid_request()
        items = _records_list(body, {"fields"})
        writes = [_Write(None, _cells(table, item["fields"], typecast, pending)) for item in items]
        rows, _, _ = _apply(call, table, writes, pending, replace=False)
        return JSONResponse({"records": _rendered(table, rows, by_id)})
    if "fields" not in body:
        raise invalid_request()
    write = _Write(None, _cells(table, body["fields"], typecast, pending))
    rows, _, _ = _apply(call, table, [write], pending, replace=False)
    return JSONResponse(render_record(table, rows[0], by_id=by_id))


def update_record(call: Call, table: TableDef, record_id: str, *, replace: bool) -> JSONResponse:
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
    return JSONResponse(render_record(table, rows[0], by_id=by_id))


def update_records(call: Call, table: TableDef, *, replace: bool) -> JSONResponse:
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
    return JSONResponse({"records": _rendered(table, rows, by_id)})


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
            # The error type is UNVERIFIED in the reference; the whole request fails either way.
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
        {"records": _rendered(table, rows, by_id), "createdRecords": created, "updatedRecords": updated}
    )


def delete_record(call: Call, table: TableDef, record_id: str) -> JSONResponse:
    row = table.records.get(record_id)
    if row is None:
        raise record_not_found()
    _destroy(call, table, [row])
    return JSONResponse({"id": record_id, "deleted": True})


def delete_records(call: Call, table: TableDef) -> JSONResponse:
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
