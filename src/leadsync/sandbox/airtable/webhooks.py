"""Airtable webhooks: create, list, refresh, toggle notifications, delete, list payloads; and the payload
each write request records.

One write request makes at most one payload per webhook, filtered by the webhook's specification
(``dataTypes``, ``recordChangeScope``, ``changeTypes``, ``fromSources``, ``watchDataInFieldIds``) and
shaped by its ``includes``. After a payload is recorded, a webhook with notifications on is pinged
(:mod:`~leadsync.sandbox.airtable.deliveries`).
"""

from __future__ import annotations

import base64
import copy
from datetime import datetime
from typing import Any

from starlette.responses import JSONResponse

from leadsync.sandbox.airtable import deliveries
from leadsync.sandbox.airtable.cells import is_empty, v2_value
from leadsync.sandbox.airtable.computed import computed_cells
from leadsync.sandbox.airtable.errors import ApiError, invalid_request, route_not_found
from leadsync.sandbox.airtable.model import AirtableWorld
from leadsync.sandbox.airtable.request import Call
from leadsync.sandbox.airtable.rows import (
    RETENTION,
    WEBHOOK_LIFETIME,
    FieldDef,
    RecordRow,
    TableDef,
    WebhookRow,
)
from leadsync.sandbox.clock import iso_ms
from leadsync.sandbox.identities import Identity

__all__ = [
    "CHANGE_TYPES",
    "DATA_TYPES",
    "MAX_PAYLOADS_PER_PAGE",
    "MAX_WEBHOOKS_PER_BASE",
    "SOURCES",
    "ChangeSet",
    "cells_with_computed",
    "create_webhook",
    "delete_webhook",
    "enable_notifications",
    "list_payloads",
    "list_webhooks",
    "publish",
    "refresh_webhook",
]

MAX_WEBHOOKS_PER_BASE = 10
MAX_PAYLOADS_PER_PAGE = 50

DATA_TYPES = frozenset({"tableData", "tableFields", "tableMetadata"})
CHANGE_TYPES = frozenset({"add", "remove", "update"})
SOURCES = frozenset(
    {
        "client",
        "publicApi",
        "formSubmission",
        "formPageSubmission",
        "automation",
        "system",
        "sync",
        "anonymousUser",
        "unknown",
    }
)
_FILTER_KEYS = frozenset(
    {
        "dataTypes",
        "recordChangeScope",
        "changeTypes",
        "fromSources",
        "sourceOptions",
        "watchDataInFieldIds",
        "watchSchemasOfFieldIds",
    }
)
_INCLUDE_KEYS = frozenset(
    {"includeCellValuesInFieldIds", "includePreviousCellValues", "includePreviousFieldDefinitions"}
)


# ---- what a write request changed --------------------------------------------------------------------


class ChangeSet:
    """Everything one request changed, collected while it is applied."""

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        self.created: list[tuple[TableDef, RecordRow]] = []
        self.changed: dict[str, tuple[TableDef, RecordRow, dict[str, Any]]] = {}  # by record id
        self.destroyed: list[tuple[TableDef, RecordRow]] = []
        self.created_fields: list[tuple[TableDef, FieldDef]] = []
        self.changed_fields: list[tuple[TableDef, FieldDef, dict[str, Any]]] = []
        self.changed_tables: list[tuple[TableDef, dict[str, Any]]] = []
        self.created_tables: list[TableDef] = []

    def record_created(self, table: TableDef, row: RecordRow) -> None:
        """Note a created record."""
        self.created.append((table, row))

    def record_changed(self, table: TableDef, row: RecordRow, before: dict[str, Any]) -> None:
        """Note a changed record with its cells from before the request."""
        # The same record twice in one request: keep the cells from before the first change.
        self.changed.setdefault(row.id, (table, row, before))

    def record_destroyed(self, table: TableDef, row: RecordRow) -> None:
        """Note a deleted record."""
        self.destroyed.append((table, row))

    def field_created(self, table: TableDef, fdef: FieldDef) -> None:
        """Note a created field."""
        self.created_fields.append((table, fdef))

    def field_changed(self, table: TableDef, fdef: FieldDef, previous: dict[str, Any]) -> None:
        """Note a renamed or redescribed field, with the changed properties' values from before."""
        self.changed_fields.append((table, fdef, previous))

    def table_changed(self, table: TableDef, previous: dict[str, Any]) -> None:
        """Note a renamed or redescribed table, with the changed properties' values from before."""
        self.changed_tables.append((table, previous))

    def table_created(self, table: TableDef) -> None:
        """Note a created table."""
        self.created_tables.append(table)

    def __bool__(self) -> bool:
        return bool(
            self.created
            or self.changed
            or self.destroyed
            or self.created_fields
            or self.changed_fields
            or self.changed_tables
            or self.created_tables
        )


