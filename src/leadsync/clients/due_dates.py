"""Due dates between the two APIs: an Airtable date or date-time field and a Trello card's ``due``.

Airtable answers a date field as ``2026-12-03`` and a date-time field as an ISO 8601 time in UTC
(https://airtable.com/developers/web/api/field-model#dateonly, #dateandtime); Trello's ``due`` is
always a UTC time (https://developer.atlassian.com/cloud/trello/guides/rest-api/object-definitions/).
Both are brought to one form per flow, the Airtable field's, before planning: a date, or a time to
the millisecond ending in ``Z``. A date written to Trello becomes noon UTC of that day, which is the
same calendar day in every time zone from UTC-11 to UTC+11.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

__all__ = ["DATE", "DATE_TIME", "canonical_due", "due_for_trello"]

DATE = "date"
"""The Airtable field type holding a calendar date."""

DATE_TIME = "dateTime"
"""The Airtable field type holding a moment."""


def _moment(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def canonical_due(raw: object, field_type: str) -> str | None:
    """``raw`` (either API's due value, or None) in the form of a ``field_type`` field; None when
    empty or unreadable."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    try:
        if field_type == DATE:
            if len(text) == 10:
                return date.fromisoformat(text).isoformat()
            return _moment(text).date().isoformat()
        moment = _moment(text + "T00:00:00Z" if len(text) == 10 else text)
    except ValueError:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def due_for_trello(value: str | None, field_type: str) -> str | None:
    """A canonical due value as Trello's ``due`` (a date at noon UTC); None clears it."""
    if value is None:
        return None
    if field_type == DATE:
        return f"{value}T12:00:00.000Z"
    return value
