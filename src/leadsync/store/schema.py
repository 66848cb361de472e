"""Tables of the state store (SQLAlchemy Core), shared by SQLite and PostgreSQL.

The schema itself rules out invalid states (invariant I10):

- ``pairs``: one row per linked lead/card pair; ``lead_id`` is the primary key and ``card_id`` is
  UNIQUE NOT NULL, so neither a lead nor a card can be linked twice.
- ``intents``: keyed by ``lead_id``, so at most one pending create per lead.
- ``conflicts``: a partial unique index allows at most one *open* conflict (``resolved_at IS NULL``)
  per lead and field; a CHECK keeps ``resolved_at`` and ``resolution`` set together.
- ``sync_state``: one row per flow, one typed column per position in the APIs' change feeds and per
  registered webhook.
- every table of a flow's rows (``pairs``, ``intents``, ``conflicts``, ``activity``, ``cycles``) has a
  ``flow`` column: record and card ids are globally unique, so the keys stay as they were, and every
  query of a :class:`~leadsync.store.Store` filters by its flow (``Store.for_flow``).
- ``webhook_secrets``: the Airtable webhook's MAC secret, one row per flow, kept apart from the positions
  so that nothing that reads or prints the sync state ever touches it.
- ``remembered_ids``: per flow, the table, field, list and label ids its names resolved to.
- ``job_targets``: the leads and cards webhooks named for a flow's next job (PostgreSQL workers), kept
  until a cycle applied them, so a burst becomes one cycle and a killed worker loses none.
- ``rate_pauses``: one row per shared rate-limit key that a 429 paused, with the epoch second it ends.

Every timestamp goes through :class:`UTCDateTime`: only timezone-aware values are accepted, they are
stored in UTC and always read back as aware UTC datetimes (SQLite returns naive ones).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

DEFAULT_FLOW = "default"
"""The flow of the environment-only setup, and of a store opened without naming one."""

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored in UTC, read back as aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """The value converted to UTC for storage; raises ValueError for a naive datetime."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} given; the store needs timezone-aware times"
            )
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """The stored value as an aware UTC datetime (SQLite returns it naive)."""
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite keeps no offset: what we stored was UTC
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


