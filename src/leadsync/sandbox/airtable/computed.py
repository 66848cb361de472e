"""Computed (read-only) fields: the cells Airtable fills in itself on every read.

Documented read formats (https://airtable.com/developers/web/api/field-model):

- ``autoNumber``: a number, unique and increasing within the table, never reused;
- ``createdTime``: the record's creation time, an ISO string in UTC ("2022-08-29T07:00:00.000Z");
- ``lastModifiedTime``: the last time any of ``options.referencedFieldIds`` was modified (any field when
  that list is empty), an ISO string in UTC. It is set at creation, equal to ``createdTime``;
- ``formula``: ``string | number | true | array``, the value of ``options.formula`` for the record; the
  formula is stored with field ids (``{fldXXXXXXXXXXXXXX}``) and may be written with names or ids.

Other computed types (rollup, lookup, count, createdBy...) exist in schemas but have no cell here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from leadsync.sandbox.airtable.cells import formula_value
from leadsync.sandbox.airtable.formula import ERROR, FormulaError, compile_formula
from leadsync.sandbox.airtable.formula_values import parse_datetime
from leadsync.sandbox.airtable.rows import COMPUTED_TYPES, FieldDef, RecordRow, TableDef
from leadsync.sandbox.clock import iso_ms

__all__ = [
    "FieldFormula",
    "RecordView",
    "cell_value",
    "compile_field_formula",
    "computed_cells",
]

_MAX_DEPTH = 8  # formulas that reference formulas: deeper than this is a cycle, shown as #ERROR!
# A braced field reference outside string literals (the literals are matched first and kept).
_REFERENCE = re.compile(r"(\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*')|\{((?:\\.|[^}\\])*)\}")


@dataclass(frozen=True)
class RecordView:
    """One record as formulas see it (filterByFormula and formula fields alike)."""

    table: TableDef
    row: RecordRow
    now: datetime
    depth: int = 0

    @property
    def record_id(self) -> str:
        """The record's ``rec`` id."""
        return self.row.id

    @property
    def created_time(self) -> datetime:
        """When the record was created."""
        return self.row.created_time

    def cell(self, field_id: str) -> Any:
        """A cell's formula value; a computed cell is computed first."""
        fdef = self.table.fields[field_id]
        if fdef.type not in COMPUTED_TYPES:
            return formula_value(fdef, self.row.cells.get(field_id))
        value = _computed(self, fdef)
        if isinstance(value, str) and fdef.type in ("createdTime", "lastModifiedTime"):
            return parse_datetime(value)
        return value

    def last_modified_time(self, field_ids: Iterable[str]) -> datetime:
        """The last user modification of any of ``field_ids`` (of any field when empty)."""
        # A field never modified since creation falls back to the record's createdTime: documented for
        # lastModifiedTime fields (set at creation, equal to createdTime); the sandbox's choice for the
        # LAST_MODIFIED_TIME() formula function, whose behaviour here is UNVERIFIED.
        times = [
            self.row.modified[f] for f in (list(field_ids) or self.table.fields) if f in self.row.modified
        ]
        return max(times, default=self.row.created_time)


def _computed(view: RecordView, fdef: FieldDef) -> Any:
    options = fdef.options or {}
    if fdef.type == "autoNumber":
        return view.row.number
    if fdef.type == "createdTime":
        return iso_ms(view.row.created_time)
    if fdef.type == "lastModifiedTime":
        return iso_ms(view.last_modified_time(options.get("referencedFieldIds") or []))
    if fdef.type == "formula" and options.get("isValid") and view.depth < _MAX_DEPTH:
        try:
            formula = compile_formula(str(options["formula"]), lambda key: _resolve(view.table, key))
        except FormulaError:
            return None
        deeper = RecordView(view.table, view.row, view.now, view.depth + 1)
        return _as_cell(formula.evaluate(deeper, view.now))
    if fdef.type == "formula" and options.get("isValid"):
        return _as_cell(ERROR)
    return None


def _as_cell(value: Any) -> Any:
    if value is ERROR:
        # A formula error reads as an object, not a string (UNVERIFIED in the documentation).
        return {"error": "#ERROR!"}
    if isinstance(value, datetime):
        return iso_ms(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def cell_value(table: TableDef, row: RecordRow, field_id: str, now: datetime) -> Any:
    """The cell as REST shows it: stored, or computed for a computed field (``None`` when empty)."""
    fdef = table.fields[field_id]
    if fdef.type in COMPUTED_TYPES:
        return _computed(RecordView(table, row, now), fdef)
    return row.cells.get(field_id)


def computed_cells(table: TableDef, row: RecordRow, now: datetime) -> dict[str, Any]:
    """Every computed cell of ``row`` at ``now``, by field id."""
    view = RecordView(table, row, now)
    return {fid: _computed(view, f) for fid, f in table.fields.items() if f.type in COMPUTED_TYPES}


def _resolve(table: TableDef, key: str) -> str | None:
    fdef = table.field_by_key(key)
    return fdef.id if fdef else None


@dataclass(frozen=True)
class FieldFormula:
    """A formula field's formula, checked against its table: stored with ids, and what it references."""

    text: str  # with every field reference written as {fldXXXXXXXXXXXXXX}
    referenced_field_ids: list[str]
    result: dict[str, Any]  # the result's field type, as ``options.result`` shows it

    def options(self) -> dict[str, Any]:
        """The field's ``options`` as the metadata API shows them."""
        return {
            "formula": self.text,
            "isValid": True,
            "referencedFieldIds": list(self.referenced_field_ids),
            "result": dict(self.result),
        }


def compile_field_formula(table: TableDef, text: str, own_id: str | None = None) -> FieldFormula:
    """Check a formula field's formula (field names or ids) against ``table``; raises FormulaError."""
    referenced: list[str] = []

    def resolve(key: str) -> str | None:
        field_id = _resolve(table, key)
        if field_id is None or field_id == own_id:
            return None
        referenced.append(field_id)
        return field_id

    compile_formula(text, resolve)

    def by_id(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return match.group(0)
        name = re.sub(r"\\(.)", r"\1", match.group(2))
        return "{" + (_resolve(table, name) or name) + "}"

    stored = _REFERENCE.sub(by_id, text)
    probe = RecordView(table, RecordRow("rec", datetime(2000, 1, 1, tzinfo=UTC)), datetime.now(UTC))
    sample = compile_formula(stored, lambda key: _resolve(table, key)).evaluate(probe, probe.now)
    return FieldFormula(stored, list(dict.fromkeys(referenced)), _result_type(sample))


def _result_type(sample: Any) -> dict[str, Any]:
    # The result type Airtable infers is richer (currency, percent...); the sample value decides here.
    if isinstance(sample, bool):
        return {"type": "checkbox", "options": {"color": "greenBright", "icon": "check"}}
    if isinstance(sample, int | float):
        return {"type": "number", "options": {"precision": 0 if float(sample).is_integer() else 2}}
    if isinstance(sample, datetime):
        return {"type": "dateTime", "options": {"timeZone": "utc"}}
    return {"type": "singleLineText"}
