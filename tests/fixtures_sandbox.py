"""Sandbox fixtures: a fresh emulator served on loopback for each test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from leadsync.sandbox import BackgroundServer, SandboxState, start


@dataclass
class RunningSandbox:
    """A sandbox served on a free loopback port, with its state and printed settings."""

    server: BackgroundServer
    state: SandboxState

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def settings(self) -> dict[str, str]:
        return self.state.settings()

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call a ``/_sandbox`` control endpoint and return its JSON."""
        response = httpx.request(method, f"{self.url}/_sandbox{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The request log: method, path, status, api and which identity made each request."""
        result: list[dict[str, Any]] = self.control("GET", f"/requests?since={since}")["requests"]
        return result

    def fault(
        self,
        path_prefix: str,
        *,
        method: str = "*",
        action: str = "status",
        count: int = 1,
        status: int = 503,
        **extra: Any,
    ) -> None:
        self.control(
            "POST",
            "/faults",
            json={
                "path_prefix": path_prefix,
                "method": method,
                "action": action,
                "count": count,
                "status": status,
                **extra,
            },
        )


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    """A fresh sandbox with the documented rate limits on."""
    server, state = start(seed=7)
    try:
        yield RunningSandbox(server, state)
    finally:
        server.stop()
