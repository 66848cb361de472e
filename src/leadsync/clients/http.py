"""The HTTP layer both clients share: pacing, retries of transient failures only, errors wrapped into
leadsync's tree, and a count of every request by API and kind.

Retries are reported by leadsync itself: the first retry of an outage is one WARNING naming the API, the
method, the path (never a credential) and the error; later retries are INFO (429s, already reported, are
DEBUG) until the API answers again. stamina's own bare ``stamina.retry_scheduled`` lines are replaced.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpx
import stamina
from stamina.instrumentation import RetryDetails, set_on_retry_hooks

from leadsync.clients.pacing import Pacer
from leadsync.errors import (
    ApiError,
    BadRequest,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    ServerError,
    TransportFailed,
    Unauthorized,
    Unreachable,
)

__all__ = ["ApiHttp", "RequestCounter", "RetryRules", "report_retry"]

log = logging.getLogger("leadsync.http")

# Errors raised before the request left this machine: safe to retry even for a create.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass
class RequestCounter:
    """Requests by API and kind (read/write), and the 429s received. Thread-safe."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    rate_limited: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, api: str, kind: str) -> None:
        """Count one request of ``kind`` (``read`` or ``write``) to ``api``."""
        with self._lock:
            per_api = self.counts.setdefault(api, {"read": 0, "write": 0})
            per_api[kind] += 1

    def add_429(self, api: str) -> None:
        """Count one 429 answer from ``api``."""
        with self._lock:
            self.rate_limited[api] = self.rate_limited.get(api, 0) + 1

    def summary(self) -> dict[str, dict[str, int]]:
        """Reads and writes per API, both APIs always present (a copy, safe to keep)."""
        with self._lock:
            return {
                api: dict(self.counts.get(api, {"read": 0, "write": 0})) for api in ("airtable", "trello")
            }

    def writes(self) -> int:
        """Write requests to both APIs together."""
        return sum(c["write"] for c in self.summary().values())


@dataclass(frozen=True)
class RetryRules:
    """When and how long to retry. ``rate_limit_wait``: seconds to wait after a 429 without Retry-After.

    A connection that could not even be opened (refused, unknown host) is retried only
    ``unreachable_retries`` times, ``unreachable_wait`` seconds apart: nothing listens there, and a
    server that is restarting is back within that time or not soon."""

    rate_limit_wait: float
    attempts: int = 6
    timeout: float = 180.0
    wait_initial: float = 0.5
    wait_max: float = 10.0
    unreachable_retries: int = 2
    unreachable_wait: float = 0.5


# The ApiHttp whose request is being retried in this thread: stamina's retry hooks are global and only
# see the exception, so this tells the hook which API's outage state to update.
_retrying: ContextVar[ApiHttp | None] = ContextVar("leadsync_http_retrying", default=None)


def report_retry(details: RetryDetails) -> None:
    """stamina's retry hook for the whole process: a retry of an :class:`ApiHttp` request is reported by
    that API (see the module's docstring); any other retry is a DEBUG line."""
    http = _retrying.get()
    if http is None:
        log.debug("retrying %s (attempt %d) after %r", details.name, details.retry_num, details.caused_by)
        return
    http.report_retry(details.caused_by, details.retry_num, details.wait_for)


set_on_retry_hooks([report_retry])


