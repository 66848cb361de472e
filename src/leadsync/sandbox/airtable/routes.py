"""Airtable's ``/v0`` routes: records, metadata and webhooks behind one endpoint.

Every request goes through one router that does what Airtable does first: reject URLs over 16,000
characters, authenticate the bearer token (401), apply the rate limits (429), check the base (403)
and then dispatch on the path. The path is split from the raw (still percent-encoded) URL, so a
table name holding ``/`` or spaces works when URL-encoded, as pyairtable sends it.

The endpoints live next door: :mod:`~leadsync.sandbox.airtable.records` (records),
:mod:`~leadsync.sandbox.airtable.webhooks` (webhooks and payloads); the metadata endpoints are here.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from leadsync.sandbox.airtable import record_writes, records, webhooks
from leadsync.sandbox.airtable.cells import add_choices
from leadsync.sandbox.airtable.errors import (
    ApiError,
    authentication_required,
    invalid_request,
    model_not_found,
    rate_limited,
    route_not_found,
    url_too_long,
)
from leadsync.sandbox.airtable.model import AirtableWorld
from leadsync.sandbox.airtable.request import Call, now_ms
from leadsync.sandbox.airtable.rows import TEXT_TYPES, FieldDef, TableDef
from leadsync.sandbox.request_log import tag_identity

__all__ = [
    "MAX_URL_LENGTH",
    "METHODS",
    "SCOPES",
    "routes",
]

MAX_URL_LENGTH = 16_000
METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]
SCOPES = [
    "data.records:read",
    "data.records:write",
    "schema.bases:read",
    "schema.bases:write",
    "webhook:manage",
    "user.email:read",
]


# ---- metadata ----------------------------------------------------------------------------------------

_CREATABLE_TYPES = (TEXT_TYPES - {"richText"}) | {
    "singleSelect",
    "multipleSelects",
    "number",
    "percent",
    "checkbox",
    "date",
    "dateTime",
}
_ISO_DATE = {"name": "iso", "format": "YYYY-MM-DD"}
_DEFAULT_OPTIONS: dict[str, dict[str, Any]] = {
    "checkbox": {"color": "greenBright", "icon": "check"},
    "date": {"dateFormat": _ISO_DATE},
    "dateTime": {
        "dateFormat": _ISO_DATE,
        "timeFormat": {"name": "24hour", "format": "HH:mm"},
        "timeZone": "utc",
    },
}


def _schema(call: Call) -> JSONResponse:
    include = call.query.getlist("include") + call.query.getlist("include[]")
    visible = "visibleFieldIds" in include
    tables = [t.schema(visible_field_ids=visible) for t in call.world.tables.values()]
    return JSONResponse({"tables": tables})


def _create_field(call: Call, table: TableDef) -> JSONResponse:
    body = call.json_body()
    name, kind, options = body.get("name"), body.get("type"), body.get("options")
    description = body.get("description")
    if set(body) - {"name", "type", "description", "options"} or not isinstance(kind, str):
        raise invalid_request()
    if (
        not isinstance(name, str)
        or not name.strip()
        or any(f.name.casefold() == name.strip().casefold() for f in table.fields.values())
    ):
        # Names are unique case-insensitively (documented); this error body is UNVERIFIED.
        raise ApiError(
            422,
            {
                "error": {
                    "type": "DUPLICATE_OR_EMPTY_FIELD_NAME",
                    "message": f'Field name "{name}" is empty or already used in this table',
                }
            },
        )
    if kind not in _CREATABLE_TYPES or (description is not None and not isinstance(description, str)):
        raise invalid_request()
    if options is not None and (not isinstance(options, dict) or kind in TEXT_TYPES):
        raise invalid_request()
    fdef = FieldDef(call.shared.airtable_id("fld"), name.strip(), kind, None, description or None)
    if kind in ("singleSelect", "multipleSelects"):
        choices = (options or {}).get("choices", [])
        if not isinstance(choices, list) or not all(
            isinstance(c, dict) and isinstance(c.get("name"), str) and c["name"] for c in choices
        ):
            raise invalid_request()
        fdef.options = {"choices": []}
        add_choices(call.shared, fdef, [c["name"] for c in choices])
        for given, made in zip(choices, fdef.choices, strict=False):
            if isinstance(given.get("color"), str):
                made["color"] = given["color"]
    elif kind in ("number", "percent"):
        precision = (options or {}).get("precision")
        if not isinstance(precision, int) or isinstance(precision, bool) or not 0 <= precision <= 8:
            raise invalid_request()
        fdef.options = {"precision": precision}
    elif kind in _DEFAULT_OPTIONS:
        fdef.options = {**copy.deepcopy(_DEFAULT_OPTIONS[kind]), **(options or {})}
    table.fields[fdef.id] = fdef
    changes = webhooks.ChangeSet(call.identity)
    changes.field_created(table, fdef)
    webhooks.publish(call, changes)
    return JSONResponse(fdef.schema())


# ---- routing -----------------------------------------------------------------------------------------


def _segments(request: Request) -> list[str]:
    raw: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
    parts = [unquote_to_bytes(p).decode("utf-8", "replace") for p in raw.split(b"?", 1)[0].split(b"/") if p]
    return parts[1:] if parts and parts[0] == "v0" else parts


def _url_length(request: Request) -> int:
    raw: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
    raw = raw.split(b"?", 1)[0]
    query: bytes = request.scope.get("query_string", b"")
    host = request.headers.get("host", "")
    return len(f"{request.url.scheme}://{host}") + len(raw) + (len(query) + 1 if query else 0)


def _base_of(parts: list[str]) -> str:
    if parts[:2] == ["meta", "bases"] and len(parts) > 2:
        return parts[2]
    if parts[:1] == ["bases"] and len(parts) > 1:
        return parts[1]
    return parts[0] if parts else ""


def _dispatch(call: Call, parts: list[str]) -> Response:
    world, method, n = call.world, call.method, len(parts)
    base_id = _base_of(parts)
    if parts == ["meta", "whoami"] and method == "GET":
        # The token's user: what a client compares with webhook payloads' sourceMetadata.user.id.
        identity = call.identity
        return JSONResponse({"id": identity.airtable_user_id, "scopes": SCOPES, "email": identity.email})
    if parts[:2] == ["meta", "bases"] and n in (4, 6) and parts[3] == "tables":
        if base_id != world.base_id:
            raise model_not_found()
        if n == 4 and method == "GET":
            return _schema(call)
        if n == 6 and parts[5] == "fields" and method == "POST":
            return _create_field(call, world.table(parts[4]))
        raise route_not_found()
    if parts[:1] == ["bases"] and n >= 3 and parts[2] == "webhooks":
        if base_id != world.base_id:
            raise model_not_found()
        return _dispatch_webhooks(call, parts[3:])
    if n in (2, 3) and parts[0] not in ("meta", "bases"):
        if base_id != world.base_id:
            raise model_not_found()
        table = world.table(parts[1])
        if n == 2:
            return _dispatch_table(call, table)
        if parts[2] == "listRecords" and method == "POST":
            return records.list_records(call, table, via_post=True)
        return _dispatch_record(call, table, parts[2])
    raise route_not_found()


def _dispatch_table(call: Call, table: TableDef) -> Response:
    if call.method == "GET":
        return records.list_records(call, table, via_post=False)
    if call.method == "POST":
        return record_writes.create_records(call, table)
    if call.method in ("PATCH", "PUT"):
        return record_writes.update_records(call, table, replace=call.method == "PUT")
    return record_writes.delete_records(call, table)


def _dispatch_record(call: Call, table: TableDef, record_id: str) -> Response:
    if call.method == "GET":
        return records.get_record(call, table, record_id)
    if call.method in ("PATCH", "PUT"):
        return record_writes.update_record(call, table, record_id, replace=call.method == "PUT")
    if call.method == "DELETE":
        return record_writes.delete_record(call, table, record_id)
    raise route_not_found()


def _dispatch_webhooks(call: Call, rest: list[str]) -> Response:
    method = call.method
    if not rest:
        if method == "GET":
            return webhooks.list_webhooks(call)
        if method == "POST":
            return webhooks.create_webhook(call)
    elif len(rest) == 1 and method == "DELETE":
        return webhooks.delete_webhook(call, rest[0])
    elif len(rest) == 2:
        action = (method, rest[1])
        if action == ("POST", "refresh"):
            return webhooks.refresh_webhook(call, rest[0])
        if action == ("POST", "enableNotifications"):
            return webhooks.enable_notifications(call, rest[0])
        if action == ("GET", "payloads"):
            return webhooks.list_payloads(call, rest[0])
    raise route_not_found()


def routes(world: AirtableWorld) -> list[BaseRoute]:
    """Every ``/v0`` route: one endpoint that authenticates, rate-limits and dispatches."""
    shared = world.shared

    async def handle(request: Request) -> Response:
        length = _url_length(request)
        if length > MAX_URL_LENGTH:
            return url_too_long(length).response()
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        identity = shared.identity_by_airtable_token(token.strip()) if scheme.lower() == "bearer" else None
        if identity is None:
            return authentication_required().response()
        tag_identity(request, identity.name)
        parts = _segments(request)
        if not shared.airtable_limits.check(_base_of(parts), identity.airtable_token, shared.rate_scale):
            return rate_limited().response()
        body = await request.body()
        # From here on nothing awaits: the request is handled in one step of the event loop.
        call = Call(world, identity, request.method, request.query_params, body, now_ms(shared))
        try:
            return _dispatch(call, parts)
        except ApiError as error:
            return error.response()

    return [Route("/{rest:path}", handle, methods=METHODS)]
