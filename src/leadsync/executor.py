"""Applies a plan in a crash-safe order and says what happened.

Store-only operations first (links, conflicts, base updates), then the API writes: card creates
(an intent recorded before each, the pair stored with it removed in one transaction after the
card exists), card updates, and lead status writes batched 10 to a request. The base advances
only after a write is confirmed, so a crash at any point leaves a store the next cycle can trust:
an interrupted create is found again by its ``Lead ID`` line and adopted, never duplicated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from leadsync.clients.airtable import AirtableClient
from leadsync.clients.trello import TrelloClient
from leadsync.errors import LeadsyncError
from leadsync.models import Base, LeadId
from leadsync.planner import (
    CreateCard,
    LinkCard,
    Plan,
    RecordConflict,
    Report,
    ResolveConflict,
    UpdateBase,
    UpdateCard,
    WriteLeadStatus,
)
from leadsync.store import ConflictRecord, Store

log = logging.getLogger("leadsync.executor")

Progress = Callable[[int], None]
"""Called with the number of writes just finished."""


@dataclass
class Outcome:
    """What a cycle did, for the summary: counts, and a line per failure and per report."""

    created: int = 0
    moved: int = 0
    updated: int = 0
    archived: int = 0
    conflicts: int = 0
    skipped: int = 0
    errors: int = 0
    failures: list[str] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)

    def fail(self, what: str, exc: Exception) -> None:
        self.errors += 1
        message = f"{what}: {exc}"
        self.failures.append(message)
        log.error("%s", message)


class Executor:
    def __init__(
        self,
        store: Store,
        airtable: AirtableClient,
        trello: TrelloClient,
        *,
        workers: int = 4,
        progress: Progress | None = None,
    ) -> None:
        self.store = store
        self.airtable = airtable
        self.trello = trello
        self.workers = workers
        self.progress = progress or (lambda _: None)

    def apply(self, plan: Plan) -> Outcome:
        out = Outcome(reports=list(plan.reports))
        out.skipped = len(plan.reports)
        for report in plan.reports:
            log.info("%s: %s (lead %s, card %s)", report.kind, report.reason, report.lead_id, report.card_id)

        for op in plan.ops:
            if isinstance(op, LinkCard):
                self._guard(out, f"link card {op.base.card_id} to lead {op.base.lead_id}", self._link, op)
        for op in plan.ops:
            if isinstance(op, RecordConflict):
                self._guard(out, f"record conflict on lead {op.lead_id}", self._conflict, op, out)
            elif isinstance(op, ResolveConflict):
                self._guard(out, f"resolve conflict on lead {op.lead_id}", self._resolve, op)
        for op in plan.ops:
            if isinstance(op, UpdateBase):
                what = f"update base of lead {op.lead_id}"
                self._guard(out, what, self._advance, op.lead_id, op.updates, "base", op.reason)

        creates = [op for op in plan.ops if isinstance(op, CreateCard)]
        updates = [op for op in plan.ops if isinstance(op, UpdateCard)]
        self._parallel(creates, lambda op: self._create(op, out))
        self._parallel(updates, lambda op: self._update(op, out))
        self._write_statuses([op for op in plan.ops if isinstance(op, WriteLeadStatus)], out)
        return out

    # ---- operations -------------------------------------------------------------------------------
    def _create(self, op: CreateCard, out: Outcome) -> None:
        try:
            self.store.record_intent(op.lead_id)
            card = self.trello.create_card(op.list_id, op.name, op.desc)
        except LeadsyncError as exc:
            # The intent stays: if the card was made after all, the next full read adopts it.
            out.fail(f"create card for lead {op.lead_id}", exc)
            return
        finally:
            self.progress(1)
        try:
            self.store.complete_create(replace(op.base, card_id=card.id), detail=f"in list {op.list_id}")
            out.created += 1
        except LeadsyncError as exc:
            out.fail(f"store new card {card.id} of lead {op.lead_id}", exc)

    def _update(self, op: UpdateCard, out: Outcome) -> None:
        try:
            self.trello.update_card(op.card_id, op.changes)
            self._advance(
                op.lead_id,
                op.base_updates,
                "+".join(sorted(op.kinds)) or "updated",
                f"{op.reason}: {', '.join(sorted(op.changes))}",
            )
        except LeadsyncError as exc:
            out.fail(f"update card {op.card_id} of lead {op.lead_id}", exc)
            return
        finally:
            self.progress(1)
        out.moved += "moved" in op.kinds
        out.updated += "updated" in op.kinds
        out.archived += "archived" in op.kinds

    def _write_statuses(self, ops: list[WriteLeadStatus], out: Outcome) -> None:
        by_lead = {op.lead_id: op for op in ops}
        results = self.airtable.update_statuses([(op.lead_id, op.status) for op in ops])
        for ids, error in results:
            self.progress(len(ids))
            for lead_id in ids:
                op = by_lead[lead_id]
                if error is not None:
                    out.fail(f"write Status {op.status!r} to lead {lead_id}", error)
                    continue
                try:
                    self._advance(lead_id, op.base_updates, "status", f"{op.reason}: Status -> {op.status}")
                    out.updated += 1
                except LeadsyncError as exc:
                    out.fail(f"store status of lead {lead_id}", exc)

    def _link(self, op: LinkCard) -> None:
        self.store.link(op.base, reason=op.reason)

    def _resolve(self, op: ResolveConflict) -> None:
        self.store.resolve_conflict(op.lead_id, op.resolution)

    def _conflict(self, op: RecordConflict, out: Outcome) -> None:
        now = datetime.now(UTC)
        resolution = None if op.winner is None else f"{op.policy}: kept {op.winner.value}"
        record = ConflictRecord(
            op.lead_id,
            op.card_id,
            op.base_status,
            op.airtable_status,
            op.trello_status,
            op.policy,
            now,
            now if op.winner else None,
            resolution,
        )
        if self.store.record_conflict(record):
            out.conflicts += 1
            self.store.log(
                "conflict",
                lead_id=op.lead_id,
                card_id=op.card_id,
                detail=f"Airtable {op.airtable_status!r} vs Trello {op.trello_status!r}: "
                f"{resolution or 'left for a person (leadsync conflicts resolve)'}",
            )

    def _advance(self, lead_id: LeadId, updates: dict[str, Any], action: str, detail: str) -> None:
        current = self.store.get_pair(lead_id)
        if current is None:
            raise LeadsyncError(f"lead {lead_id} is no longer linked")
        new: Base = replace(current, **updates)
        self.store.set_base(new, action=action, detail=detail)

    # ---- helpers ----------------------------------------------------------------------------------
    def _guard(self, out: Outcome, what: str, fn: Callable[..., object], *args: Any) -> None:
        try:
            fn(*args)
        except LeadsyncError as exc:
            out.fail(what, exc)

    def _parallel(self, ops: Sequence[Any], fn: Callable[[Any], None]) -> None:
        if len(ops) <= 1 or self.workers <= 1:
            for op in ops:
                fn(op)
            return
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="leadsync-write") as pool:
            list(pool.map(fn, ops))
