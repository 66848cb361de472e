"""Field configs as the metadata API takes them (create table, create field): which types can be created,
and which ``options`` each type takes, checked as documented on
https://airtable.com/developers/web/api/field-model ("Field type and options", write format).

Computed types are read-only there: creating one is 422 ``UNSUPPORTED_FIELD_TYPE_FOR_CREATE`` (the
observed answer), unless the world's ``computed_fields_creatable`` switch stands for a person adding
the field in Airtable's UI.
"""

from __future__ import annotations

import copy
from typing import Any
from zoneinfo import available_timezones

from leadsync.sandbox.airtable.cells import add_choices
from leadsync.sandbox.airtable.computed import compile_field_formula
from leadsync.sandbox.airtable.errors import (
    duplicate_field_name,
    invalid_request,
    unsupported_field_type,
)
from leadsync.sandbox.airtable.formula import FormulaError
from leadsync.sandbox.airtable.model import AirtableWorld
from leadsync.sandbox.airtable.rows import COMPUTED_TYPES, TEXT_TYPES, FieldDef, TableDef

__all__ = [
    "CREATABLE_TYPES",
    "MAX_DESCRIPTION",
    "PRIMARY_TYPES",
    "SELECT_COLORS",
    "check_description",
    "new_field",
]

MAX_DESCRIPTION = 20_000
CREATABLE_TYPES = TEXT_TYPES | {
    "number",
    "percent",
    "currency",
    "checkbox",
    "date",
    "dateTime",
    "singleSelect",
    "multipleSelects",
    "rating",
    "duration",
}
# Which types may be a table's primary field is not documented (UNVERIFIED): the text, number and date
# types are allowed here; singleLineText is the one every official example uses.
PRIMARY_TYPES = (TEXT_TYPES - {"richText"}) | {"number", "percent", "currency", "date", "dateTime"}
_COMPUTED_CREATABLE = frozenset({"autoNumber", "createdTime", "lastModifiedTime", "formula"})
SELECT_COLORS = frozenset(
    f"{hue}{shade}"
    for hue in ("blue", "cyan", "teal", "green", "yellow", "orange", "red", "pink", "purple", "gray")
    for shade in ("Light2", "Light1", "Bright", "Dark1")
)
_CHECKBOX_COLORS = frozenset(
    f"{hue}Bright"
    for hue in ("green", "teal", "cyan", "blue", "purple", "pink", "red", "orange", "yellow", "gray")
)
_CHECKBOX_ICONS = frozenset({"check", "xCheckbox", "star", "heart", "thumbsUp", "flag", "dot"})
_RATING_ICONS = frozenset({"star", "heart", "thumbsUp", "flag", "dot"})
_DURATION_FORMATS = frozenset({"h:mm", "h:mm:ss", "h:mm:ss.S", "h:mm:ss.SS", "h:mm:ss.SSS"})
_DATE_FORMATS = {
    "local": "l",
    "friendly": "LL",
    "us": "M/D/YYYY",
    "european": "D/M/YYYY",
    "iso": "YYYY-MM-DD",
}
_TIME_FORMATS = {"12hour": "h:mma", "24hour": "HH:mm"}
_DATE_TIME_RESULT = {
    "type": "dateTime",
    "options": {
        "dateFormat": {"name": "iso", "format": "YYYY-MM-DD"},
        "timeFormat": {"name": "24hour", "format": "HH:mm"},
        "timeZone": "utc",
    },
}


