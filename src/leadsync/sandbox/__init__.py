"""A faithful local emulator of the Airtable and Trello APIs (``leadsync sandbox``)."""

from __future__ import annotations

from leadsync.sandbox.app import create_app
from leadsync.sandbox.faults import FaultRule
from leadsync.sandbox.identities import Identity
from leadsync.sandbox.server import BackgroundServer
from leadsync.sandbox.state import SandboxState
from leadsync.sandbox.transport import SandboxTransport

__all__ = [
    "BackgroundServer",
    "FaultRule",
    "Identity",
    "SandboxState",
    "SandboxTransport",
    "create_app",
    "start",
]


def start(
    *,
    seed: int | None = None,
    rate_scale: float = 1.0,
    latency_ms: float = 0.0,
    host: str = "127.0.0.1",
    port: int = 0,
    empty: bool = False,
) -> tuple[BackgroundServer, SandboxState]:
    """Serve a fresh sandbox on loopback in a background thread; returns the server and its state.
    ``empty``: a base without the Leads table and a board without lists (what ``leadsync init`` sets up)."""
    state = SandboxState(seed=seed, rate_scale=rate_scale, latency_ms=latency_ms, empty=empty)
    server = BackgroundServer(create_app(state), host=host, port=port).start()
    state.base_url = server.url
    return server, state