pairs = Table(
    "pairs",
    metadata,
    Column("flow", String(64), nullable=False, server_default=DEFAULT_FLOW, index=True),
    Column("lead_id", String(64), primary_key=True),
    Column("card_id", String(64), nullable=False, unique=True),
    Column("status", Text, nullable=True),
    Column("name", Text, nullable=False, default=""),
    Column("email", Text, nullable=False, default=""),
    Column("source", Text, nullable=False, default=""),
    Column("card_closed", Boolean, nullable=False, default=False),
    Column("lead_deleted", Boolean, nullable=False, default=False),
    Column("card_deleted", Boolean, nullable=False, default=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Added for the mapping file; nullable, so an earlier store gains them in place (store.columns).
    Column("title", Text, nullable=True),  # the templated title last written ("" or NULL: the default)
    Column("extra", Text, nullable=True),  # JSON [[label, text], ...] of the block's extra lines
    Column("due", String(40), nullable=True),
    Column("labels", Text, nullable=True),  # JSON list of the labels field's options
)

intents = Table(
    "intents",
    metadata,
    Column("flow", String(64), nullable=False, server_default=DEFAULT_FLOW, index=True),
    Column("lead_id", String(64), primary_key=True),
    Column("recorded_at", UTCDateTime, nullable=False),
)

conflicts = Table(
    "conflicts",
    metadata,
    Column("flow", String(64), nullable=False, server_default=DEFAULT_FLOW, index=True),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_id", String(64), nullable=False),
    Column("card_id", String(64), nullable=False),
    Column("base_status", Text, nullable=True),
    Column("airtable_status", Text, nullable=True),
    Column("trello_status", Text, nullable=True),
    Column("policy", String(32), nullable=False),
    Column("detected_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("resolution", Text, nullable=True),
    # The two-way field in conflict ("status" or "due"); the *_status columns hold that field's values.
    Column("field", String(32), nullable=False, server_default="status"),
    CheckConstraint("(resolved_at IS NULL) = (resolution IS NULL)", name="resolved_together"),
)

OPEN_CONFLICT_INDEX = "uq_conflicts_open_lead_field"
open_conflict_per_lead = Index(
    OPEN_CONFLICT_INDEX,
    conflicts.c.lead_id,
    conflicts.c.field,
    unique=True,
    sqlite_where=conflicts.c.resolved_at.is_(None),
    postgresql_where=conflicts.c.resolved_at.is_(None),
)

activity = Table(
    "activity",
    metadata,
    Column("flow", String(64), nullable=False, server_default=DEFAULT_FLOW, index=True),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("action", String(64), nullable=False),
    Column("lead_id", String(64), nullable=True, index=True),
    Column("card_id", String(64), nullable=True),
    Column("detail", Text, nullable=False, default=""),
)

cycles = Table(
    "cycles",
    metadata,
    Column("flow", String(64), nullable=False, server_default=DEFAULT_FLOW, index=True),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mode", String(32), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("ok", Boolean, nullable=True),
    Column("summary", Text, nullable=True),  # JSON text
    CheckConstraint("(finished_at IS NULL) = (ok IS NULL)", name="finished_together"),
)

rate_slots = Table(
    "rate_slots",  # the API request slots every process on this store shares (client-side rate limiting)
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(128), nullable=False),
    Column("at", Float, nullable=False),  # epoch seconds
    Index("rate_slots_key_at", "key", "at"),
)

rate_pauses = Table(
    "rate_pauses",  # after a 429: no process on this store sends a request for ``key`` before ``until``
    metadata,
    Column("key", String(128), primary_key=True),
    Column("until", Float, nullable=False),  # epoch seconds
)

sync_state = Table(
    "sync_state",
    metadata,
    Column("flow", String(64), primary_key=True),
    Column("airtable_watermark", UTCDateTime, nullable=True),
    Column("trello_last_action", String(64), nullable=True),
    Column("last_full_scan", UTCDateTime, nullable=True),
    Column("trello_conflict_since", UTCDateTime, nullable=True),
    Column("trello_member_id", String(64), nullable=True),
    Column("airtable_user_id", String(64), nullable=True),
    Column("airtable_webhook_id", String(64), nullable=True),
    Column("airtable_webhook_cursor", Integer, nullable=True),
    Column("airtable_webhook_expires", UTCDateTime, nullable=True),
    Column("airtable_table_id", String(64), nullable=True),
    Column("trello_webhook_id", String(64), nullable=True),
    Column("trello_webhook_callback", Text, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

remembered_ids = Table(
    "remembered_ids",  # what a flow's names resolved to, so a rename while leadsync is stopped holds
    metadata,
    Column("flow", String(64), primary_key=True),
    Column(
        "key", String(200), primary_key=True
    ),  # "table", "status", "block:Company", "list:NEW", "label:Hot"
    Column("value", String(64), nullable=False),  # the tbl... / fld... / list / label id
    Column("updated_at", UTCDateTime, nullable=False),
)

job_targets = Table(
    "job_targets",  # what webhooks named for a flow's next job: a burst merges here into one cycle
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flow", String(64), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # "lead", "card", "full", "ping" (Airtable) or "sweep"
    Column("target", String(64), nullable=True),  # the lead's or card's id
    Column("at", UTCDateTime, nullable=False),  # when the event arrived (webhook-to-synced latency)
)

webhook_secrets = Table(
    "webhook_secrets",
    metadata,
    Column("flow", String(64), primary_key=True),
    Column("airtable_mac_secret", Text, nullable=False),  # base64, as Airtable hands it out
    Column("updated_at", UTCDateTime, nullable=False),
)

__all__ = [
    "DEFAULT_FLOW",
    "OPEN_CONFLICT_INDEX",
    "UTCDateTime",
    "activity",
    "conflicts",
    "cycles",
    "intents",
    "job_targets",
    "metadata",
    "pairs",
    "rate_pauses",
    "rate_slots",
    "remembered_ids",
    "sync_state",
    "webhook_secrets",
]