class ApiHttp:
    """One API's requests: ``request()`` paces, sends, retries what is safe to retry, and raises
    only :class:`~leadsync.errors.ApiError` subclasses."""

    def __init__(
        self,
        api: str,
        client: httpx.Client,
        base_url: str,
        *,
        pacers: list[Pacer],
        rules: RetryRules,
        counter: RequestCounter,
        headers: dict[str, str] | None = None,
        on_response: Callable[[httpx.Response], None] | None = None,
    ) -> None:
        self.api = api
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.pacers = pacers
        self.rules = rules
        self.counter = counter
        self._headers = headers or {}
        self._on_response = on_response
        self.latency: float | None = None
        """A moving average of the seconds a response takes (None before the first): how many requests
        must be in flight to reach the rate limit."""
        self._outage = False  # a retry was reported at WARNING and no response has arrived since
        self._outage_lock = threading.Lock()

    def report_retry(self, error: Exception, retry: int, wait: float) -> None:
        """Log a scheduled retry: WARNING for the first of an outage, INFO after it (DEBUG for a 429,
        which :meth:`_error` already reported)."""
        if isinstance(error, RateLimited):
            log.debug("%s: retry %d in %.1f s after %s", self.api, retry, wait, error)
            return
        with self._outage_lock:
            first, self._outage = not self._outage, True
        if first and isinstance(error, Unreachable):
            log.warning(
                "retrying %s (nothing answers at %s; giving up after %d quick retries)",
                error,
                self.base_url,
                self.rules.unreachable_retries,
            )
        elif first:
            log.warning("retrying %s", error)
        else:
            log.info("%s: retry %d in %.1f s after %s", self.api, retry, wait, error)

    def _answered(self) -> None:
        with self._outage_lock:
            recovered, self._outage = self._outage, False
        if recovered:
            log.info("%s answers again", self.api)

    def in_flight(self, *, fill: float = 1.25, least: int = 4, most: int = 64) -> int:
        """How many requests to keep in flight: ``fill`` times the rate limit's worth at the current
        latency (Little's law: rate x latency keeps the limit busy), recomputed as the latency moves.

        The default adds a quarter for the latency's spread, and no more: requests sent together reach
        the server together, a server queues them, and one it counts late can meet, inside the server's
        window, a request sent a whole (client-side) window after it, which is a 429. An API that
        punishes a 429 hard asks for less than 1, to run just under its limit instead of at it.
        """
        rate = min((pacer.rate for pacer in self.pacers), default=0.0)
        latency = self.latency if self.latency is not None else 0.5
        return max(least, min(most, round(fill * rate * latency)))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        json_body: Any = None,
        idempotent: bool = True,
        kind: str | None = None,
        object_hook: Callable[[dict[str, Any]], Any] | None = None,
        shown_path: str | None = None,
    ) -> Any:
        """Send one logical request (retried as the rules allow) and return its parsed JSON body.

        ``idempotent=False`` marks a create: it is retried only when it surely did not reach the server
        (refused connection, 429, 503), and a lost response raises :class:`OutcomeUnknown`.
        ``object_hook`` turns each JSON object into a value as it is parsed, so a big listing never
        exists twice in memory, once as dicts and once as values. ``shown_path`` is what errors show
        instead of ``path`` when the path holds a credential (Trello's ``/1/tokens/{token}/...``).
        """
        kind = kind or ("read" if method == "GET" else "write")
        with self._reporting_retries():
            for attempt in stamina.retry_context(
                on=self._retry_hook(idempotent),
                attempts=self.rules.attempts,
                timeout=self.rules.timeout,
                wait_initial=self.rules.wait_initial,
                wait_max=self.rules.wait_max,
            ):
                with attempt:
                    return self._send_once(
                        method, path, params, json_body, idempotent, kind, object_hook, shown_path or path
                    )
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

    @contextmanager
    def _reporting_retries(self) -> Iterator[None]:
        token = _retrying.set(self)
        try:
            yield
        finally:
            _retrying.reset(token)

    def _retry_hook(self, idempotent: bool) -> Callable[[Exception], bool | float]:
        unreachable = 0  # per logical request: its own count of failed connection attempts

        def hook(exc: Exception) -> bool | float:
            nonlocal unreachable
            if isinstance(exc, Unreachable):
                unreachable += 1
                return self.rules.unreachable_wait if unreachable <= self.rules.unreachable_retries else False
            if isinstance(exc, RateLimited):
                wait = exc.retry_after if exc.retry_after is not None else self.rules.rate_limit_wait
                return wait + random.uniform(0, min(1.0, wait / 10))
            if isinstance(exc, ServerError):
                if exc.status not in (500, 502, 503, 504):
                    return False
                if not idempotent:
                    return False  # a create may have been applied: the executor checks before trying again
                return exc.retry_after if exc.retry_after is not None else True
            if isinstance(exc, OutcomeUnknown):
                return False
            return isinstance(exc, TransportFailed)

        return hook

    def _send_once(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | list[tuple[str, Any]] | None,
        json_body: Any,
        idempotent: bool,
        kind: str,
        object_hook: Callable[[dict[str, Any]], Any] | None = None,
        shown: str = "",
    ) -> Any:
        shown = shown or path
        for pacer in self.pacers:
            pacer.acquire()
        query: list[tuple[str, Any]] = (
            list(params.items()) if isinstance(params, dict) else list(params or [])
        )
        self.counter.add(self.api, kind)
        sent = time.monotonic()
        try:
            response = self.client.request(
                method, self.base_url + path, params=query, json=json_body, headers=self._headers
            )
        except httpx.HTTPError as exc:
            error_type: type[TransportFailed]
            if isinstance(exc, httpx.ConnectError):
                error_type = Unreachable
            elif idempotent or isinstance(exc, _NOT_SENT):
                error_type = TransportFailed
            else:
                error_type = OutcomeUnknown
            message = f"{type(exc).__name__}: {exc}".replace(path, shown)
            raise error_type(self.api, method, shown, message=message) from None
        took = time.monotonic() - sent
        self.latency = took if self.latency is None else 0.8 * self.latency + 0.2 * took
        if self._on_response is not None:
            self._on_response(response)
        if response.status_code >= 400:
            raise self._error(method, shown, response)
        self._answered()
        if not response.content:
            return None
        try:
            return response.json(object_hook=object_hook)
        except json.JSONDecodeError:
            raise ServerError(
                self.api,
                method,
                shown,
                response.status_code,
                response.text[:300],
                message="response is not JSON",
            ) from None

    def _error(self, method: str, path: str, response: httpx.Response) -> ApiError:
        status, body = response.status_code, response.text[:2000]
        retry_after = _retry_after(response)
        args = (self.api, method, path, status, body)
        if status == 429:
            self.counter.add_429(self.api)
            wait = retry_after if retry_after is not None else self.rules.rate_limit_wait
            for pacer in self.pacers:
                pacer.penalize(wait)
            log.warning("%s rate limit reached: waiting %.1f s", self.api, wait)
            return RateLimited(*args, retry_after=retry_after)
        if status in (401, 403):
            return Unauthorized(*args)
        if status == 404 or (status == 400 and body.strip().lower() == "invalid id"):
            return NotFound(*args)
        if status >= 500:
            return ServerError(*args, retry_after=retry_after)
        return BadRequest(*args)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
