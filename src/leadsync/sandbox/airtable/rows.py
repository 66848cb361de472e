"""The Airtable emulator's objects: tables, fields, records, list iterators and webhooks, as stored."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from leadsync.sandbox.clock import iso_ms

__all__ = [
    "CHOICE_COLORS",
    "COMPUTED_TYPES",
    "DATE_TYPES",
    "MERGEABLE_TYPES",
    "NUMBER_TYPES",
    "RETENTION",
    "SELECT_TYPES",
    "TEXT_TYPES",
    "WEBHOOK_LIFETIME",
    "WRITABLE_TYPES",
    "FieldDef",
    "ListIterator",
    "RecordRow",
    "TableDef",
    "WebhookRow",
]

TEXT_TYPES = frozenset({"singleLineText", "multilineText", "email", "url", "phoneNumber", "richText"})
NUMBER_TYPES = frozenset({"number", "currency", "percent", "rating", "duration"})
SELECT_TYPES = frozenset({"singleSelect", "multipleSelects"})
DATE_TYPES = frozenset({"date", "dateTime"})
WRITABLE_TYPES = TEXT_TYPES | NUMBER_TYPES | SELECT_TYPES | DATE_TYPES | {"checkbox"}
MERGEABLE_TYPES = TEXT_TYPES | SELECT_TYPES | DATE_TYPES | {"number"}
# Read-only types: Airtable computes their cells, and refuses writes to them (422).
COMPUTED_TYPES = frozenset(
    {
        "aiText",
        "autoNumber",
        "button",
        "count",
        "createdBy",
        "createdTime",
        "formula",
        "lastModifiedBy",
        "lastModifiedTime",
        "multipleLookupValues",
        "rollup",
    }
)

CHOICE_COLORS = (
    "blueLight2",
    "cyanLight2",
    "tealLight2",
    "greenLight2",
    "yellowLight2",
    "orangeLight2",
    "redLight2",
    "pinkLight2",
    "purpleLight2",
    "grayLight2",
)


@dataclass
class FieldDef:
    """One field of a table: id, name, type and type options."""

    id: str
    name: str
    type: str
    options: dict[str, Any] | None = None
    description: str | None = None

    @property
    def choices(self) -> list[dict[str, Any]]:
        """The select options, if any."""
        return list((self.options or {}).get("choices", []))

    def choice(self, name: str) -> dict[str, Any] | None:
        """The select option named ``name``, if any."""
        return next((c for c in self.choices if c["name"] == name), None)

    def schema(self) -> dict[str, Any]:
        """The JSON the metadata API shows for this object."""
        out: dict[str, Any] = {"id": self.id, "name": self.name, "type": self.type}
        if self.description:
            out["description"] = self.description
        if self.options is not None:
            out["options"] = json.loads(json.dumps(self.options))
        return out


@dataclass
class RecordRow:
    """One record: its cells by field id, and when each was last modified."""

    id: str
    created_time: datetime
    cells: dict[str, Any] = field(default_factory=dict)  # by field id; empty values are never stored
    modified: dict[str, datetime] = field(default_factory=dict)  # by field id: last user modification
    number: int = 0  # the table's creation counter at this record: what an autoNumber field shows


@dataclass
class TableDef:
    """One table: its fields and records, in creation order, and its one view."""

    id: str
    name: str
    primary_field_id: str
    fields: dict[str, FieldDef] = field(default_factory=dict)  # by field id, in creation order
    records: dict[str, RecordRow] = field(default_factory=dict)  # by record id, in creation order
    view_id: str = ""
    view_name: str = "Grid view"
    description: str | None = None
    records_created: int = 0  # how many records the table ever had (autoNumber never reuses a number)

    def field_by_key(self, key: str) -> FieldDef | None:
        """A field by name (as written) or by ``fld`` id."""
        by_id = self.fields.get(key)
        if by_id is not None:
            return by_id
        return self.field_by_name(key)

    def field_by_name(self, name: str) -> FieldDef | None:
        """A field by its current name only (what formulas accept: field ids are unknown names there)."""
        return next((f for f in self.fields.values() if f.name == name), None)

    def field_name_taken(self, name: str, *, except_id: str | None = None) -> bool:
        """True when another field already has ``name``, compared case-insensitively as Airtable does."""
        wanted = name.casefold()
        return any(f.name.casefold() == wanted and f.id != except_id for f in self.fields.values())

    def schema(self, *, visible_field_ids: bool = False) -> dict[str, Any]:
        """The JSON the metadata API shows for this object."""
        view: dict[str, Any] = {"id": self.view_id, "name": self.view_name, "type": "grid"}
        if visible_field_ids:
            view["visibleFieldIds"] = list(self.fields)
        out: dict[str, Any] = {"id": self.id, "name": self.name, "primaryFieldId": self.primary_field_id}
        if self.description:
            out["description"] = self.description
        return {**out, "fields": [f.schema() for f in self.fields.values()], "views": [view]}


@dataclass
class ListIterator:
    """The records a first page matched, served page by page through opaque offsets."""

    table_id: str
    record_ids: list[str]
    position: int
    touched: float  # sandbox clock seconds at the last page served


WEBHOOK_LIFETIME = timedelta(days=7)
RETENTION = timedelta(days=7)  # payloads, and an expired webhook's metadata, stay readable this long


@dataclass
class WebhookRow:
    """One Airtable webhook: its specification, secret, expiry, payloads and notification state."""

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
        """The webhook as ``GET .../webhooks`` lists it at ``now``."""
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
