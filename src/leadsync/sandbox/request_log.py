"""The request log: one entry per API request (method, path, status, who made it, which fault hit it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

__all__ = ["ENTRY_KEY", "LogEntry", "api_of", "tag_identity"]

ENTRY_KEY = "sandbox.entry"
"""Where the middleware leaves a request's :class:`LogEntry` in the ASGI scope."""


@dataclass
class LogEntry:
    """One API request as the log shows it."""

    seq: int
    method: str
    path: str
    query: str
    api: str
    status: int = 0
    who: str | None = None
    fault: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The entry as ``GET /_sandbox/requests`` lists it."""
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "api": self.api,
            "status": self.status,
            "who": self.who,
            "fault": self.fault,
        }


def api_of(path: str) -> str:
    """Which API a path belongs to: ``airtable`` (``/v0``), ``trello`` (``/1``) or ``other``."""
    return "airtable" if path.startswith("/v0") else "trello" if path.startswith("/1") else "other"


def tag_identity(request: Request, who: str) -> None:
    """Record which identity made the request, for the request log."""
    entry = request.scope.get(ENTRY_KEY)
    if entry is not None:
        entry.who = who
