"""Values in filterByFormula: blank, numbers, text, datetimes and ``#ERROR!``, and how Airtable's
operators coerce between them (used by :mod:`leadsync.sandbox.airtable.formula`).

Truthiness follows the documentation: ``0``, ``false``, ``""``, ``NaN``, ``[]``, blank and errors are false.
Datetimes compare as datetimes (a string on the other side is parsed); numbers as numbers; anything else
as text.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "ERROR",
    "MOMENT_TOKENS",
    "UNITS",
    "arithmetic",
    "as_datetime",
    "compare",
    "iso",
    "number",
    "parse_datetime",
    "parse_with_format",
    "text",
    "truncate",
    "truthy",
]


class _ErrorValue:
    """``#ERROR!``: the result of an operation that has no meaningful value; always false."""

    _instance: _ErrorValue | None = None

    def __new__(cls) -> _ErrorValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "#ERROR!"


ERROR = _ErrorValue()


def truthy(value: Any) -> bool:
    """Airtable's truthiness: 0, false, "", NaN, [], blank and errors are false."""
    if value is None or value is ERROR:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    if isinstance(value, bool | int | float):
        return value != 0
    if isinstance(value, str | list):
        return len(value) > 0
    return True


def text(value: Any) -> str:
    """A value as text, the way ``&`` and text functions see it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, list):
        return ", ".join(text(v) for v in value)
    return str(value)


def number(value: Any) -> float | int | None:
    """The value as a number, or None when it has none (a non-numeric string)."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value.strip()) if value.strip() else 0
        except ValueError:
            return None
    return None


def iso(moment: datetime) -> str:
    """``moment`` as Airtable writes date-times: UTC, to the millisecond, with a ``Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_datetime(raw: str) -> datetime | None:
    """An ISO 8601 date or date-time (``Z``, offsets, or none for UTC) as an aware datetime."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


MOMENT_TOKENS = (
    ("YYYY", "%Y"),
    ("YY", "%y"),
    ("MMMM", "%B"),
    ("MMM", "%b"),
    ("MM", "%m"),
    ("M", "%m"),
    ("DD", "%d"),
    ("D", "%d"),
    ("HH", "%H"),
    ("H", "%H"),
    ("hh", "%I"),
    ("h", "%I"),
    ("mm", "%M"),
    ("m", "%M"),
    ("ss", "%S"),
    ("s", "%S"),
    ("SSS", "%f"),
    ("A", "%p"),
    ("a", "%p"),
    ("ZZ", "%z"),
    ("Z", "%z"),
)


def parse_with_format(raw: str, fmt: str) -> datetime | None:
    """``DATETIME_PARSE(text, format)`` with the common moment.js tokens (and ``X``/``x`` epochs)."""
    if fmt in ("X", "x"):
        try:
            seconds = float(raw) / (1 if fmt == "X" else 1000)
        except ValueError:
            return None
        return datetime.fromtimestamp(seconds, tz=UTC)
    out: list[str] = []
    i = 0
    while i < len(fmt):
        if fmt[i] == "[":
            end = fmt.find("]", i)
            literal = fmt[i + 1 : end] if end != -1 else fmt[i + 1 :]
            out.append(literal.replace("%", "%%"))
            i = end + 1 if end != -1 else len(fmt)
            continue
        token = next((t for t in MOMENT_TOKENS if fmt.startswith(t[0], i)), None)
        if token is None:
            out.append("%%" if fmt[i] == "%" else fmt[i])
            i += 1
        else:
            out.append(token[1])
            i += len(token[0])
    try:
        moment = datetime.strptime(raw.strip(), "".join(out))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def as_datetime(value: Any) -> datetime | None:
    """A value as a datetime, or None when it is not one (nor a date string)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return parse_datetime(value)
    return None


UNITS = {
    "millisecond": "ms",
    "ms": "ms",
    "second": "s",
    "s": "s",
    "minute": "m",
    "m": "m",
    "hour": "h",
    "h": "h",
    "day": "d",
    "d": "d",
    "week": "w",
    "w": "w",
    "month": "M",
    "M": "M",
    "quarter": "Q",
    "Q": "Q",
    "year": "y",
    "y": "y",
}


def truncate(moment: datetime, unit: str) -> datetime:
    """``moment`` cut down to the start of its ``unit`` (``day``, ``month``...)."""
    moment = moment.astimezone(UTC)
    if unit == "ms":
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    steps = ("s", "m", "h", "d", "M", "y")
    if unit == "w":
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return day - timedelta(days=(day.weekday() + 1) % 7)  # weeks start on Sunday
    if unit == "Q":
        return moment.replace(
            month=(moment.month - 1) // 3 * 3 + 1, day=1, hour=0, minute=0, second=0, microsecond=0
        )
    level = steps.index(unit)
    moment = moment.replace(microsecond=0)
    if level >= 1:
        moment = moment.replace(second=0)
    if level >= 2:
        moment = moment.replace(minute=0)
    if level >= 3:
        moment = moment.replace(hour=0)
    if level >= 4:
        moment = moment.replace(day=1)
    if level >= 5:
        moment = moment.replace(month=1)
    return moment


def compare(op: str, left: Any, right: Any) -> Any:
    """``left op right`` for a comparison operator, with Airtable's coercions."""
    if left is ERROR or right is ERROR:
        return ERROR
    a: Any
    b: Any
    if isinstance(left, datetime) or isinstance(right, datetime):
        a, b = as_datetime(left), as_datetime(right)
        if a is None or b is None:
            # A blank or unparseable side: only (in)equality has an answer.
            same = a is None and b is None
            return same if op == "=" else (not same if op == "!=" else False)
    elif isinstance(left, int | float) or isinstance(right, int | float):
        a, b = number(left), number(right)
        if a is None or b is None:
            a, b = text(left), text(right)
    else:
        a, b = text(left), text(right)
    if op == "=":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == ">":
        return bool(a > b)
    if op == "<=":
        return bool(a <= b)
    return bool(a >= b)


def arithmetic(op: str, left: Any, right: Any) -> Any:
    """``left op right`` for an arithmetic or ``&`` operator, with Airtable's coercions."""
    if left is ERROR or right is ERROR:
        return ERROR
    a, b = number(left), number(right)
    if a is None or b is None:
        return ERROR
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        return ERROR
    return a / b
