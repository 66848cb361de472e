"""Records read endpoints: list (GET and ``POST .../listRecords``, paged through list iterators) and get."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.responses import JSONResponse

from leadsync.sandbox.airtable.computed import RecordView, cell_value
from leadsync.sandbox.airtable.errors import (
    ApiError,
    invalid_formula,
    invalid_request,
    iterator_not_available,
    record_not_found,
    unknown_field,
    unknown_formula_fields,
)
from leadsync.sandbox.airtable.formula import FormulaError, compile_formula
from leadsync.sandbox.airtable.model import AirtableWorld
from leadsync.sandbox.airtable.render import render_record
from leadsync.sandbox.airtable.request import Call, flag
from leadsync.sandbox.airtable.rows import ListIterator, RecordRow, TableDef

__all__ = [
    "ITERATOR_TTL_SECONDS",
    "MAX_PAGE_SIZE",
    "ListOptions",
    "get_record",
    "list_records",
]

MAX_PAGE_SIZE = 100
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
class ListOptions:
    """The options of one list-records request, from the query string (GET) or the body (POST)."""

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
        """The options of a GET listing, from its query string; raises the API's 422 for an unknown or bad one."""
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
        """The options of a POST ``listRecords``, from its JSON body (only the time zone and locale may stay
        in the query string); raises the API's 422 for an unknown or bad one."""
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
        """Set the option named ``key`` (the API's name) to ``value``; raises the API's 422 when invalid."""
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
        """Ask for the record metadata ``values``; ``commentCount`` is the only one the API knows."""
        if any(v != "commentCount" for v in values):
            raise invalid_request()
        self.comment_count = True

    def validate(self, table: TableDef) -> None:
        """Check the options against ``table``: cell format, view and every named field must exist."""
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


def _sort_key(table: TableDef, field_key: str, now: datetime) -> Any:
    fdef = table.field_by_key(field_key)
    assert fdef is not None  # validated before sorting
    order = {c["name"]: i for i, c in enumerate(fdef.choices)}

    def key(row: RecordRow) -> tuple[int, Any]:
        value = cell_value(table, row, fdef.id, now)
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
        unknown: list[str] = []

        def resolve(name: str) -> str | None:
            # Formulas name fields by their names only: a {fld...} id is an unknown name, as Airtable
            # answers it. Unknown names are collected (the placeholder keeps parsing) so the error lists all.
            fdef = table.field_by_name(name)
            if fdef is None:
                unknown.append(name)
                return next(iter(table.fields))
            return fdef.id

        try:
            formula = compile_formula(opts.formula, resolve)
        except FormulaError:
            raise invalid_formula() from None
        if unknown:
            raise unknown_formula_fields(unknown)
        rows = [r for r in rows if formula.matches(RecordView(table, r, call.now), call.now)]
    for name, direction in reversed(opts.sort):
        rows.sort(key=_sort_key(table, name, call.now), reverse=direction == "desc")
    if opts.max_records is not None:
        rows = rows[: opts.max_records]
    return [r.id for r in rows]


def _expire_iterators(world: AirtableWorld, now: float) -> None:
    for key in [k for k, it in world.iterators.items() if now - it.touched > ITERATOR_TTL_SECONDS]:
        del world.iterators[key]


def list_records(call: Call, table: TableDef, *, via_post: bool) -> JSONResponse:
    """List a table's records (GET with a query, or ``POST .../listRecords`` with a body), a page at a time."""
    opts = ListOptions.from_body(call) if via_post else ListOptions.from_query(call)
    opts.validate(table)
    world, now = call.world, call.shared.clock.time()
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
        iterator_id = call.shared.airtable_id("itr")
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
            table, row, call.now, by_id=opts.by_id, as_string=opts.cell_format == "string", only=only
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
    """One record by id."""
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
    return JSONResponse(render_record(table, row, call.now, by_id=by_id, as_string=as_string))
