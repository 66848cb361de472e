"""Airtable's ``/v0`` routes: records, metadata and webhooks behind one endpoint.

Every request goes through one router that does what Airtable does first: reject URLs over 16,000
characters, authenticate the bearer token (401), apply the rate limits (429), check the base (403)
and then dispatch on the path. The path is split from the raw (still percent-encoded) URL, so a
table name holding ``/`` or spaces works when URL-encoded, as pyairtable sends it.

The endpoints live next door: :mod:`~leadsync.sandbox.airtable.records` and
:mod:`~leadsync.sandbox.airtable.record_writes` (records), :mod:`~leadsync.sandbox.airtable.meta`
(metadata), :mod:`~leadsync.sandbox.airtable.webhooks` (webhooks and payloads).

Each call needs its token's scope (https://airtable.com/developers/web/api/scopes): records reads
``data.records:read``, records writes ``data.records:write``, list bases and the schema
``schema.bases:read``, creating and updating tables and fields ``schema.bases:write``, webhooks
``webhook:manage``; whoami needs none. A missing scope is the same 403 as an unknown base.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from leadsync.sandbox.airtable import meta, record_writes, records, webhooks
from leadsync.sandbox.airtable.errors import (
    ApiError,
    authentication_required,
    model_not_found,
    rate_limited,
    route_not_found,
    url_too_long,
)
from leadsync.sandbox.airtable.model import AirtableWorld
from leadsync.sandbox.airtable.request import Call, now_ms
from leadsync.sandbox.airtable.rows import TableDef
from leadsync.sandbox.request_log import tag_identity

__all__ = [
    "MAX_URL_LENGTH",
    "METHODS",
    "required_scope",
    "routes",
]

MAX_URL_LENGTH = 16_000
METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


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


def required_scope(parts: list[str], method: str) -> str | None:
    """The token scope a request needs (``None``: whoami, which needs none)."""
    if parts == ["meta", "whoami"]:
        return None
    if parts[:2] == ["meta", "bases"]:
        return "schema.bases:read" if method == "GET" else "schema.bases:write"
    if parts[:1] == ["bases"]:
        return "webhook:manage"
    reads = method == "GET" or (len(parts) == 3 and parts[2] == "listRecords" and method == "POST")
    return "data.records:read" if reads else "data.records:write"


def _dispatch(call: Call, parts: list[str]) -> Response:
    world, method, n = call.world, call.method, len(parts)
    base_id = _base_of(parts)
    scope = required_scope(parts, method)
    if scope is not None and scope not in world.scopes.get(call.identity.name, set()):
        raise model_not_found()
    if parts == ["meta", "whoami"] and method == "GET":
        return meta.whoami(call)
    if parts == ["meta", "bases"] and method == "GET":
        return meta.list_bases(call)
    if parts[:2] == ["meta", "bases"] and n >= 4 and parts[3] == "tables":
        if base_id != world.base_id:
            raise model_not_found()
        return _dispatch_meta(call, parts[4:])
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


def _dispatch_meta(call: Call, rest: list[str]) -> Response:
    """``/v0/meta/bases/{baseId}/tables`` and below: ``rest`` is what follows ``tables``."""
    action = (call.method, len(rest))
    if action == ("GET", 0):
        return meta.base_schema(call)
    if action == ("POST", 0):
        return meta.create_table(call)
    if action == ("PATCH", 1):
        return meta.update_table(call, call.world.table(rest[0]))
    if len(rest) >= 2 and rest[1] == "fields":
        # Documented with a table id; pyairtable puts the id or the name there, so both are taken.
        if action == ("POST", 2):
            return meta.create_field(call, call.world.table(rest[0]))
        if action == ("PATCH", 3):
            return meta.update_field(call, call.world.table(rest[0]), rest[2])
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


def routes(world: AirtableWorld, bases: Mapping[str, AirtableWorld] | None = None) -> list[BaseRoute]:
    """Every ``/v0`` route: one endpoint that authenticates, rate-limits and dispatches; a request naming
    one of ``bases`` (more bases, ``leadsync sandbox --flows``; read at each request) goes to it."""
    shared = world.shared
    more: Mapping[str, AirtableWorld] = bases if bases is not None else {}

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
        target = more.get(_base_of(parts), world)
        call = Call(target, identity, request.method, request.query_params, body, now_ms(shared))
        try:
            return _dispatch(call, parts)
        except ApiError as error:
            return error.response()

    return [Route("/{rest:path}", handle, methods=METHODS)]