def cells_with_computed(table: TableDef, row: RecordRow, now: datetime) -> dict[str, Any]:
    """A record's stored cells and its non-empty computed ones at ``now``, by field id: what payloads
    show, so a formula or last-modified-time cell that changed with a write is part of the change."""
    computed = {k: v for k, v in computed_cells(table, row, now).items() if not is_empty(v)}
    return {**row.cells, **computed}


def _cells_v2(table: TableDef, cells: dict[str, Any], field_ids: list[str]) -> dict[str, Any]:
    return {f: v2_value(table.fields[f], cells.get(f)) for f in field_ids if f in table.fields}


def _build_payload(
    hook: WebhookRow, changes: ChangeSet, source: str, now: datetime, transaction: int
) -> dict[str, Any] | None:
    options = hook.specification["options"]
    filters, includes = options["filters"], options.get("includes") or {}
    from_sources = filters.get("fromSources") or []
    if from_sources and source not in from_sources:
        return None
    data_types = set(filters["dataTypes"])
    change_types = set(filters.get("changeTypes") or CHANGE_TYPES)
    scope = filters.get("recordChangeScope")
    watched = set(filters.get("watchDataInFieldIds") or [])
    include_cells = includes.get("includeCellValuesInFieldIds")
    tables: dict[str, dict[str, Any]] = {}

    def cells_now(table: TableDef, row: RecordRow) -> dict[str, Any]:
        return cells_with_computed(table, row, now)

    def entry(table: TableDef) -> dict[str, Any] | None:
        if scope is not None and scope not in (table.id, table.view_id):
            return None
        return tables.setdefault(table.id, {})

    if "tableData" in data_types and "add" in change_types:
        for table, row in changes.created:
            if (e := entry(table)) is not None:
                e.setdefault("createdRecordsById", {})[row.id] = {
                    "createdTime": iso_ms(row.created_time),
                    "cellValuesByFieldId": _cells_v2(
                        table, cells_now(table, row), list(cells_now(table, row))
                    ),
                }
    if "tableData" in data_types and "update" in change_types:
        for table, row, before in changes.changed.values():
            current = cells_now(table, row)
            changed = [f for f in table.fields if before.get(f) != current.get(f)]
            if not changed or (watched and not watched.intersection(changed)):
                continue
            if (e := entry(table)) is None:
                continue
            record: dict[str, Any] = {"current": {"cellValuesByFieldId": _cells_v2(table, current, changed)}}
            if includes.get("includePreviousCellValues"):
                record["previous"] = {"cellValuesByFieldId": _cells_v2(table, before, changed)}
            if include_cells:
                wanted = list(table.fields) if include_cells == "all" else list(include_cells)
                rest = [f for f in wanted if f not in changed and current.get(f) is not None]
                if rest:
                    record["unchanged"] = {"cellValuesByFieldId": _cells_v2(table, current, rest)}
            e.setdefault("changedRecordsById", {})[row.id] = record
    if "tableData" in data_types and "remove" in change_types:
        for table, row in changes.destroyed:
            if (e := entry(table)) is not None:
                e.setdefault("destroyedRecordIds", []).append(row.id)
    if "tableFields" in data_types and "add" in change_types:
        for table, fdef in changes.created_fields:
            if (e := entry(table)) is not None:
                e.setdefault("createdFieldsById", {})[fdef.id] = {"name": fdef.name, "type": fdef.type}
    if "tableFields" in data_types and "update" in change_types:
        for table, fdef, previous in changes.changed_fields:
            if (e := entry(table)) is not None:
                change: dict[str, Any] = {"current": {k: fdef.schema().get(k) for k in previous}}
                if includes.get("includePreviousFieldDefinitions"):
                    change["previous"] = dict(previous)
                e.setdefault("changedFieldsById", {})[fdef.id] = change
    if "tableMetadata" in data_types and "update" in change_types:
        for table, previous in changes.changed_tables:
            if (e := entry(table)) is not None:
                current = {"name": table.name, "description": table.description}
                e["changedMetadata"] = {"current": {k: current[k] for k in previous}, "previous": previous}
    created_tables = {}
    if data_types & {"tableFields", "tableMetadata"} and "add" in change_types and scope is None:
        for table in changes.created_tables:
            made: dict[str, Any] = {}
            if "tableMetadata" in data_types:
                made["metadata"] = {"name": table.name, "description": table.description}
            if "tableFields" in data_types:
                made["fieldsById"] = {f.id: {"name": f.name, "type": f.type} for f in table.fields.values()}
            created_tables[table.id] = made
    if isinstance(scope, str) and scope.startswith("viw"):
        for e in tables.values():
            keys = ("createdRecordsById", "changedRecordsById", "destroyedRecordIds")
            view = {k: copy.deepcopy(e[k]) for k in keys if k in e}
            if view:
                e["changedViewsById"] = {scope: view}
    tables = {k: v for k, v in tables.items() if v}
    if not tables and not created_tables:
        return None
    payload: dict[str, Any] = {
        "timestamp": iso_ms(now),
        "baseTransactionNumber": transaction,
        "payloadFormat": "v0",
        "actionMetadata": {
            "source": source,
            "sourceMetadata": {
                "user": {
                    "id": changes.identity.airtable_user_id,
                    "email": changes.identity.email,
                    "permissionLevel": "create",
                }
            },
        },
        "changedTablesById": tables,
    }
    if created_tables:
        payload["createdTablesById"] = created_tables
    return payload


