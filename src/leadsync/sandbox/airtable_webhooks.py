"""Webhooks: create, list, refresh, toggle notifications, delete, list payloads; payloads recorded
for every write request, and signed notification pings delivered for real.

One write request makes at most one payload per webhook, filtered by the webhook's specification
(``dataTypes``, ``recordChangeScope``, ``changeTypes``, ``fromSources``, ``watchDataInFieldIds``) and
shaped by its ``includes``. After a payload is recorded, a webhook with notifications on is pinged
(``{"base":{"id"},"webhook":{"id"},"timestamp"}``, ``X-Airtable-Content-MAC: hmac-sha256=<hex>``).
Pings are coalesced: while one is undelivered no second one is queued, but one more is sent after it
is delivered, so a change is never left without a ping. When every retry has failed, notifications
are turned off, as Airtable does.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

from leadsync.sandbox.airtable_model import (
    ApiError,
    Call,
    FieldDef,
    RecordRow,
    TableDef,
    invalid_request,
    route_not_found,
    v2_value,
)
from leadsync.sandbox.clock import iso_ms

if TYPE_CHECKING:
    from leadsync.sandbox.airtable import AirtableWorld
    from leadsync.sandbox.state import Identity, SandboxState

WEBHOOK_LIFETIME = timedelta(days=7)
RETENTION = timedelta(days=7)  # payloads, and an expired webhook's metadata, stay readable this long
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


@dataclass
class WebhookRow:
    id: str
    notification_url: str | None
    specification: dict[str, Any]
    mac_secret_base64: str
    expiration: datetime
    notifications_enabled: bool = True
    last_success: datetime | None = None
    last_result: dict[str, Any] | None = None
    payloads: list[tuple[int, datetime, dict[str, Any]]] = field(default_factory=list)  # (cursor, at, body)
    next_cursor: int = 1
    ping_pending: bool = False  # a ping is queued or being retried
    ping_again: bool = False  # a payload arrived while it was: ping once more after delivery

    def is_active(self, now: datetime) -> bool:
        """Webhooks made with tokens expire (and are disabled) 7 days after creation or refresh."""
        return now < self.expiration

    def as_json(self, now: datetime) -> dict[str, Any]:
        return {
            "id": self.id,
            "areNotificationsEnabled": self.notifications_enabled,
            "cursorForNextPayload": self.next_cursor,
            "isHookEnabled": self.is_active(now),
            "lastSuccessfulNotificationTime": iso_ms(self.last_success) if self.last_success else None,
            "notificationUrl": self.notification_url,
            "expirationTime": iso_ms(self.expiration),
            "lastNotificationResult": copy.deepcopy(self.last_result),
            "specification": copy.deepcopy(self.specification),
        }


# ---- what a write request changed --------------------------------------------------------------------


class ChangeSet:
    """Everything one request changed, collected while it is applied."""

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        self.created: list[tuple[TableDef, RecordRow]] = []
        self.changed: dict[str, tuple[TableDef, RecordRow, dict[str, Any]]] = {}  # by record id
        self.destroyed: list[tuple[TableDef, RecordRow]] = []
        self.created_fields: list[tuple[TableDef, FieldDef]] = []

    def record_created(self, table: TableDef, row: RecordRow) -> None:
        self.created.append((table, row))

    def record_changed(self, table: TableDef, row: RecordRow, before: dict[str, Any]) -> None:
        # The same record twice in one request: keep the cells from before the first change.
        self.changed.setdefault(row.id, (table, row, before))

    def record_destroyed(self, table: TableDef, row: RecordRow) -> None:
        self.destroyed.append((table, row))

    def field_created(self, table: TableDef, fdef: FieldDef) -> None:
        self.created_fields.append((table, fdef))

    def __bool__(self) -> bool:
        return bool(self.created or self.changed or self.destroyed or self.created_fields)


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

    def entry(table: TableDef) -> dict[str, Any] | None:
        if scope is not None and scope not in (table.id, table.view_id):
            return None
        return tables.setdefault(table.id, {})

    if "tableData" in data_types and "add" in change_types:
        for table, row in changes.created:
            if (e := entry(table)) is not None:
                e.setdefault("createdRecordsById", {})[row.id] = {
                    "createdTime": iso_ms(row.created_time),
                    "cellValuesByFieldId": _cells_v2(table, row.cells, list(row.cells)),
                }
    if "tableData" in data_types and "update" in change_types:
        for table, row, before in changes.changed.values():
            changed = [f for f in table.fields if before.get(f) != row.cells.get(f)]
            if not changed or (watched and not watched.intersection(changed)):
                continue
            if (e := entry(table)) is None:
                continue
            record: dict[str, Any] = {
                "current": {"cellValuesByFieldId": _cells_v2(table, row.cells, changed)}
            }
            if includes.get("includePreviousCellValues"):
                record["previous"] = {"cellValuesByFieldId": _cells_v2(table, before, changed)}
            if include_cells:
                wanted = list(table.fields) if include_cells == "all" else list(include_cells)
                rest = [f for f in wanted if f not in changed and row.cells.get(f) is not None]
                if rest:
                    record["unchanged"] = {"cellValuesByFieldId": _cells_v2(table, row.cells, rest)}
            e.setdefault("changedRecordsById", {})[row.id] = record
    if "tableData" in data_types and "remove" in change_types:
        for table, row in changes.destroyed:
            if (e := entry(table)) is not None:
                e.setdefault("destroyedRecordIds", []).append(row.id)
    if "tableFields" in data_types and "add" in change_types:
        for table, fdef in changes.created_fields:
            if (e := entry(table)) is not None:
                e.setdefault("createdFieldsById", {})[fdef.id] = {"name": fdef.name, "type": fdef.type}
    if isinstance(scope, str) and scope.startswith("viw"):
        for e in tables.values():
            keys = ("createdRecordsById", "changedRecordsById", "destroyedRecordIds")
            view = {k: copy.deepcopy(e[k]) for k in keys if k in e}
            if view:
                e["changedViewsById"] = {scope: view}
    tables = {k: v for k, v in tables.items() if v}
    if not tables:
        return None
    return {
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


def publish(call: Call, changes: ChangeSet) -> None:
    """Record one payload per interested webhook for this request's changes, and ping them."""
    if not changes:
        return
    world = call.world
    world.transaction_number += 1
    # The person stands for a human editing in Airtable's UI; leadsync writes through the API.
    source = "client" if call.identity.name == call.state.person.name else "publicApi"
    for hook in list(world.webhooks.values()):
        if not hook.is_active(call.now):
            continue
        payload = _build_payload(hook, changes, source, call.now, world.transaction_number)
        if payload is None:
            continue
        hook.payloads.append((hook.next_cursor, call.now, payload))
        hook.next_cursor += 1
        if hook.notifications_enabled and hook.notification_url:
            _ping(call.state, hook)


