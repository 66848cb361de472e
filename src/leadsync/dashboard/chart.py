"""The overview's 24-hour chart, drawn on the server as inline SVG (no script, no library).

Four rows of 24 hourly bars share one time axis: cycles run, writes made (cards created, moved,
updated or archived, and lead statuses written), 429 answers, and failed records. Each row is scaled
to its own largest hour, which is printed beside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape

from leadsync.store import CycleRecord

__all__ = ["HOURS", "SERIES", "HourlyCounts", "hourly_counts", "svg"]

HOURS = 24
SERIES = (("cycles", "cycles", "#4c6ef5"), ("writes", "writes", "#2f9e44"),
          ("limited", "429s", "#f08c00"), ("errors", "errors", "#e03131"))  # fmt: skip
_WRITES = ("created", "moved", "updated", "archived")


@dataclass
class HourlyCounts:
    """Per-hour counts of the last 24 hours, oldest hour first; ``start`` is the first hour's start."""

    start: datetime
    cycles: list[int] = field(default_factory=lambda: [0] * HOURS)
    writes: list[int] = field(default_factory=lambda: [0] * HOURS)
    limited: list[int] = field(default_factory=lambda: [0] * HOURS)
    errors: list[int] = field(default_factory=lambda: [0] * HOURS)


def _number(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def hourly_counts(cycles: Iterable[CycleRecord], now: datetime) -> HourlyCounts:
    """Bucket cycles by the hour they started in, over the 24 hours ending with ``now``'s hour."""
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS - 1)
    counts = HourlyCounts(start)
    for cycle in cycles:
        hour = int((cycle.started_at - start).total_seconds() // 3600)
        if not 0 <= hour < HOURS:
            continue
        summary = cycle.summary
        counts.cycles[hour] += 1
        counts.writes[hour] += sum(_number(summary.get(k)) for k in _WRITES)
        limited = summary.get("rate_limited")
        if isinstance(limited, dict):
            counts.limited[hour] += sum(_number(v) for v in limited.values())
        errors = _number(summary.get("errors"))
        counts.errors[hour] += errors or (1 if cycle.ok is False else 0)
    return counts


def svg(counts: HourlyCounts) -> str:
    """The chart as an SVG element (every text in it escaped)."""
    bar, gap, label_w, row_h, pad = 10, 2, 64, 34, 16
    width = label_w + HOURS * (bar + gap) + 40
    height = len(SERIES) * row_h + pad + 4
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Cycles, writes, 429s and errors per hour, last 24 hours" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    for row, (attr, label, colour) in enumerate(SERIES):
        values: list[int] = getattr(counts, attr)
        top, peak = row * row_h + 4, max(values)
        base = top + row_h - 10
        parts.append(f'<text x="0" y="{base - 8}" class="chart-label">{escape(label)}</text>')
        parts.append(f'<text x="{width - 36}" y="{base - 8}" class="chart-peak">max {peak}</text>')
        parts.append(
            f'<line x1="{label_w}" y1="{base}" x2="{label_w + HOURS * (bar + gap)}" y2="{base}" '
            f'stroke="#ced4da" stroke-width="1"/>'
        )
        for hour, value in enumerate(values):
            if value <= 0:
                continue
            h = max(1.0, (row_h - 14) * value / peak)
            x = label_w + hour * (bar + gap)
            hour_label = (counts.start + timedelta(hours=hour)).strftime("%H:00")
            parts.append(
                f'<rect x="{x}" y="{base - h:.1f}" width="{bar}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(hour_label)} UTC: {value} {escape(label)}</title></rect>"
            )
    axis_y = len(SERIES) * row_h + pad - 4
    for hour in range(0, HOURS, 6):
        x = label_w + hour * (bar + gap)
        text = (counts.start + timedelta(hours=hour)).strftime("%H:00")
        parts.append(f'<text x="{x}" y="{axis_y}" class="chart-axis">{text}</text>')
    parts.append("</svg>")
    return "".join(parts)
