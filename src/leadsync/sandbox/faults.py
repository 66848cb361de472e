"""Injected faults: rules that make the next matching API requests misbehave."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FAULT_ACTIONS", "FaultRule"]

FAULT_ACTIONS = ("status", "hang", "drop", "lost_response")


@dataclass
class FaultRule:
    """The next ``count`` requests matching ``method`` and ``path_prefix`` misbehave.

    ``action``: ``status`` (answer ``status`` with ``body``), ``hang`` (sleep ``hang_seconds``, then
    drop the connection, the request not applied), ``drop`` (drop the connection, not applied) or
    ``lost_response`` (apply the request, then drop the connection before the response).
    """

    method: str
    path_prefix: str
    action: str = "status"
    count: int = 1
    status: int = 503
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hang_seconds: float = 30.0

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule still applies to a request with ``method`` on ``path``."""
        return self.count > 0 and self.method in ("*", method) and path.startswith(self.path_prefix)
