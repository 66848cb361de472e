"""One sync cycle: read both sides, plan against the base, execute, record.

The engine wires the clients and the store from :class:`~leadsync.settings.Settings`, with the HTTP
client injected from outside (tests hand it a transport to the sandbox; production uses the real hosts).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from leadsync.clients.airtable import AirtableClient
from leadsync.clients.http import ApiHttp, RequestCounter, RetryRules
from leadsync.clients.pacing import Pacer
from leadsync.clients.trello import TrelloClient
from leadsync.errors import ApiError, ConfigError, ReadFailed
from leadsync.executor import Executor, Outcome, Progress
from leadsync.models import Card, CardId, Lead, LeadId, ListId, Mapping, Side
from leadsync.planner import Plan, Report, Snapshot, plan, status_conflicts
from leadsync.settings import ConflictPolicy, Settings
from leadsync.store import Store

log = logging.getLogger("leadsync.engine")

AIRTABLE_PENALTY = 30.0  # seconds Airtable refuses requests after a 429


@dataclass
class CycleResult:
    """The summary of PRODUCT.md section 6, plus what a person needs to read."""

    outcome: Outcome
    api_calls: dict[str, dict[str, int]]
    rate_limited: dict[str, int]
    plan: Plan
    dry_run: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        o = self.outcome
        return {
            "created": o.created, "moved": o.moved, "updated": o.updated, "archived": o.archived,
            "conflicts": o.conflicts, "skipped": o.skipped, "errors": o.errors,
            "api_calls": self.api_calls, "rate_limited": self.rate_limited, "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            "failures": o.failures,
            "reports": [{"kind": r.kind, "reason": r.reason, "lead_id": r.lead_id, "card_id": r.card_id}
                        for r in o.reports],
        }  # fmt: skip


def _trello_headers(settings: Settings) -> dict[str, str]:
    key = settings.TRELLO_API_KEY.get_secret_value()
    token = settings.TRELLO_TOKEN.get_secret_value()
    return {"Authorization": f'OAuth oauth_consumer_key="{key}", oauth_token="{token}"'}


class Engine:
    """Clients, store and mapping for one Airtable table and one Trello board."""

    def __init__(
        self, settings: Settings, *, http: httpx.Client | None = None, store: Store | None = None
    ) -> None:
        self.settings = settings
        self.http = http or httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))
        self.store = store or Store.open(settings.LEADSYNC_DATABASE_URL)
        self.counter = RequestCounter()
        scale = settings.LEADSYNC_RATE_LIMIT_SCALE
        self.airtable_pacer = Pacer(max(1, int(5 * scale)), 1.05)
        self.trello_pacer = Pacer(max(1, int(100 * scale)), 10.5)
        self.airtable = AirtableClient(
            ApiHttp("airtable", self.http, settings.AIRTABLE_API_URL, pacers=[self.airtable_pacer],
                    rules=RetryRules(rate_limit_wait=AIRTABLE_PENALTY, timeout=settings.LEADSYNC_MAX_RETRY_SECONDS), counter=self.counter,
                    headers={"Authorization": f"Bearer {settings.AIRTABLE_API_KEY.get_secret_value()}"}),
            settings.AIRTABLE_BASE_ID, settings.AIRTABLE_LEADS_TABLE_NAME,
        )  # fmt: skip
        self.trello = TrelloClient(
            ApiHttp("trello", self.http, settings.TRELLO_API_URL, pacers=[self.trello_pacer],
                    rules=RetryRules(rate_limit_wait=10.0, timeout=settings.LEADSYNC_MAX_RETRY_SECONDS), counter=self.counter,
                    headers=_trello_headers(settings), on_response=self._trello_headers_seen),
            settings.TRELLO_BOARD_ID,
        )  # fmt: skip
        self._mapping: Mapping | None = None

    def close(self) -> None:
        self.http.close()
        self.store.close()

    def _trello_headers_seen(self, response: httpx.Response) -> None:
        """Trello says how many requests remain in its window: when none do, wait the window out."""
        remaining = response.headers.get("x-rate-limit-api-token-remaining")
        interval = response.headers.get("x-rate-limit-api-token-interval-ms")
        if (
            remaining is not None
            and remaining.isdigit()
            and int(remaining) == 0
            and interval
            and interval.isdigit()
        ):
            self.trello_pacer.pause(int(interval) / 1000)

    # ---- mapping ----------------------------------------------------------------------------------
    def mapping(self) -> Mapping:
        """Status -> list id: from TRELLO_LIST_IDS, else by list name on the board (read once)."""
        if self._mapping is None:
            if self.settings.TRELLO_LIST_IDS:
                self._mapping = Mapping({k: ListId(v) for k, v in self.settings.TRELLO_LIST_IDS.items()})
            else:
                try:
                    lists = {row["name"]: ListId(row["id"]) for row in self.trello.lists()}
                except ApiError as exc:
                    raise ReadFailed("Trello lists", exc) from exc
                wanted = self.settings.list_names
                missing = [name for name in wanted.values() if name not in lists]
                if missing:
                    raise ConfigError(
                        "TRELLO_LIST_IDS",
                        f"the board has no list named {', '.join(map(repr, missing))}",
                        "Create the lists on the board, or give TRELLO_LIST_IDS as JSON of status to list id",
                    )
                self._mapping = Mapping({status: lists[name] for status, name in wanted.items()})
        return self._mapping

    # ---- the cycle --------------------------------------------------------------------------------
    def read(self) -> Snapshot:
        """Both sides in full. A failed read raises :class:`ReadFailed`: never an empty side."""
        try:
            leads = self.airtable.all_leads()
        except ApiError as exc:
            raise ReadFailed("Airtable", exc) from exc
        try:
            cards = self.trello.cards()
        except ApiError as exc:
            raise ReadFailed("Trello", exc) from exc
        return Snapshot(leads, cards)

    def latest_winners(self, snapshot: Snapshot, mapping: Mapping) -> dict[LeadId, Side]:
        """For each status conflict, the side whose change is the later by each API's own timestamp:
        Trello's ``updateCard`` action that moved the card, Airtable's ``LAST_MODIFIED_TIME({Status})``."""
        conflicts = status_conflicts(snapshot, self.store.pairs(), mapping)
        if not conflicts:
            return {}
        moves = self._card_move_times({c.card_id for c in conflicts}, snapshot.cards)
        times = {c.lead_id: moves[c.card_id] for c in conflicts}
        try:
            airtable_later = self.airtable.status_changed_after(times)
        except ApiError as exc:
            raise ReadFailed("Airtable (status change times)", exc) from exc
        return {lid: Side.AIRTABLE if lid in airtable_later else Side.TRELLO for lid in times}

    def _card_move_times(
        self, card_ids: set[CardId], cards: dict[CardId, Card] | Any
    ) -> dict[CardId, datetime]:
        since = self.store.get_cursor("trello.conflict_since")
        try:
            actions = self.trello.actions(since=since, filter_="updateCard:idList,createCard")
        except ApiError as exc:
            raise ReadFailed("Trello actions", exc) from exc
        out: dict[CardId, datetime] = {}
        for action in actions:  # newest first: the first seen per card is its latest move
            cid = action.get("data", {}).get("card", {}).get("id")
            if cid in card_ids and cid not in out:
                out[CardId(cid)] = datetime.fromisoformat(action["date"].replace("Z", "+00:00"))
        for cid in card_ids - out.keys():
            out[cid] = cards[cid].created_at if cid in cards else datetime.now(UTC)
        return out

    def run_cycle(
        self,
        *,
        full: bool = True,
        dry_run: bool = False,
        progress: Callable[[int], Progress] | None = None,
        lock_wait: float = 60.0,
    ) -> CycleResult:
        """One two-way cycle under the store's lock (one cycle at a time, across processes)."""
        started = time.monotonic()
        with self.store.lock("cycle", wait=lock_wait):
            cycle_id = None if dry_run else self.store.start_cycle("full" if full else "incremental")
            ok = False
            result: CycleResult | None = None
            try:
                result = self._cycle(dry_run, progress)
                result.seconds = time.monotonic() - started
                ok = result.outcome.errors == 0
                return result
            finally:
                if cycle_id is not None:
                    summary: dict[str, object] = result.as_json() if result else {"error": "cycle stopped"}
                    summary.pop("reports", None)
                    self.store.finish_cycle(cycle_id, summary, ok)

    def _cycle(self, dry_run: bool, progress: Callable[[int], Progress] | None) -> CycleResult:
        cycle_started = datetime.now(UTC)
        mapping = self.mapping()
        snapshot = self.read()
        policy = self.settings.LEADSYNC_CONFLICT_POLICY
        winners = self.latest_winners(snapshot, mapping) if policy is ConflictPolicy.LATEST else {}
        the_plan = plan(
            snapshot, self.store.pairs(), mapping, policy,
            intents=self.store.intents(),
            open_conflicts={c.lead_id for c in self.store.open_conflicts()},
            winners=winners,
        )  # fmt: skip
        if dry_run:
            outcome = Outcome(reports=list(the_plan.reports), skipped=len(the_plan.reports))
            return CycleResult(
                outcome, self.counter.summary(), dict(self.counter.rate_limited), the_plan, True
            )
        executor = Executor(
            self.store,
            self.airtable,
            self.trello,
            progress=progress(len(the_plan.writes)) if progress else None,
        )
        outcome = executor.apply(the_plan)
        # Trello actions before this cycle never matter again for "latest": keep the next query short.
        self.store.set_cursor("trello.conflict_since", (cycle_started - timedelta(minutes=5)).isoformat())
        return CycleResult(outcome, self.counter.summary(), dict(self.counter.rate_limited), the_plan)


def describe(op_or_report: object) -> str:
    """One line for a planned operation or report, for ``--dry-run`` and logs."""
    if isinstance(op_or_report, Report):
        return f"{op_or_report.kind}: {op_or_report.reason} (lead {op_or_report.lead_id}, card {op_or_report.card_id})"
    return repr(op_or_report)


__all__ = ["CycleResult", "Engine", "Lead", "describe"]