def publish(call: Call, changes: ChangeSet) -> None:
    """Record one payload per interested webhook for this request's changes, and ping them."""
    if not changes:
        return
    world = call.world
    world.transaction_number += 1
    # The person stands for a human editing in Airtable's UI; leadsync writes through the API.
    source = "client" if call.identity.name == call.shared.person.name else "publicApi"
    for hook in list(world.webhooks.values()):
        if not hook.is_active(call.now):
            continue
        payload = _build_payload(hook, changes, source, call.now, world.transaction_number)
        if payload is None:
            continue
        hook.payloads.append((hook.next_cursor, call.now, payload))
        hook.next_cursor += 1
        if hook.notifications_enabled and hook.notification_url:
            deliveries.ping(call.world, hook)


# ---- endpoints ---------------------------------------------------------------------------------------


def _purge(world: AirtableWorld, now: datetime) -> None:
    for hook_id in [h.id for h in world.webhooks.values() if now > h.expiration + RETENTION]:
        del world.webhooks[hook_id]


def _hook(call: Call, webhook_id: str) -> WebhookRow:
    _purge(call.world, call.now)
    hook = call.world.webhooks.get(webhook_id)
    if hook is None:
        raise route_not_found()
    return hook


def _field_ids(world: AirtableWorld, value: Any) -> list[str]:
    known = {f for t in world.tables.values() for f in t.fields}
    if not isinstance(value, list) or not all(isinstance(v, str) and v in known for v in value):
        raise invalid_request()
    return list(value)


def _subset(value: Any, allowed: frozenset[str], *, required: bool = False) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v in allowed for v in value):
        raise invalid_request()
    if required and not value:
        raise invalid_request()
    return list(value)


def _specification(world: AirtableWorld, spec: Any) -> dict[str, Any]:
    """Validate a webhook specification (tables, views and fields given by id, as documented)."""
    if not isinstance(spec, dict) or set(spec) != {"options"} or not isinstance(spec["options"], dict):
        raise invalid_request()
    options = spec["options"]
    filters, includes = options.get("filters"), options.get("includes")
    if set(options) - {"filters", "includes"} or not isinstance(filters, dict) or set(filters) - _FILTER_KEYS:
        raise invalid_request()
    _subset(filters.get("dataTypes"), DATA_TYPES, required=True)
    scope = filters.get("recordChangeScope")
    scopes = {t.id for t in world.tables.values()} | {t.view_id for t in world.tables.values()}
    if scope is not None and scope not in scopes:
        raise invalid_request()
    if "changeTypes" in filters:
        _subset(filters["changeTypes"], CHANGE_TYPES)
    if "fromSources" in filters:
        _subset(filters["fromSources"], SOURCES)
    if "sourceOptions" in filters and not isinstance(filters["sourceOptions"], dict):
        raise invalid_request()
    for key in ("watchDataInFieldIds", "watchSchemasOfFieldIds"):
        if key in filters:
            _field_ids(world, filters[key])
    if includes is not None:
        if not isinstance(includes, dict) or set(includes) - _INCLUDE_KEYS:
            raise invalid_request()
        cells = includes.get("includeCellValuesInFieldIds")
        if cells is not None and cells != "all":
            _field_ids(world, cells)
        for key in ("includePreviousCellValues", "includePreviousFieldDefinitions"):
            if not isinstance(includes.get(key, False), bool):
                raise invalid_request()
    return copy.deepcopy(spec)


