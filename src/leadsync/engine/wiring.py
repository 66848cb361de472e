"""The HTTP client, the shared rate-limit pacers and both API clients, built from the settings.

The HTTP client is injected from outside when given (tests hand it a transport to the sandbox;
production uses the real hosts), and so is the store.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from leadsync.clients.airtable import AirtableClient
from leadsync.clients.http import ApiHttp, RequestCounter, RetryRules
from leadsync.clients.pacing import Pacer
from leadsync.clients.trello import TrelloClient
from leadsync.config import FlowConfig
from leadsync.settings import Settings
from leadsync.store import Store

__all__ = ["AIRTABLE_PENALTY", "StorePacer", "Wiring", "new_http_client"]

AIRTABLE_PENALTY = 30.0  # seconds Airtable refuses requests after a 429


class StorePacer(Pacer):
    """A :class:`Pacer` whose window lives in the state store, so that every process on the store
    (``serve``, ``poll``, a one-off ``sync``) shares one budget per base and per token, and a 429 seen
    by one holds them all back."""

    def __init__(self, store: Store, key: str, limit: int, window: float) -> None:
        """``limit`` requests per ``window`` seconds for everyone on ``store`` under ``key``."""
        super().__init__(limit, window)
        self.store = store
        self.key = key

    def acquire(self) -> float:
        """Wait for a slot in this process's window, then in the store's; return the seconds waited."""
        # This process's own reservation queue first: one thread per freed slot reaches the store, instead
        # of every waiting thread polling it.
        waited = super().acquire()
        while (wait := self.store.take_rate_slot(self.key, self.limit, self.window)) > 0:
            wait = min(wait, 0.5)  # look again soon: another process may release its pause
            time.sleep(wait)
            waited += wait
        return waited

    def pause(self, seconds: float) -> None:
        """Hold every process back for ``seconds``, unless our own requests already fill the window."""
        if self.store.rate_slots_in_use(self.key, self.window) >= self.limit:
            return  # our own requests (of any process) fill the window: acquire() already waits them out
        self.store.pause_rate(self.key, seconds)

    def penalize(self, seconds: float) -> None:
        """Hold every process back for ``seconds`` (the API punished a 429)."""
        self.store.pause_rate(self.key, seconds)


def new_http_client() -> httpx.Client:
    """The production HTTP client: generous timeouts, and as many connections as writers run."""
    return httpx.Client(
        timeout=httpx.Timeout(30.0, connect=10.0),
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
    )


def _trello_headers(flow: FlowConfig) -> dict[str, str]:
    key = flow.trello_key.get_secret_value()
    token = flow.trello_token.get_secret_value()
    return {"Authorization": f'OAuth oauth_consumer_key="{key}", oauth_token="{token}"'}


@dataclass
class Wiring:
    """Everything that talks to the outside for one Airtable table and one Trello board."""

    http: httpx.Client
    store: Store
    counter: RequestCounter
    airtable_pacer: StorePacer
    trello_pacer: StorePacer
    airtable: AirtableClient
    trello: TrelloClient

    @classmethod
    def build(
        cls,
        settings: Settings,
        flow: FlowConfig,
        *,
        http: httpx.Client | None = None,
        store: Store | None = None,
    ) -> Wiring:
        """Open the store (unless given) and build the pacers and both clients of ``flow``."""
        http = http or new_http_client()
        store = (store or Store.open(settings.LEADSYNC_DATABASE_URL)).for_flow(flow.name)
        counter = RequestCounter()
        scale = settings.LEADSYNC_RATE_LIMIT_SCALE
        token_key = hashlib.sha256(flow.trello_token.get_secret_value().encode()).hexdigest()[:16]
        # The window's margin over the server's absorbs the time between claiming a slot and the request's
        # arrival (a commit, a busy core): 200 ms for Airtable, whose 429 costs a 30 s penalty.
        airtable_pacer = StorePacer(store, f"airtable:{flow.base_id}", max(1, int(5 * scale)), 1.2)
        trello_pacer = StorePacer(store, f"trello:{token_key}", max(1, int(100 * scale)), 10.5)
        airtable = AirtableClient(
            ApiHttp("airtable", http, settings.AIRTABLE_API_URL, pacers=[airtable_pacer],
                    rules=RetryRules(rate_limit_wait=AIRTABLE_PENALTY, timeout=settings.LEADSYNC_MAX_RETRY_SECONDS), counter=counter,
                    headers={"Authorization": f"Bearer {flow.airtable_token.get_secret_value()}"}),
            flow.base_id, flow.table,
        )  # fmt: skip
        trello = TrelloClient(
            ApiHttp("trello", http, settings.TRELLO_API_URL, pacers=[trello_pacer],
                    rules=RetryRules(rate_limit_wait=10.0, timeout=settings.LEADSYNC_MAX_RETRY_SECONDS), counter=counter,
                    headers=_trello_headers(flow), on_response=_remaining_watcher(trello_pacer)),
            flow.board,
        )  # fmt: skip
        return cls(http, store, counter, airtable_pacer, trello_pacer, airtable, trello)

    def close(self) -> None:
        """Close the HTTP client and the store."""
        self.http.close()
        self.store.close()


def _remaining_watcher(pacer: StorePacer) -> Callable[[httpx.Response], None]:
    """Trello says how many requests remain in its window: when none do, wait the window out."""

    def seen(response: httpx.Response) -> None:
        remaining = response.headers.get("x-rate-limit-api-token-remaining")
        interval = response.headers.get("x-rate-limit-api-token-interval-ms")
        if (
            remaining is not None
            and remaining.isdigit()
            and int(remaining) == 0
            and interval
            and interval.isdigit()
        ):
            pacer.pause(int(interval) / 1000)

    return seen
