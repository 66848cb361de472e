"""The Airtable emulator's data model: tables, fields, records, the errors it answers with, and how
cell values are validated on the way in and rendered on the way out (REST "V1", webhook "V2").

Errors are raised as :class:`ApiError` anywhere below a route and turned into the documented JSON
body by the router. Bodies follow ``reference/airtable-api.md`` section 2; where the reference marks a
body as UNVERIFIED, the choice made here is said next to it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from starlette.datastructures import QueryParams
from starlette.responses import JSONResponse

from leadsync.sandbox.clock import iso_ms
from leadsync.sandbox.formula_values import parse_datetime

if TYPE_CHECKING:
    from leadsync.sandbox.airtable import AirtableWorld
    from leadsync.sandbox.state import Identity, SandboxState

# ---- errors ------------------------------------------------------------------------------------------

GENERIC_422_MESSAGE = "Invalid request: parameter validation failed. Check your request data."
FORMULA_MESSAGE = (
    "The formula for filtering records is invalid: Invalid formula. Please check your formula text."
)
PERMISSIONS_MESSAGE = (
    "Invalid permissions, or the requested model was not found. Check that both your user and your "
    "token have the required permissions, and that the model names and/or ids are correct."
)


class ApiError(Exception):
    """An error answer: HTTP ``status`` with the JSON ``body``."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body

    def response(self) -> JSONResponse:
        return JSONResponse(self.body, status_code=self.status)


def _typed(status: int, kind: str, message: str | None = None) -> ApiError:
    error: dict[str, Any] = {"type": kind}
    if message is not None:
        error["message"] = message
    return ApiError(status, {"error": error})


def authentication_required() -> ApiError:
    return _typed(401, "AUTHENTICATION_REQUIRED", "Authentication required")