def create_webhook(call: Call) -> JSONResponse:
    """``POST .../webhooks``: a new webhook; its secret is shown only in this answer."""
    body = call.json_body()
    if set(body) - {"notificationUrl", "specification"}:
        raise invalid_request()
    url = body.get("notificationUrl")
    if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        raise invalid_request()
    spec = _specification(call.world, body.get("specification"))
    _purge(call.world, call.now)
    if len(call.world.webhooks) >= MAX_WEBHOOKS_PER_BASE:
        # "At most 10 webhooks per base" is documented; this error body is UNVERIFIED.
        raise ApiError(
            422,
            {"error": {"type": "TOO_MANY_WEBHOOKS", "message": "A base can have at most 10 webhooks"}},
        )
    secret = base64.b64encode(call.shared.rng.randbytes(32)).decode()
    hook = WebhookRow(call.shared.airtable_id("ach"), url, spec, secret, call.now + WEBHOOK_LIFETIME)
    call.world.webhooks[hook.id] = hook
    return JSONResponse({"id": hook.id, "macSecretBase64": secret, "expirationTime": iso_ms(hook.expiration)})


def list_webhooks(call: Call) -> JSONResponse:
    """``GET .../webhooks``: the base's webhooks."""
    _purge(call.world, call.now)
    return JSONResponse({"webhooks": [h.as_json(call.now) for h in call.world.webhooks.values()]})


def refresh_webhook(call: Call, webhook_id: str) -> JSONResponse:
    """``POST .../refresh``: extend a webhook's life by 7 days from now."""
    hook = _hook(call, webhook_id)
    if not hook.is_active(call.now):
        # Refreshing is "only for active webhooks"; the error body for an expired one is UNVERIFIED.
        raise ApiError(
            422, {"error": {"type": "INVALID_HOOK", "message": "This webhook has expired; create a new one"}}
        )
    hook.expiration = call.now + WEBHOOK_LIFETIME
    return JSONResponse({"expirationTime": iso_ms(hook.expiration)})


def enable_notifications(call: Call, webhook_id: str) -> JSONResponse:
    """``POST .../enableNotifications``: turn pings on or off."""
    hook = _hook(call, webhook_id)
    body = call.json_body()
    if set(body) != {"enable"} or not isinstance(body["enable"], bool):
        raise invalid_request()
    hook.notifications_enabled = body["enable"]
    return JSONResponse({})


def delete_webhook(call: Call, webhook_id: str) -> JSONResponse:
    """``DELETE .../webhooks/{id}``."""
    hook = _hook(call, webhook_id)
    del call.world.webhooks[hook.id]
    return JSONResponse({})


def list_payloads(call: Call, webhook_id: str) -> JSONResponse:
    """``GET .../payloads``: the payloads from ``cursor`` on, up to ``limit`` (50)."""
    hook = _hook(call, webhook_id)
    cursor, limit = 1, MAX_PAYLOADS_PER_PAGE
    for key, value in call.query.multi_items():
        if key not in ("cursor", "limit") or not value.isdigit():
            raise invalid_request()
        if key == "cursor":
            cursor = int(value)
        else:
            limit = int(value)
    if cursor < 1 or not 1 <= limit <= MAX_PAYLOADS_PER_PAGE:
        raise invalid_request()
    hook.payloads = [p for p in hook.payloads if call.now - p[1] <= RETENTION]
    available = [p for p in hook.payloads if p[0] >= cursor]
    page = available[:limit]
    if hook.is_active(call.now):
        hook.expiration = call.now + WEBHOOK_LIFETIME  # listing payloads extends the expiry
    return JSONResponse(
        {
            "cursor": page[-1][0] + 1 if page else cursor,
            "mightHaveMore": len(available) > len(page),
            "payloads": [copy.deepcopy(p[2]) for p in page],
        }
    )
