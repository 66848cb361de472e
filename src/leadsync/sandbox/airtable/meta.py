"""The metadata API: whoami, list bases, base schema, create and update tables, create and update fields.

As documented on https://airtable.com/developers/web/api/ (``get-user-id-scopes``, ``list-bases``,
``get-base-schema``, ``create-table``, ``update-table``, ``create-field``, ``update-field``):

- ``GET /v0/meta/whoami``: ``{"id"}``, ``email`` only with the ``user.email:read`` scope, ``scopes``
  only for OAuth access tokens (a personal access token never lists them).
- ``GET /v0/meta/bases``: 1000 bases a page, with an opaque ``offset`` while more remain.
- ``GET /v0/meta/bases/{baseId}/tables``: the Table models; ``include=visibleFieldIds`` (with or
  without ``[]``) adds ``visibleFieldIds`` to grid views.
- Create table: ``name``, ``description?`` and at least one field, the first a primary-capable type;
  names unique case-insensitively; a "Grid view" is made with it.
- Update table and update field: ``name`` and/or ``description`` (and ``options.formula`` on a formula
  field); anything else is 422. There are no routes that delete tables or fields.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from leadsync.sandbox.airtable import webhooks
from leadsync.sandbox.airtable.computed import compile_field_formula
from leadsync.sandbox.airtable.errors import (
    duplicate_field_name,
    duplicate_table_name,
    invalid_request,
    iterator_not_available,
    meta_not_found,
)
from leadsync.sandbox.airtable.field_configs import PRIMARY_TYPES, check_description, new_field
from leadsync.sandbox.airtable.formula import FormulaError
from leadsync.sandbox.airtable.request import Call
from leadsync.sandbox.airtable.rows import FieldDef, TableDef

__all__ = [
    "BASES_PAGE_SIZE",
    "base_schema",
    "create_field",
    "create_table",
    "list_bases",
    "update_field",
    "update_table",
    "whoami",
]

BASES_PAGE_SIZE = 1000


def whoami(call: Call) -> JSONResponse:
    """The token's user: what a client compares with webhook payloads' ``sourceMetadata.user.id``."""
    identity, world = call.identity, call.world
    scopes = world.scopes.get(identity.name, set())
    body: dict[str, Any] = {"id": identity.airtable_user_id}
    if "user.email:read" in scopes:
        body["email"] = identity.email
    if identity.name in world.oauth_identities:
        body["scopes"] = sorted(scopes)
    return JSONResponse(body)


def list_bases(call: Call) -> JSONResponse:
    """The bases the token can see, 1000 a page; ``offset`` (``itr.../appXXX``) names the next page."""
    if set(call.query) - {"offset"}:
        raise invalid_request()
    bases = call.world.bases()
    start = 0
    offset = call.query.get("offset")
    if offset is not None:
        # The answer to a bad offset is UNVERIFIED; the records API's expired-iterator 422 is used.
        _, _, next_id = offset.partition("/")
        start = next((i for i, b in enumerate(bases) if b["id"] == next_id and i > 0), -1)
        if not offset.startswith("itr") or start < 0:
            raise iterator_not_available()
    page = bases[start : start + BASES_PAGE_SIZE]
    body: dict[str, Any] = {"bases": page}
    if start + BASES_PAGE_SIZE < len(bases):
        body["offset"] = f"{call.shared.airtable_id('itr')}/{bases[start + BASES_PAGE_SIZE]['id']}"
    return JSONResponse(body)


def base_schema(call: Call) -> JSONResponse:
    """Every table of the base, with its fields (ids, types, options) and views."""
    include = call.query.getlist("include") + call.query.getlist("include[]")
    if set(call.query) - {"include", "include[]"} or set(include) - {"visibleFieldIds"}:
        raise invalid_request()
    visible = "visibleFieldIds" in include
    return JSONResponse({"tables": [t.schema(visible_field_ids=visible) for t in call.world.tables.values()]})


def create_table(call: Call) -> JSONResponse:
    """Create a table from ``name``, ``description?`` and ``fields`` (the first becomes the primary field)."""
    body, world = call.json_body(), call.world
    name, configs = body.get("name"), body.get("fields")
    if set(body) - {"name", "description", "fields"} or not isinstance(configs, list) or not configs:
        raise invalid_request()
    if not isinstance(name, str) or not name.strip() or world.table_name_taken(name.strip()):
        raise duplicate_table_name(name)
    description = check_description(body.get("description"))
    table = TableDef(call.shared.airtable_id("tbl"), name.strip(), "", {}, description=description)
    for config in configs:
        fdef = new_field(world, table, config)
        table.fields[fdef.id] = fdef
    primary = next(iter(table.fields.values()))
    if primary.type not in PRIMARY_TYPES:
        raise invalid_request()
    table.primary_field_id = primary.id
    table.view_id = call.shared.airtable_id("viw")
    world.tables[table.id] = table
    changes = webhooks.ChangeSet(call.identity)
    changes.table_created(table)
    webhooks.publish(call, changes)
    return JSONResponse(table.schema())


def update_table(call: Call, table: TableDef) -> JSONResponse:
    """Rename a table or change its description; answers the whole Table model."""
    body = call.json_body()
    if set(body) - {"name", "description"} or not body:
        raise invalid_request()
    previous: dict[str, Any] = {}
    if "name" in body:
        name = body["name"]
        if (
            not isinstance(name, str)
            or not name.strip()
            or call.world.table_name_taken(name.strip(), except_id=table.id)
        ):
            raise duplicate_table_name(name)
        previous["name"] = table.name
    description = check_description(body.get("description"))
    if "description" in body:
        previous["description"] = table.description
    if "name" in body:
        table.name = body["name"].strip()
    if "description" in body:
        table.description = description
    changes = webhooks.ChangeSet(call.identity)
    changes.table_changed(table, previous)
    webhooks.publish(call, changes)
    return JSONResponse(table.schema())


def create_field(call: Call, table: TableDef) -> JSONResponse:
    """Add a field to ``table`` from ``{name, type, description?, options?}``; answers the field model."""
    fdef = new_field(call.world, table, call.json_body())
    table.fields[fdef.id] = fdef
    changes = webhooks.ChangeSet(call.identity)
    changes.field_created(table, fdef)
    webhooks.publish(call, changes)
    return JSONResponse(fdef.schema())


def update_field(call: Call, table: TableDef, column_id: str) -> JSONResponse:
    """Rename a field, change its description, or (formula fields) its formula; its id never changes."""
    fdef = table.fields.get(column_id)
    if fdef is None:
        # The answer for an unknown field id is UNVERIFIED; meta routes answer a bare NOT_FOUND.
        raise meta_not_found()
    body = call.json_body()
    if set(body) - {"name", "description", "options"} or not body:
        raise invalid_request()
    previous: dict[str, Any] = {}
    options = _formula_options(table, fdef, body["options"]) if "options" in body else None
    if "name" in body:
        name = body["name"]
        if (
            not isinstance(name, str)
            or not name.strip()
            or table.field_name_taken(name.strip(), except_id=fdef.id)
        ):
            raise duplicate_field_name(name)
        previous["name"] = fdef.name
    description = check_description(body.get("description"))
    if "description" in body:
        previous["description"] = fdef.description
    if options is not None:
        previous["options"] = fdef.options
        fdef.options = options
    if "name" in body:
        fdef.name = body["name"].strip()
    if "description" in body:
        fdef.description = description
    changes = webhooks.ChangeSet(call.identity)
    changes.field_changed(table, fdef, previous)
    webhooks.publish(call, changes)
    return JSONResponse(fdef.schema())


def _formula_options(table: TableDef, fdef: FieldDef, options: Any) -> dict[str, Any]:
    # Only a formula field's formula is documented as changeable (newer update-field docs).
    if fdef.type != "formula" or not isinstance(options, dict) or set(options) != {"formula"}:
        raise invalid_request()
    if not isinstance(options["formula"], str):
        raise invalid_request()
    try:
        return compile_field_formula(table, options["formula"], own_id=fdef.id).options()
    except FormulaError:
        raise invalid_request() from None
