"""What a person can do to a table's fields in Airtable's UI but no API can: delete a field, change its type.

The Web API has no route to delete a field, and can change only a field's name and description
(https://airtable.com/developers/web/api/update-field); a person does both in the UI. After a deletion
the field is gone from the schema and its cells from every record, and a request naming it is answered
as for any unknown field (422 ``UNKNOWN_FIELD_NAME``). After a type change the schema shows the new type;
cells that do not fit it are cleared (Airtable converts what it can; this emulator keeps only text
that a text field can hold).
"""

from __future__ import annotations

from typing import Any

from leadsync.sandbox.airtable.model import AirtableWorld

__all__ = ["change_field_type", "delete_field"]

_TEXT_TYPES = frozenset({"singleLineText", "multilineText", "email", "url", "phoneNumber"})


def delete_field(world: AirtableWorld, table: str, field: str) -> None:
    """Delete the field ``field`` (id or name) of ``table`` (id or name), with its cells."""
    tdef = world.table(table)
    fdef = tdef.field_by_key(field)
    if fdef is None:
        raise KeyError(f"table {tdef.name!r} has no field {field!r}")
    if fdef.id == tdef.primary_field_id:
        raise ValueError("the primary field cannot be deleted")
    del tdef.fields[fdef.id]
    for row in tdef.records.values():
        row.cells.pop(fdef.id, None)
        row.modified.pop(fdef.id, None)


def change_field_type(
    world: AirtableWorld, table: str, field: str, new_type: str, options: dict[str, Any] | None = None
) -> None:
    """Give ``field`` of ``table`` another type (and options); cells that do not fit are cleared."""
    tdef = world.table(table)
    fdef = tdef.field_by_key(field)
    if fdef is None:
        raise KeyError(f"table {tdef.name!r} has no field {field!r}")
    keeps_text = fdef.type in _TEXT_TYPES and new_type in _TEXT_TYPES
    fdef.type = new_type
    fdef.options = options
    if keeps_text:
        return
    for row in tdef.records.values():
        row.cells.pop(fdef.id, None)