def check_description(value: Any) -> str | None:
    """A description as given: absent, or a non-empty string of at most 20,000 characters (else 422)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_DESCRIPTION:
        raise invalid_request()
    return value


def new_field(world: AirtableWorld, table: TableDef, config: Any) -> FieldDef:
    """The field ``config`` describes (``{name, type, description?, options?}``), checked against ``table``
    (not added to it). Raises the documented 422 for a bad name, type or options."""
    if not isinstance(config, dict) or set(config) - {"name", "type", "description", "options"}:
        raise invalid_request()
    name, kind, options = config.get("name"), config.get("type"), config.get("options")
    if not isinstance(kind, str):
        raise invalid_request()
    if not isinstance(name, str) or not name.strip() or table.field_name_taken(name.strip()):
        raise duplicate_field_name(name)
    description = check_description(config.get("description"))
    fdef = FieldDef(world.shared.airtable_id("fld"), name.strip(), kind, None, description)
    if kind in COMPUTED_TYPES:
        if not (world.computed_fields_creatable and kind in _COMPUTED_CREATABLE):
            raise unsupported_field_type(table.name, fdef.name, kind)
        fdef.options = _computed_options(table, kind, options)
        return fdef
    if kind not in CREATABLE_TYPES or (options is not None and not isinstance(options, dict)):
        raise invalid_request()
    fdef.options = _options(world, fdef, options)
    return fdef


def _options(world: AirtableWorld, fdef: FieldDef, given: dict[str, Any] | None) -> dict[str, Any] | None:
    kind, options = fdef.type, given or {}
    if kind in TEXT_TYPES:
        if given is not None:
            raise invalid_request()
        return None
    if kind in ("number", "percent"):
        _only(options, {"precision"})
        return {"precision": _integer(options.get("precision"), 0, 8)}
    if kind == "currency":
        _only(options, {"precision", "symbol"})
        if not isinstance(options.get("symbol"), str):
            raise invalid_request()
        return {"precision": _integer(options.get("precision"), 0, 7), "symbol": options["symbol"]}
    if kind == "checkbox":
        _only(options, {"color", "icon"})
        color, icon = options.get("color", "greenBright"), options.get("icon", "check")
        if color not in _CHECKBOX_COLORS or icon not in _CHECKBOX_ICONS:
            raise invalid_request()
        return {"color": color, "icon": icon}
    if kind == "rating":
        _only(options, {"color", "icon", "max"})
        color, icon = options.get("color", "yellowBright"), options.get("icon", "star")
        if color not in _CHECKBOX_COLORS or icon not in _RATING_ICONS:
            raise invalid_request()
        return {"color": color, "icon": icon, "max": _integer(options.get("max", 5), 1, 10)}
    if kind == "duration":
        _only(options, {"durationFormat"})
        if options.get("durationFormat", "h:mm") not in _DURATION_FORMATS:
            raise invalid_request()
        return {"durationFormat": options.get("durationFormat", "h:mm")}
    if kind == "date":
        _only(options, {"dateFormat"})
        return {"dateFormat": _named_format(options.get("dateFormat", {"name": "iso"}), _DATE_FORMATS)}
    if kind == "dateTime":
        _only(options, {"dateFormat", "timeFormat", "timeZone"})
        return {
            "dateFormat": _named_format(options.get("dateFormat", {"name": "iso"}), _DATE_FORMATS),
            "timeFormat": _named_format(options.get("timeFormat", {"name": "24hour"}), _TIME_FORMATS),
            "timeZone": _time_zone(options.get("timeZone", "utc")),
        }
    return _select_options(world, fdef, options)


def _select_options(world: AirtableWorld, fdef: FieldDef, options: dict[str, Any]) -> dict[str, Any]:
    _only(options, {"choices"})
    choices = options.get("choices", [])
    if not isinstance(choices, list) or not all(
        isinstance(c, dict)
        and not set(c) - {"name", "color"}
        and isinstance(c.get("name"), str)
        and c["name"]
        and c.get("color", "blueLight2") in SELECT_COLORS
        for c in choices
    ):
        raise invalid_request()
    fdef.options = {"choices": []}
    add_choices(world.shared, fdef, [c["name"] for c in choices])
    for given, made in zip(choices, fdef.choices, strict=False):
        if "color" in given:
            made["color"] = given["color"]
    return fdef.options


def _computed_options(table: TableDef, kind: str, given: Any) -> dict[str, Any] | None:
    options = given if isinstance(given, dict) else {} if given is None else None
    if options is None:
        raise invalid_request()
    if kind in ("autoNumber", "createdTime"):
        _only(options, set())
        return {"result": copy.deepcopy(_DATE_TIME_RESULT)} if kind == "createdTime" else None
    if kind == "lastModifiedTime":
        _only(options, {"referencedFieldIds"})
        keys = options.get("referencedFieldIds", [])
        if not isinstance(keys, list) or not all(isinstance(k, str) and k in table.fields for k in keys):
            raise invalid_request()
        return {"isValid": True, "referencedFieldIds": list(keys), "result": copy.deepcopy(_DATE_TIME_RESULT)}
    _only(options, {"formula"})
    if not isinstance(options.get("formula"), str):
        raise invalid_request()
    try:
        return compile_field_formula(table, options["formula"]).options()
    except FormulaError:
        raise invalid_request() from None


def _only(options: dict[str, Any], allowed: set[str]) -> None:
    if set(options) - allowed:
        raise invalid_request()


def _integer(value: Any, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise invalid_request()
    return value


def _named_format(value: Any, formats: dict[str, str]) -> dict[str, str]:
    # "format" is optional on write "but it must match the corresponding name if provided".
    if not isinstance(value, dict) or set(value) - {"name", "format"} or value.get("name") not in formats:
        raise invalid_request()
    name = str(value["name"])
    if value.get("format", formats[name]) != formats[name]:
        raise invalid_request()
    return {"name": name, "format": formats[name]}


def _time_zone(value: Any) -> str:
    # "utc" and "client" are named by the field model; other values are IANA zone names (the full list on
    # Airtable's timezone page is not reproduced here: any IANA name is accepted).
    if not isinstance(value, str) or not (value in ("utc", "client") or value in available_timezones()):
        raise invalid_request()
    return value
