"""The one exception tree of leadsync.

    LeadsyncError
    ├── ConfigError            a setting is missing or malformed (exit code 2)
    ├── ReadFailed             a side could not be read; the cycle stops before any write (exit code 3)
    ├── StoreError             the state store refused an operation (constraint, lock)
    │   └── LockBusy           another process holds the cycle lock
    └── ApiError               an HTTP exchange with Airtable or Trello failed
        ├── TransportFailed    no response: timeout, refused or dropped connection
        │   ├── Unreachable    nothing listens at the address (refused, unknown host): retried briefly
        │   └── OutcomeUnknown the request may have been applied: a write whose response was lost
        ├── BadRequest         400/413/422: the request itself is wrong; never retried
        ├── Unauthorized       401/403: credentials or permissions
        ├── NotFound           404, and Trello's 400 "invalid id"
        ├── RateLimited        429, with the server's retry_after when it gave one
        └── ServerError        5xx

Every ApiError carries the API name, method, path (never the query string, which holds
Trello credentials), status, the response body and, for 429/503, retry_after in seconds.
No httpx exception leaves a client: clients wrap them into this tree.
"""

from __future__ import annotations

__all__ = [
    "ApiError",
    "BadRequest",
    "ConfigError",
    "LeadsyncError",
    "LockBusy",
    "NotFound",
    "OutcomeUnknown",
    "RateLimited",
    "ReadFailed",
    "ServerError",
    "StoreError",
    "TransportFailed",
    "Unauthorized",
    "Unreachable",
]


class LeadsyncError(Exception):
    """Base of every error leadsync raises on purpose."""


class ConfigError(LeadsyncError, ValueError):
    """A setting is missing or malformed; the message names the variable and the fix."""

    def __init__(self, variable: str, problem: str, fix: str) -> None:
        self.variable = variable
        self.problem = problem
        self.fix = fix
        super().__init__(f"{variable}: {problem}. {fix}")


class ReadFailed(LeadsyncError):
    """A side could not be read completely, so the cycle wrote nothing."""

    def __init__(self, side: str, cause: Exception) -> None:
        self.side = side
        self.cause = cause
        super().__init__(f"could not read {side}: {cause}")


class StoreError(LeadsyncError):
    """The state store refused an operation."""


class LockBusy(StoreError):
    """Another process holds the sync lock for this pair of trackers."""


class ApiError(LeadsyncError):
    """An HTTP exchange with one of the APIs failed."""

    def __init__(
        self,
        api: str,
        method: str,
        path: str,
        status: int | None = None,
        body: str = "",
        retry_after: float | None = None,
        message: str | None = None,
    ) -> None:
        self.api = api
        self.method = method
        self.path = path
        self.status = status
        self.body = body
        self.retry_after = retry_after
        detail = message or (body[:300] if body else "")
        where = f"{api} {method} {path}"
        status_text = f" -> {status}" if status is not None else ""
        super().__init__(f"{where}{status_text}: {detail}".rstrip(": "))


class TransportFailed(ApiError):
    """No usable response arrived (timeout, refused or dropped connection)."""


class Unreachable(TransportFailed):
    """The connection itself failed (refused, unknown host): nothing listens, so waiting long is pointless."""


class OutcomeUnknown(TransportFailed):
    """A non-idempotent write got no response: it may or may not have been applied."""


class BadRequest(ApiError, ValueError):
    """The API rejected the request as malformed or invalid (400, 413, 422)."""


class Unauthorized(ApiError, PermissionError):
    """The API rejected the credentials or their permissions (401, 403)."""


class NotFound(ApiError, KeyError):
    """The addressed object does not exist (404, or Trello's 400 ``invalid id``)."""

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return Exception.__str__(self)


class RateLimited(ApiError):
    """The API answered 429."""


class ServerError(ApiError):
    """The API answered 5xx."""
