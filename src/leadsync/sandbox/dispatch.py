"""Outgoing HTTP from the sandbox: webhook deliveries with retries, and Trello's HEAD check."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["DeliveryOutcome", "DeliveryRecord", "Dispatcher"]

DeliveryOutcome = Callable[[int | None, bool], bool]
"""Called after each attempt with the status (None: no response) and whether it was the last
attempt allowed; returns True to stop retrying (delivered, or the receiver said go away)."""


@dataclass
class DeliveryRecord:
    """One delivery attempt: where to, which attempt, and the status or the error."""

    api: str
    url: str
    attempt: int
    status: int | None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The attempt as ``GET /_sandbox/deliveries`` lists it."""
        return {
            "api": self.api,
            "url": self.url,
            "attempt": self.attempt,
            "status": self.status,
            "error": self.error,
        }


@dataclass
class Dispatcher:
    """Sends webhook requests on the server's event loop and records every attempt.

    ``duplicate_probability`` sends a delivery twice; ``reorder_max_ms`` delays each delivery by a
    random amount up to that, so deliveries can arrive out of order (both exercise idempotency).
    """

    timeout: float = 10.0
    duplicate_probability: float = 0.0
    reorder_max_ms: float = 0.0
    records: list[DeliveryRecord] = field(default_factory=list)
    pending: int = 0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    rng: random.Random = field(default_factory=random.Random)

    async def head(self, url: str) -> int | None:
        """The status of a HEAD request to ``url``, or None without a response."""
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                return (await client.head(url)).status_code
        except httpx.HTTPError:
            return None

    def post(
        self,
        api: str,
        url: str,
        body: bytes,
        headers: dict[str, str],
        retry_delays: Sequence[float],
        outcome: DeliveryOutcome,
    ) -> None:
        """Schedule a POST of exactly ``body``; retried after each delay until ``outcome`` says stop."""
        copies = 2 if self.rng.random() < self.duplicate_probability else 1
        for _ in range(copies):
            task = asyncio.get_running_loop().create_task(
                self._deliver(api, url, body, headers, list(retry_delays), outcome)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self,
        api: str,
        url: str,
        body: bytes,
        headers: dict[str, str],
        retry_delays: list[float],
        outcome: DeliveryOutcome,
    ) -> None:
        self.pending += 1
        try:
            if self.reorder_max_ms > 0:
                await asyncio.sleep(self.rng.uniform(0, self.reorder_max_ms) / 1000)
            attempt = 0
            while True:
                attempt += 1
                status: int | None = None
                error: str | None = None
                try:
                    async with httpx.AsyncClient(timeout=self.timeout) as client:
                        resp = await client.post(url, content=body, headers=headers)
                        status = resp.status_code
                except httpx.HTTPError as exc:
                    error = type(exc).__name__
                self.records.append(DeliveryRecord(api, url, attempt, status, error))
                last = attempt > len(retry_delays)
                if outcome(status, last) or last:
                    return
                await asyncio.sleep(retry_delays[attempt - 1])
        finally:
            self.pending -= 1

    async def aclose(self) -> None:
        """Cancel every delivery still under way."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
