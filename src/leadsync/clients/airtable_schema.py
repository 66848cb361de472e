"""The Leads table's schema, resolved: each role's field by id, whatever its current name.

The metadata API (``GET /v0/meta/bases/{baseId}/tables``, https://airtable.com/developers/web/api/get-base-schema)
lists every table with its fields' ids, names, types and options. A mapping names a field by name or by
``fld...`` id; resolved once per process, everything after that reads and writes by id, so a rename in
Airtable's UI changes nothing. A name that no field has any more is looked up by the id remembered from
an earlier run (the field was renamed while leadsync was stopped). Formulas are the one place that
needs the current name: ``filterByFormula`` rejects ``{fld...}`` as an unknown field name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from leadsync.config import FlowConfig
from leadsync.errors import ConfigError

__all__ = [
    "BLOCK_LABELS",
    "COMPUTED_TYPES",
    "ROLE_TYPES",
    "FieldInfo",
    "ResolvedTable",
    "resolve_table",
]

COMPUTED_TYPES = frozenset(
    {
        "formula", "rollup", "lookup", "multipleLookupValues", "count", "autoNumber", "createdTime",
        "lastModifiedTime", "createdBy", "lastModifiedBy", "button", "aiText", "externalSyncSource",
    }
)  # fmt: skip
"""Field types whose values Airtable computes: they can be shown, never written."""

_UNWRITABLE = COMPUTED_TYPES | {"multipleAttachments"}

ROLE_TYPES: Mapping[str, frozenset[str] | None] = {
    "status": frozenset({"singleSelect", "singleLineText"}),
    "due": frozenset({"date", "dateTime"}),
    "labels": frozenset({"multipleSelects"}),
}
"""The field types a two-way role can use (the one-way roles take any type)."""

BLOCK_LABELS: Mapping[str, str] = {
    "name": "Lead Name",
    "email": "Email",
    "source": "Source",
    "status": "Status",
    "due": "Due",
    "labels": "Labels",
}
"""The label of each role's line in the card's managed block (the seed's formats for the first three)."""


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One field of the table as the metadata API describes it."""

    id: str
    name: str
    type: str
    choices: tuple[str, ...] = ()

    @property
    def computed(self) -> bool:
        """Airtable computes its value (or it cannot be written through records, like attachments)."""
        return self.type in _UNWRITABLE


@dataclass(frozen=True)
class ResolvedTable:
    """The table's id and name, each role's field, and the block's extra fields as (label, field)."""

    table_id: str
    table_name: str
    roles: Mapping[str, FieldInfo]
    block: tuple[tuple[str, FieldInfo], ...]
    fields_by_id: Mapping[str, FieldInfo] = field(default_factory=dict)

    @cached_property  # read for every record: computed once per resolution
    def extra_block(self) -> tuple[tuple[str, FieldInfo], ...]:
        """The block's lines beyond the seed's three (name, email and source have lines of their own)."""
        seed = {self.roles[r].id for r in ("name", "email", "source") if r in self.roles}
        return tuple((label, info) for label, info in self.block if info.id not in seed)

    def field_ids(self) -> list[str]:
        """Every field a read needs, by id: the roles' and the block's."""
        ids = [info.id for info in self.roles.values()]
        ids += [info.id for _, info in self.block if info.id not in ids]
        return ids

    def remembered(self) -> dict[str, str]:
        """Role (or ``block:<name>``, or ``table``) -> id, to store for the next run's resolution."""
        out = {"table": self.table_id} | {role: info.id for role, info in self.roles.items()}
        out.update({f"block:{label}": info.id for label, info in self.block})
        return out


def _field_info(raw: Mapping[str, Any]) -> FieldInfo:
    choices = raw.get("options", {}).get("choices", []) if isinstance(raw.get("options"), dict) else []
    return FieldInfo(
        str(raw["id"]), str(raw["name"]), str(raw["type"]), tuple(str(c["name"]) for c in choices)
    )


def _where(flow: FlowConfig, key: str) -> str:
    """The setting a person edits to fix a mapping: the file's key, or the environment's variable."""
    if flow.from_file:
        return f"{flow.source} [flow {flow.name!r}] {key}"
    return (
        "AIRTABLE_LEADS_TABLE_NAME"
        if key == "airtable.table"
        else f"the Leads table's {key.split('.')[-1]} field"
    )


def _table(schema: Mapping[str, Any], flow: FlowConfig, remembered: Mapping[str, str]) -> Mapping[str, Any]:
    tables = list(schema.get("tables", []))
    for wanted in (flow.table, remembered.get("table")):
        for table in tables:
            if wanted is not None and wanted in (table.get("id"), table.get("name")):
                return dict(table)
    names = ", ".join(repr(t.get("name")) for t in tables) or "none"
    raise ConfigError(
        _where(flow, "airtable.table"),
        f"base {flow.base_id} has no table {flow.table!r} (its tables: {names})",
        "Give the table's name or its 'tbl...' id, or run 'leadsync init' to create it",
    )


def _find(ref: str, fields: list[FieldInfo], remembered_id: str | None) -> FieldInfo | None:
    for info in fields:
        if ref in (info.id, info.name):
            return info
    for info in fields:  # renamed while leadsync was stopped: the id it had still holds
        if remembered_id is not None and info.id == remembered_id:
            return info
    return None


def resolve_table(
    schema: Mapping[str, Any], flow: FlowConfig, remembered: Mapping[str, str] | None = None
) -> ResolvedTable:
    """The flow's table and fields in ``schema`` (the metadata API's answer); raises ConfigError naming
    the setting when a mapped field is missing, or a two-way role's field has a type it cannot use."""
    remembered = remembered or {}
    table = _table(schema, flow, remembered)
    fields = [_field_info(f) for f in table.get("fields", [])]
    names = ", ".join(repr(f.name) for f in fields)
    roles: dict[str, FieldInfo] = {}
    for role in ("name", "email", "status", "source", "due", "labels"):
        ref = getattr(flow.fields, role)
        if ref is None:
            continue
        info = _find(ref, fields, remembered.get(role))
        if info is None:
            raise ConfigError(
                _where(flow, f"fields.{role}"),
                f"table {table['name']!r} has no field {ref!r} (its fields: {names})",
                "Give the field's current name or its 'fld...' id, or run 'leadsync init' to create it",
            )
        _check_type(flow, role, info)
        roles[role] = info
    _check_options(flow, roles["status"])
    block: list[tuple[str, FieldInfo]] = []
    for entry in flow.block:
        if entry in BLOCK_LABELS:
            if entry in roles:
                block.append((BLOCK_LABELS[entry], roles[entry]))
            continue
        info = _find(entry, fields, remembered.get(f"block:{entry}"))
        if info is None:
            raise ConfigError(
                _where(flow, "card.block"),
                f"names {entry!r}, which is neither a role nor a field of table {table['name']!r} (its fields: {names})",
                "Give a role (name, email, source, status, due, labels) or a field's name or 'fld...' id",
            )
        block.append((entry, info))
    by_id = {f.id: f for f in fields}
    return ResolvedTable(str(table["id"]), str(table["name"]), roles, tuple(block), by_id)


def _check_options(flow: FlowConfig, status: FieldInfo) -> None:
    """Every status the mapping names is an option of the status field (a single select's choices)."""
    if status.type != "singleSelect":
        return
    unknown = [option for option in flow.statuses if option not in status.choices]
    if unknown:
        key = "statuses" if flow.from_file else "LEADSYNC_STATUS_LIST_NAMES"
        where = f"{flow.source} [flow {flow.name!r}] {key}" if flow.from_file else key
        raise ConfigError(
            where,
            f"maps {', '.join(map(repr, unknown))}, which {'is' if len(unknown) == 1 else 'are'} no option of "
            f"{status.name!r} (its options: {', '.join(map(repr, status.choices))})",
            "Use the options' exact names, or add the options to the field (leadsync init offers to)",
        )


def _check_type(flow: FlowConfig, role: str, info: FieldInfo) -> None:
    allowed = ROLE_TYPES.get(role)
    if allowed is None:
        return
    if info.computed:
        raise ConfigError(
            _where(flow, f"fields.{role}"),
            f"maps {role} both ways to {info.name!r}, a {info.type} field that Airtable computes and nobody can write",
            "Map a plain field instead; a computed field can be shown one way in [flow.card] block",
        )
    if info.type not in allowed:
        raise ConfigError(
            _where(flow, f"fields.{role}"),
            f"maps {role} to {info.name!r}, a {info.type} field; {role} needs a {' or '.join(sorted(allowed))} field",
            "Change the field's type in Airtable, or map the role to another field",
        )