# ---- notification pings ------------------------------------------------------------------------------


def sign(secret_base64: str, body: bytes) -> str:
    """The ``X-Airtable-Content-MAC`` value for ``body``."""
    digest = hmac.new(base64.b64decode(secret_base64), body, hashlib.sha256).hexdigest()
    return f"hmac-sha256={digest}"


def _ping(state: SandboxState, hook: WebhookRow) -> None:
    if hook.ping_pending:
        hook.ping_again = True  # coalesced into the ping already on its way
        return
    url = hook.notification_url
    if url is None:
        return
    hook.ping_pending = True
    body = json.dumps(
        {
            "base": {"id": state.airtable.base_id},
            "webhook": {"id": hook.id},
            "timestamp": iso_ms(state.clock.now()),
        },
        separators=(",", ":"),
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Airtable-Content-MAC": sign(hook.mac_secret_base64, body),
    }
    delays = list(state.airtable_ping_retry_delays)
    attempt_started = [state.clock.monotonic()]
    retry_number = [0]

    def outcome(status: int | None, last: bool) -> bool:
        finished = state.clock.monotonic()
        number = retry_number[0]
        retry_number[0] += 1
        duration_ms = max(0.0, finished - attempt_started[0]) * 1000
        if number < len(delays):
            attempt_started[0] = finished + delays[number]
        alive = state.airtable.webhooks.get(hook.id) is hook and hook.notifications_enabled
        ok = status in (200, 204)
        result: dict[str, Any] = {
            "success": ok,
            "completionTimestamp": iso_ms(state.clock.now()),
            "durationMs": round(duration_ms, 3),
            "retryNumber": number,
            "willBeRetried": not ok and not last and alive,
        }
        if not ok:
            # The wording is UNVERIFIED; the shape follows the list-webhooks documentation.
            reason = f"HTTP status {status}" if status is not None else "no response"
            result["error"] = {"message": f"Notification failed: {reason}"}
        hook.last_result = result
        if ok:
            hook.last_success = state.clock.now()
            hook.ping_pending = False
            if hook.ping_again:
                hook.ping_again = False
                if alive and hook.is_active(state.clock.now()):
                    _ping(state, hook)
            return True
        if last or not alive:
            hook.ping_pending = hook.ping_again = False
            if last and alive:
                hook.notifications_enabled = False  # as Airtable does after its retries run out
            return True
        return False

    state.dispatcher.post("airtable", url, body, headers, delays, outcome)


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
    secret = base64.b64encode(call.state.rng.randbytes(32)).decode()
    hook = WebhookRow(call.state.airtable_id("ach"), url, spec, secret, call.now + WEBHOOK_LIFETIME)
    call.world.webhooks[hook.id] = hook
    return JSONResponse({"id": hook.id, "macSecretBase64": secret, "expirationTime": iso_ms(hook.expiration)})


def list_webhooks(call: Call) -> JSONResponse:
    _purge(call.world, call.now)
    return JSONResponse({"webhooks": [h.as_json(call.now) for h in call.world.webhooks.values()]})


def refresh_webhook(call: Call, webhook_id: str) -> JSONResponse:
    hook = _hook(call, webhook_id)
    if not hook.is_active(call.now):
        # Refreshing is "only for active webhooks"; the error body for an expired one is UNVERIFIED.
        raise ApiError(
            422, {"error": {"type": "INVALID_HOOK", "message": "This webhook has expired; create a new one"}}
        )
    hook.expiration = call.now + WEBHOOK_LIFETIME
    return JSONResponse({"expirationTime": iso_ms(hook.expiration)})


def enable_notifications(call: Call, webhook_id: str) -> JSONResponse:
    hook = _hook(call, webhook_id)
    body = call.json_body()
    if set(body) != {"enable"} or not isinstance(body["enable"], bool):
        raise invalid_request()
    hook.notifications_enabled = body["enable"]
    return JSONResponse({})


def delete_webhook(call: Call, webhook_id: str) -> JSONResponse:
    hook = _hook(call, webhook_id)
    del call.world.webhooks[hook.id]
    return JSONResponse({})


def list_payloads(call: Call, webhook_id: str) -> JSONResponse:
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
