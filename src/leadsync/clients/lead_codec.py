"""Airtable records to leads and lead changes to record fields, by field id.

A flow's table is read with ``returnFieldsByFieldId`` (cells keyed by ``fld...`` ids, so a field's
rename changes nothing) and written by id too: Airtable accepts field ids wherever it accepts names
(https://airtable.com/developers/web/api/update-multiple-records). The title template and the managed
block's extra fields are rendered here, so the core compares plain text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from leadsync.clients.airtable_schema import ResolvedTable
from leadsync.clients.due_dates import DATE, canonical_due
from leadsync.core import KEEP, NO_LABELS, Lead, LeadChanges, LeadId

__all__ = ["DEFAULT_TITLE", "LeadCodec", "cell_text"]

DEFAULT_TITLE = "Follow up: {name}"
"""The seed's card title, which the core renders itself (``core.card_title``)."""


def cell_text(value: Any) -> str:
    """A cell of any type as one line of text for the card: lists joined, collaborators and
    attachments by name, numbers without a needless ``.0``, a ticked checkbox as ``yes``."""
    if value is None or value is False:
        return ""
    if value is True:
        return "yes"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ", ".join(text for item in value if (text := cell_text(item)))
    if isinstance(value, dict):
        for key in ("name", "filename", "email", "text", "label", "url"):
            if isinstance(value.get(key), str):
                return str(value[key])
        return ""
    return str(value)


@dataclass(frozen=True)
class LeadCodec:
    """How one flow's records become leads, and lead changes become cells."""

    table: ResolvedTable
    title: str = DEFAULT_TITLE

    @property
    def due_type(self) -> str:
        """The due field's type (``date`` or ``dateTime``); ``date`` when no due field is mapped."""
        info = self.table.roles.get("due")
        return info.type if info is not None else DATE

    def field_ids(self) -> list[str]:
        """The fields a read asks for."""
        return self.table.field_ids()

    def to_lead(self, record: Mapping[str, Any], shared: dict[str, str] | None = None) -> Lead:
        """The lead of one record read with ``returnFieldsByFieldId``; ``shared`` keeps one copy of each
        status value across many records."""
        cells: Mapping[str, Any] = record.get("fields", {})
        roles = self.table.roles

        def text(role: str) -> str:
            info = roles.get(role)
            return "" if info is None else cell_text(cells.get(info.id))

        status = text("status") or None
        if shared is not None and status is not None:
            status = shared.setdefault(status, status)
        due = None
        if "due" in roles:
            due = canonical_due(cells.get(roles["due"].id), roles["due"].type)
        labels = NO_LABELS
        if "labels" in roles:
            raw = cells.get(roles["labels"].id)
            labels = frozenset(str(x) for x in raw) if isinstance(raw, list) and raw else NO_LABELS
        lead = Lead(
            LeadId(record["id"]), text("name"), text("email"), status, text("source"), due=due, labels=labels
        )
        extra = tuple((label, cell_text(cells.get(info.id))) for label, info in self.table.extra_block)
        title = "" if self.title == DEFAULT_TITLE else self._title(lead)
        if extra or title:
            lead = replace(lead, extra=extra, title=title)
        return lead

    def _title(self, lead: Lead) -> str:
        values = {
            "name": lead.name,
            "email": lead.email,
            "status": lead.status or "",
            "source": lead.source,
            "due": lead.due or "",
            "labels": ", ".join(sorted(lead.labels)),
        }
        return self.title.format_map(values)

    def cells(self, changes: LeadChanges) -> dict[str, Any]:
        """The record fields, by id, that write ``changes``."""
        roles = self.table.roles
        out: dict[str, Any] = {}
        if changes.status is not None:
            out[roles["status"].id] = changes.status
        if changes.due is not KEEP and "due" in roles:
            out[roles["due"].id] = changes.due
        if changes.labels is not None and "labels" in roles:
            out[roles["labels"].id] = sorted(changes.labels)
        return out
