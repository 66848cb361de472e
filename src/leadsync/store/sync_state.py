"""The sync state of a flow: where each API's change feed was last read, and the registered webhooks.

A flow is one Airtable table kept in sync with one Trello board; a method given no flow uses the store's own.
Its state is one row of typed columns, read whole as a frozen :class:`SyncState` and changed with
:meth:`SyncStateStore.update_sync_state`, whose keyword arguments are the fields to set (None clears
one; a field not named keeps its value).

The Airtable webhook's MAC secret lives in a table of its own and is read and written only through
:meth:`SyncStateStore.airtable_mac_secret` and :meth:`SyncStateStore.set_airtable_mac_secret`, so that no
code that reads, logs or prints the sync state can carry it along.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import TypedDict, Unpack

from sqlalchemy import delete, select

from leadsync.store.connection import StoreConnection, now
from leadsync.store.schema import sync_state, webhook_secrets

__all__ = ["SyncState", "SyncStateChanges", "SyncStateStore"]


@dataclass(frozen=True, slots=True)
class SyncState:
    """Positions in both APIs' change feeds, and the webhooks registered for one flow."""

    airtable_watermark: datetime | None = None
    """When the last complete read of Airtable changes started (the next one reads from a little before)."""
    trello_last_action: str | None = None
    """The newest Trello action already read, by id (or a date, on a board that had none yet)."""
    last_full_scan: datetime | None = None
    """When the last full read of both sides started; None until the store has had one."""
    trello_conflict_since: datetime | None = None
    """Trello actions before this never decide a conflict any more (keeps the query short)."""
    trello_member_id: str | None = None
    """leadsync's own Trello member: its actions are echoes of its own writes."""
    airtable_user_id: str | None = None
    """leadsync's own Airtable user: webhook payloads it authored are echoes of its own writes."""
    airtable_webhook_id: str | None = None
    airtable_webhook_cursor: int | None = None
    """The number of the next Airtable webhook payload to read."""
    airtable_webhook_expires: datetime | None = None
    airtable_table_id: str | None = None
    """The table the Airtable webhook watches (payloads of others are ignored)."""
    trello_webhook_id: str | None = None
    trello_webhook_callback: str | None = None
    """The URL Trello was given: it is part of what Trello signs."""


class SyncStateChanges(TypedDict, total=False):
    """The fields of :class:`SyncState` to set in one :meth:`SyncStateStore.update_sync_state` call."""

    airtable_watermark: datetime | None
    trello_last_action: str | None
    last_full_scan: datetime | None
    trello_conflict_since: datetime | None
    trello_member_id: str | None
    airtable_user_id: str | None
    airtable_webhook_id: str | None
    airtable_webhook_cursor: int | None
    airtable_webhook_expires: datetime | None
    airtable_table_id: str | None
    trello_webhook_id: str | None
    trello_webhook_callback: str | None


_STATE_COLUMNS = tuple(f.name for f in fields(SyncState))


class SyncStateStore(StoreConnection):
    """Reading and updating each flow's sync state, and the Airtable webhook's MAC secret."""

    def sync_state(self, flow: str | None = None) -> SyncState:
        """The flow's whole sync state in one read (every field None for a flow never synced)."""
        flow = flow or self.flow
        with self._read(f"read the sync state of flow {flow!r}") as conn:
            row = conn.execute(select(sync_state).where(sync_state.c.flow == flow)).first()
        if row is None:
            return SyncState()
        return SyncState(**{name: getattr(row, name) for name in _STATE_COLUMNS})

    def update_sync_state(self, flow: str | None = None, **changes: Unpack[SyncStateChanges]) -> None:
        """Set the named fields of the flow's sync state in one transaction (None clears a field)."""
        flow = flow or self.flow
        if not changes:
            return
        unknown = changes.keys() - set(_STATE_COLUMNS)
        if unknown:  # only reachable by skipping the type checker, e.g. with **a_plain_dict
            raise TypeError(f"not fields of the sync state: {', '.join(sorted(unknown))}")
        values: dict[str, object] = {"flow": flow, **changes, "updated_at": now()}
        with self._tx(f"update the sync state of flow {flow!r}") as conn:
            conn.execute(self._upsert(sync_state, "flow", values))

    def airtable_mac_secret(self, flow: str | None = None) -> str | None:
        """The MAC secret (base64) of the flow's Airtable webhook, or None if none is registered."""
        flow = flow or self.flow
        with self._read(f"read the webhook secret of flow {flow!r}") as conn:
            secret: str | None = conn.execute(
                select(webhook_secrets.c.airtable_mac_secret).where(webhook_secrets.c.flow == flow)
            ).scalar()
        return secret

    def set_airtable_mac_secret(self, secret: str | None, flow: str | None = None) -> None:
        """Keep the MAC secret of the flow's Airtable webhook; None forgets it."""
        flow = flow or self.flow
        with self._tx(f"set the webhook secret of flow {flow!r}") as conn:
            if secret is None:
                conn.execute(delete(webhook_secrets).where(webhook_secrets.c.flow == flow))
                return
            values = {"flow": flow, "airtable_mac_secret": secret, "updated_at": now()}
            conn.execute(self._upsert(webhook_secrets, "flow", values))