def model_not_found() -> ApiError:
    return _typed(403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", PERMISSIONS_MESSAGE)


def route_not_found() -> ApiError:
    return ApiError(404, {"error": "NOT_FOUND"})


def record_not_found() -> ApiError:
    return _typed(404, "MODEL_ID_NOT_FOUND", "Record not found")


def table_not_found(name: str, base_id: str) -> ApiError:
    # The type is observed; the message is UNVERIFIED in the reference.
    return _typed(404, "TABLE_NOT_FOUND", f"Could not find table {name} in application {base_id}")


def invalid_request() -> ApiError:
    return _typed(422, "INVALID_REQUEST_UNKNOWN", GENERIC_422_MESSAGE)


def unknown_field(name: str) -> ApiError:
    return _typed(422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{name}"')


def invalid_choice(value: str) -> ApiError:
    return _typed(
        422,
        "INVALID_MULTIPLE_CHOICE_OPTIONS",
        f'Insufficient permissions to create new select option ""{value}""',
    )


def invalid_value(field_name: str) -> ApiError:
    # Type observed in third-party captures; the message wording is UNVERIFIED.
    return _typed(422, "INVALID_VALUE_FOR_COLUMN", f'Field "{field_name}" cannot accept the provided value')


def invalid_formula() -> ApiError:
    return _typed(422, "INVALID_FILTER_BY_FORMULA", FORMULA_MESSAGE)


def iterator_not_available() -> ApiError:
    return _typed(422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE")


def row_does_not_exist(record_id: str) -> ApiError:
    return _typed(422, "ROW_DOES_NOT_EXIST", f"Record ID {record_id} does not exist in this table")


def rate_limited() -> ApiError:
    return _typed(429, "RATE_LIMIT_REACHED", "Rate limit exceeded. Please try again later")


def malformed_json() -> ApiError:
    # The reference documents only "400: request can't be parsed as JSON"; this body is UNVERIFIED.
    return _typed(400, "INVALID_REQUEST_BODY", "Could not parse request body as JSON")


def url_too_long(length: int) -> ApiError:
    # The 16,000-character limit is documented; the answer is not (UNVERIFIED). We answer 414 URI Too
    # Long, the HTTP status for exactly this, so clients can tell it from a validation error (422).
    return _typed(
        414,
        "URL_TOO_LONG",
        f"The request URL is {length} characters long; the limit is 16000. "
        "Use POST .../listRecords with a JSON body instead.",
    )


# ---- the model ---------------------------------------------------------------------------------------

TEXT_TYPES = frozenset({"singleLineText", "multilineText", "email", "url", "phoneNumber", "richText"})
NUMBER_TYPES = frozenset({"number", "currency", "percent", "rating", "duration"})
SELECT_TYPES = frozenset({"singleSelect", "multipleSelects"})
DATE_TYPES = frozenset({"date", "dateTime"})
WRITABLE_TYPES = TEXT_TYPES | NUMBER_TYPES | SELECT_TYPES | DATE_TYPES | {"checkbox"}
MERGEABLE_TYPES = TEXT_TYPES | SELECT_TYPES | DATE_TYPES | {"number"}

CHOICE_COLORS = (
    "blueLight2",
    "cyanLight2",
    "tealLight2",
    "greenLight2",
    "yellowLight2",
    "orangeLight2",
    "redLight2",
    "pinkLight2",
    "purpleLight2",
    "grayLight2",
)


@dataclass
class FieldDef:
    id: str
    name: str
    type: str
    options: dict[str, Any] | None = None
    description: str | None = None

    @property
    def choices(self) -> list[dict[str, Any]]:
        return list((self.options or {}).get("choices", []))

    def choice(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self.choices if c["name"] == name), None)

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name, "type": self.type}
        if self.description:
            out["description"] = self.description
        if self.options is not None:
            out["options"] = json.loads(json.dumps(self.options))
        return out


@dataclass
class RecordRow:
    id: str
    created_time: datetime
    cells: dict[str, Any] = field(default_factory=dict)  # by field id; empty values are never stored
    modified: dict[str, datetime] = field(default_factory=dict)  # by field id: last user modification


@dataclass
class TableDef:
    id: str
    name: str
    primary_field_id: str
    fields: dict[str, FieldDef] = field(default_factory=dict)  # by field id, in creation order
    records: dict[str, RecordRow] = field(default_factory=dict)  # by record id, in creation order
    view_id: str = ""
    view_name: str = "Grid view"

    def field_by_key(self, key: str) -> FieldDef | None:
        """A field by name (as written) or by ``fld`` id."""
        by_id = self.fields.get(key)
        if by_id is not None:
            return by_id
        return next((f for f in self.fields.values() if f.name == key), None)

    def schema(self, *, visible_field_ids: bool = False) -> dict[str, Any]:
        view: dict[str, Any] = {"id": self.view_id, "name": self.view_name, "type": "grid"}
        if visible_field_ids:
            view["visibleFieldIds"] = list(self.fields)
        return {
            "id": self.id,
            "name": self.name,
            "primaryFieldId": self.primary_field_id,
            "fields": [f.schema() for f in self.fields.values()],
            "views": [view],
        }


# ---- one request -------------------------------------------------------------------------------------


@dataclass
class Call:
    """One authenticated API request, read in full before any state is touched."""

    state: SandboxState
    identity: Identity
    method: str
    query: QueryParams
    body: bytes
    now: datetime  # the sandbox clock at the request, to the millisecond

    @property
    def world(self) -> AirtableWorld:
        return self.state.airtable

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


def now_ms(state: SandboxState) -> datetime:
    moment = state.clock.now()
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def flag(value: Any) -> bool:
    """A boolean option given as JSON or as a query string (``1``/``true``/``0``/``false``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "0", "false", ""):
        return value.lower() in ("1", "true")
    raise invalid_request()


# ---- cell values -------------------------------------------------------------------------------------


def is_empty(value: Any) -> bool:
    """Airtable omits these from responses: a cell holding one is an empty cell."""
    return value is None or value is False or value == "" or value == []


PendingChoices = dict[str, list[str]]
"""New select options that ``typecast`` will create once the whole request is valid (by field id)."""


def coerce_cell(fdef: FieldDef, value: Any, typecast: bool, pending: PendingChoices) -> Any:
    """Validate one written value and return what is stored (``None`` for an empty cell)."""
    if is_empty(value):
        return None
    if fdef.type in TEXT_TYPES:
        return _text_value(fdef, value, typecast)
    if fdef.type in NUMBER_TYPES:
        return _number_value(fdef, value, typecast)
    if fdef.type == "checkbox":
        if isinstance(value, bool):
            return value or None
        if typecast:
            return str(value).strip().lower() not in ("", "false", "0", "no") or None
        raise invalid_value(fdef.name)
    if fdef.type == "singleSelect":
        return _choice_value(fdef, value, typecast, pending)
    if fdef.type == "multipleSelects":
        items = value if isinstance(value, list) else [value] if typecast else None
        if items is None:
            raise invalid_value(fdef.name)
        names = [_choice_value(fdef, item, typecast, pending) for item in items]
        return list(dict.fromkeys(n for n in names if n is not None)) or None
    if fdef.type in DATE_TYPES:
        return _date_value(fdef, value)
    return value  # a type the sandbox stores as given


def _text_value(fdef: FieldDef, value: Any, typecast: bool) -> str | None:
    if isinstance(value, str):
        return value
    if typecast and isinstance(value, int | float | bool):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return json.dumps(value) if isinstance(value, bool) else str(value)
    raise invalid_value(fdef.name)


def _number_value(fdef: FieldDef, value: Any, typecast: bool) -> int | float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return value
    if typecast and isinstance(value, str):
        try:
            number = float(value.replace(",", "").strip())
        except ValueError:
            raise invalid_value(fdef.name) from None
        if math.isfinite(number):
            return int(number) if number.is_integer() else number
    raise invalid_value(fdef.name)


def _choice_value(fdef: FieldDef, value: Any, typecast: bool, pending: PendingChoices) -> str | None:
    if typecast and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise invalid_value(fdef.name)
    if value == "":
        return None
    if fdef.choice(value) is not None or value in pending.get(fdef.id, []):
        return value
    if not typecast:
        raise invalid_choice(value)
    pending.setdefault(fdef.id, []).append(value)
    return value


def _date_value(fdef: FieldDef, value: Any) -> str:
    if not isinstance(value, str):
        raise invalid_value(fdef.name)
    moment = parse_datetime(value)
    if moment is None:
        raise invalid_value(fdef.name)
    return moment.date().isoformat() if fdef.type == "date" else iso_ms(moment)


def add_choices(state: SandboxState, fdef: FieldDef, names: list[str]) -> None:
    """Create select options (what ``typecast`` does for a value that is not an option yet)."""
    options = fdef.options if fdef.options is not None else {"choices": []}
    choices = options.setdefault("choices", [])
    for name in names:
        if not any(c["name"] == name for c in choices):
            color = CHOICE_COLORS[len(choices) % len(CHOICE_COLORS)]
            choices.append({"id": state.airtable_id("sel"), "name": name, "color": color})
    fdef.options = options


def formula_value(fdef: FieldDef, value: Any) -> Any:
    """A cell as formulas see it: dates become datetimes, a select its name, blank ``None``."""
    if value is None:
        return None
    if fdef.type in DATE_TYPES and isinstance(value, str):
        return parse_datetime(value)
    return value


def v2_value(fdef: FieldDef, value: Any) -> Any:
    """A cell in webhook payloads: selects become ``{id, name, color}`` objects."""
    if value is None:
        return None
    if fdef.type == "singleSelect":
        return _choice_object(fdef, value)
    if fdef.type == "multipleSelects":
        return [_choice_object(fdef, v) for v in value]
    return value


def _choice_object(fdef: FieldDef, name: str) -> dict[str, Any]:
    choice = fdef.choice(name) or {"id": None, "name": name}
    return {k: choice[k] for k in ("id", "name", "color") if choice.get(k) is not None}


def string_value(value: Any) -> str:
    """A cell for ``cellFormat=string``."""
    if isinstance(value, list):
        return ", ".join(string_value(v) for v in value)
    if isinstance(value, bool):
        return "checked" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def render_record(
    table: TableDef,
    row: RecordRow,
    *,
    by_id: bool = False,
    as_string: bool = False,
    only: set[str] | None = None,
) -> dict[str, Any]:
    """A record as REST returns it: empty cells omitted, keyed by field name (or id)."""
    fields: dict[str, Any] = {}
    for fid, fdef in table.fields.items():
        value = row.cells.get(fid)
        if is_empty(value) or (only is not None and fid not in only):
            continue
        fields[fid if by_id else fdef.name] = string_value(value) if as_string else value
    return {"id": row.id, "createdTime": iso_ms(row.created_time), "fields": fields}
