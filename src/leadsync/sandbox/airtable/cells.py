"""Cell values: how a written value is validated and stored, and how a stored one is shown
(``cellFormat=string``, webhook "V2" objects, and what formulas see)."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from leadsync.sandbox.airtable.errors import invalid_choice, invalid_value
from leadsync.sandbox.airtable.formula_values import parse_datetime
from leadsync.sandbox.airtable.rows import (
    CHOICE_COLORS,
    DATE_TYPES,
    NUMBER_TYPES,
    TEXT_TYPES,
    FieldDef,
)
from leadsync.sandbox.clock import iso_ms
from leadsync.sandbox.shared_state import SharedState

__all__ = [
    "PendingChoices",
    "add_choices",
    "coerce_cell",
    "formula_value",
    "is_empty",
    "string_value",
    "v2_value",
]


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
    if fdef.type == "date":
        return moment.date().isoformat()
    zone = (fdef.options or {}).get("timeZone")
    if isinstance(zone, str) and zone not in ("utc", "client") and _without_offset(value):
        # Documented: on a field with a non-UTC time zone, ambiguous inputs ("2020-09-05T07:00:00",
        # "2020-09-08") are read in that zone; inputs with Z or an offset are exact.
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return iso_ms(moment)


def _without_offset(raw: str) -> bool:
    raw = raw.strip()
    return not raw.endswith(("Z", "z")) and datetime.fromisoformat(raw).tzinfo is None


def add_choices(shared: SharedState, fdef: FieldDef, names: list[str]) -> None:
    """Create select options (what ``typecast`` does for a value that is not an option yet)."""
    options = fdef.options if fdef.options is not None else {"choices": []}
    choices = options.setdefault("choices", [])
    for name in names:
        if not any(c["name"] == name for c in choices):
            color = CHOICE_COLORS[len(choices) % len(CHOICE_COLORS)]
            choices.append({"id": shared.airtable_id("sel"), "name": name, "color": color})
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
