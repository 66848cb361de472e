"""What a flow's mapping wants of the Airtable table and the Trello board, and what is missing.

Pure: the metadata API's schema and the board's lists in, the gaps out. ``leadsync init`` creates the
gaps; ``leadsync doctor`` reports them. Field types to create for each role (write formats from
https://airtable.com/developers/web/api/field-model): name ``singleLineText`` (the primary field),
email ``email``, status ``singleSelect`` with the mapping's options, source ``singleLineText``, due
``date`` (ISO format), labels ``multipleSelects``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from leadsync.clients.airtable_schema import ROLE_TYPES, FieldInfo
from leadsync.config.mapping_file import FieldsSection

__all__ = [
    "ROLES",
    "Gaps",
    "field_config",
    "find_field",
    "find_table",
    "gaps",
    "missing_lists",
    "table_fields",
]

ROLES = ("name", "email", "status", "source", "due", "labels")

_TYPES = {
    "name": "singleLineText",
    "email": "email",
    "status": "singleSelect",
    "source": "singleLineText",
    "due": "date",
    "labels": "multipleSelects",
}


def field_config(role: str, name: str, options: list[str] | None = None) -> dict[str, Any]:
    """The create-field body of ``role``'s field, named ``name`` (a select with ``options``)."""
    kind = _TYPES[role]
    config: dict[str, Any] = {"name": name, "type": kind}
    if kind in ("singleSelect", "multipleSelects"):
        config["options"] = {"choices": [{"name": o} for o in options or []]}
    elif kind == "date":
        config["options"] = {"dateFormat": {"name": "iso"}}
    return config


def find_table(schema: Mapping[str, Any], ref: str) -> Mapping[str, Any] | None:
    """The table named ``ref`` or with the id ``ref``, if the base has it."""
    return next((t for t in schema.get("tables", []) if ref in (t.get("id"), t.get("name"))), None)


def table_fields(table: Mapping[str, Any]) -> list[FieldInfo]:
    """The table's fields as :class:`FieldInfo` (select fields with their options)."""
    out = []
    for raw in table.get("fields", []):
        options = raw.get("options") if isinstance(raw.get("options"), dict) else {}
        choices = tuple(str(c["name"]) for c in options.get("choices", []))
        out.append(FieldInfo(str(raw["id"]), str(raw["name"]), str(raw["type"]), choices))
    return out


def find_field(fields: list[FieldInfo], ref: str) -> FieldInfo | None:
    """The field named ``ref`` or with the id ``ref``; a case-insensitive name match as a last resort,
    because Airtable's field names are unique without regard to case."""
    exact = next((f for f in fields if ref in (f.id, f.name)), None)
    return exact or next((f for f in fields if f.name.casefold() == ref.casefold()), None)


@dataclass
class Gaps:
    """What the table lacks for the mapping: fields to create (role, config), options to add to the
    status field, and fields of a type no setup can change (role, field)."""

    fields: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    status_field: FieldInfo | None = None
    wrong_types: list[tuple[str, FieldInfo]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing to create (wrong types may remain: only a person can change them)."""
        return not self.fields and not self.options


def gaps(table: Mapping[str, Any] | None, mapping: FieldsSection, statuses: list[str]) -> Gaps:
    """What ``table`` (None: it does not exist yet) lacks for ``mapping`` and the status ``statuses``."""
    found = table_fields(table) if table is not None else []
    out = Gaps()
    for role in ROLES:
        ref = getattr(mapping, role)
        if ref is None:
            continue
        info = find_field(found, ref)
        if info is None:
            if ref.startswith("fld") and len(ref) == 17:
                out.wrong_types.append((role, FieldInfo(ref, ref, "missing")))  # an id can't be created
                continue
            out.fields.append((role, field_config(role, ref, statuses if role == "status" else None)))
            continue
        allowed = ROLE_TYPES.get(role)  # the two-way roles' usable types; one-way roles take any
        if allowed is not None and (info.computed or info.type not in allowed):
            out.wrong_types.append((role, info))
            continue
        if role == "status" and info.type == "singleSelect":  # plain text takes any value
            out.status_field = info
            out.options = [s for s in statuses if s not in info.choices]
    return out


def missing_lists(board_lists: Sequence[Mapping[str, Any]], wanted: list[str]) -> list[str]:
    """The list names of ``wanted`` that no open list on the board has, in order, each once."""
    have = {str(x.get("name")) for x in board_lists}
    out: list[str] = []
    for name in wanted:
        if name not in have and name not in out:
            out.append(name)
    return out
