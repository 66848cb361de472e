"""Applies a plan in a crash-safe order and says what happened.

Store-only operations first (links, conflicts, base updates), then the API writes: card creates
(the intents of all of them recorded in one transaction before the first request; each pair stored,
its intent removed, in batches after the cards exist, see :mod:`leadsync.created_cards`), card
updates, and lead status writes batched 10 to a request. The base advances only after a write is
confirmed, so a crash at any point leaves a store the next cycle can trust:
an interrupted create is found again by its ``Lead ID`` line and adopted, never duplicated.

The two APIs' limits are independent, so the Trello writes and the Airtable writes run side by
side, each with as many requests in flight as its rate limit and latency call for
(:func:`~leadsync.adaptive_pool.run_adaptive` over :meth:`~leadsync.clients.http.ApiHttp.in_flight`;
a little under the limit for Airtable, whose 429 costs 30 s); the pacers keep each under its limit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from leadsync.adaptive_pool import run_adaptive
from leadsync.board_labels import LabelBook
from leadsync.clients.airtable import BATCH, AirtableClient
from leadsync.clients.due_dates import DATE, due_for_trello
from leadsync.clients.trello import TrelloClient
from leadsync.core import (
    KEEP,
    BaseUpdate,
    CardChanges,
    CreateCard,
    LeadId,
    LinkCard,
    Plan,
    RecordConflict,
    Report,
    ResolveConflict,
    UpdateBase,
    UpdateCard,
    WriteKind,
    WriteLead,
)
from leadsync.created_cards import CreatedCardWriter
from leadsync.errors import LeadsyncError, StoreError
from leadsync.store import CompletedCreate, Store
from leadsync.write_lines import card_change_words, write_line

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
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def fail(self, what: str, exc: Exception) -> None:
        """Count and log one record's failure."""
        message = f"{what}: {exc}"
        with self._lock:
            self.errors += 1
            self.failures.append(message)
        log.error("%s", message)

    def count(self, **done: int) -> None:
        """Add to the counts (writers finish on several threads at once)."""
        with self._lock:
            for name, n in done.items():
                setattr(self, name, getattr(self, name) + n)


def trello_fields(
    changes: CardChanges, due_type: str = DATE, labels: LabelBook | None = None
) -> dict[str, Any]:
    """A card update as Trello's card fields (``idList``, ``name``, ``desc``, ``closed``, ``due``,
    ``idLabels``: the card's labels less those removed, plus those added, each option's board label
    found or created by ``labels``)."""
    named = {"idList": changes.list_id, "name": changes.title, "desc": changes.description}
    fields: dict[str, Any] = {name: value for name, value in named.items() if value is not None}
    if changes.closed is not None:
        fields["closed"] = changes.closed
    if changes.due is not KEEP:
        fields["due"] = due_for_trello(changes.due, due_type)
    if labels is not None and (changes.add_labels or changes.remove_labels):
        removed = set(labels.ids_for(changes.remove_labels)) if changes.remove_labels else set()
        kept = [lid for lid in sorted(changes.card_label_ids) if lid not in removed]
        added = [lid for lid in labels.ids_for(changes.add_labels) if lid not in kept]
        fields["idLabels"] = ",".join(kept + added)
    return fields


class Executor:
    """Applies plans against the store and both APIs."""

    def __init__(
        self,
        store: Store,
        airtable: AirtableClient,
        trello: TrelloClient,
        *,
        workers: int | None = None,
        progress: Progress | None = None,
        labels: LabelBook | None = None,
        list_names: Mapping[str, str] | None = None,
        lead_names: Mapping[str, str] | None = None,
    ) -> None:
        """``workers``: requests in flight per API; by default what each API's limit and latency need.
        ``labels``: the flow's board labels, when it maps a labels field. ``list_names`` and ``lead_names``
        (by id) put names in the activity log and the ``-v`` log."""
        self.list_names = list_names or {}
        self.lead_names = lead_names or {}
        self.store = store
        self.airtable = airtable
        self.trello = trello
        self.labels = labels
        self.workers = workers
        self.progress = progress or (lambda _: None)
        self._base_lock = threading.Lock()  # one base is advanced by a card write and a lead write

    def apply(self, plan: Plan) -> Outcome:
        """Carry out a settled plan: store-only operations first, then the API writes."""
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

        lead_writes = [op for op in plan.ops if isinstance(op, WriteLead)]
        batches = [lead_writes[i : i + BATCH] for i in range(0, len(lead_writes), BATCH)]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="leadsync-airtable") as beside:
            airtable_done = beside.submit(
                run_adaptive,
                batches,
                lambda batch: self._write_leads(batch, out),
                self.airtable.in_flight,
                workers=self.workers,
                thread_name_prefix="leadsync-airtable-write",
            )
            self._write_cards(plan, out)
            airtable_done.result()
        return out

    def _write_cards(self, plan: Plan, out: Outcome) -> None:
        """Card creates and updates, in the plan's order. Every create's intent is recorded, all in one
        transaction, before the first request; the new pairs are stored in batches as they finish."""
        card_writes = [op for op in plan.ops if isinstance(op, CreateCard | UpdateCard)]
        creates = [op for op in card_writes if isinstance(op, CreateCard)]
        try:
            self.store.record_intents(op.lead_id for op in creates)
        except LeadsyncError as exc:
            for op in creates:
                out.fail(f"create card for lead {op.lead_id}", exc)
            self.progress(len(creates))
            card_writes = [op for op in card_writes if isinstance(op, UpdateCard)]

        def stored(created: CompletedCreate, refused: str | None) -> None:
            if refused is None:
                out.count(created=1)
            else:
                what = f"store new card {created.base.card_id} of lead {created.base.lead_id}"
                out.fail(what, StoreError(refused))

        with CreatedCardWriter(self.store, stored) as writer:
            run_adaptive(
                card_writes,
                lambda op: (
                    self._create(op, out, writer) if isinstance(op, CreateCard) else self._update(op, out)
                ),
                self.trello.http.in_flight,
                workers=self.workers,
            )

    # ---- operations -------------------------------------------------------------------------------
    def _create(self, op: CreateCard, out: Outcome, writer: CreatedCardWriter) -> None:
        try:
            card = self.trello.create_card(op.list_id, op.name, op.desc, self._create_extra(op))
        except LeadsyncError as exc:
            # The intent stays: if the card was made after all, the next full read adopts it.
            out.fail(f"create card for lead {op.lead_id}", exc)
            return
        finally:
            self.progress(1)
        log.info("created %s", write_line(op, self.lead_names.get(op.lead_id, ""), self.list_names)["what"])
        where = self.list_names.get(op.list_id, op.list_id)
        writer.add(
            CompletedCreate(replace(op.base, card_id=card.id), detail=f"card created in list {where!r}")
        )

    def _create_extra(self, op: CreateCard) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if op.due is not None:
            extra["due"] = due_for_trello(op.due, self.trello.due_type)
        if op.labels and self.labels is not None:
            extra["idLabels"] = ",".join(self.labels.ids_for(op.labels))
        return extra

    def _update(self, op: UpdateCard, out: Outcome) -> None:
        try:
            fields = trello_fields(op.changes, self.trello.due_type, self.labels)
            self.trello.update_card(op.card_id, fields)
            self._advance(
                op.lead_id,
                op.base_updates,
                "+".join(sorted(op.kinds)) or "updated",
                f"{op.reason}: card {card_change_words(op.changes, self.list_names)}",
            )
            log.info("%s %s", "+".join(sorted(op.kinds)) or "updated", self._line(op))
        except LeadsyncError as exc:
            out.fail(f"update card {op.card_id} of lead {op.lead_id}", exc)
            return
        finally:
            self.progress(1)
        out.count(
            moved=WriteKind.MOVED in op.kinds,
            updated=WriteKind.UPDATED in op.kinds,
            archived=WriteKind.ARCHIVED in op.kinds,
        )

    def _write_leads(self, ops: list[WriteLead], out: Outcome) -> None:
        by_lead = {op.lead_id: op for op in ops}
        results = self.airtable.update_leads([(op.lead_id, self._cells(op)) for op in ops])
        for ids, error in results:
            self.progress(len(ids))
            for lead_id in ids:
                op = by_lead[lead_id]
                what = _lead_write_text(op)
                if error is not None:
                    out.fail(f"write {what} to lead {lead_id}", error)
                    continue
                try:
                    action = "status" if op.changes.names() == ["status"] else "lead"
                    self._advance(lead_id, op.base_updates, action, f"{op.reason}: {what}")
                    log.info("wrote %s", self._line(op))
                    out.count(updated=1)
                except LeadsyncError as exc:
                    out.fail(f"store status of lead {lead_id}", exc)

    def _cells(self, op: WriteLead) -> dict[str, Any]:
        codec = self.airtable.codec
        if codec is None:  # the engine resolves the table before every cycle's plan
            raise LeadsyncError("the Leads table was not resolved before writing to it")
        return codec.cells(op.changes)

    def _link(self, op: LinkCard) -> None:
        self.store.link(op.base, reason=op.reason)

    def _resolve(self, op: ResolveConflict) -> None:
        self.store.resolve_conflict(op.lead_id, op.resolution, field=op.field)

    def _conflict(self, op: RecordConflict, out: Outcome) -> None:
        now = datetime.now(UTC)
        conflict = replace(op.conflict, detected_at=now, resolved_at=now if op.conflict.resolution else None)
        if self.store.record_conflict(conflict):
            out.count(conflicts=1)
            self.store.log(
                "conflict",
                lead_id=conflict.lead_id,
                card_id=conflict.card_id,
                detail=f"Airtable {conflict.airtable_status!r} vs Trello {conflict.trello_status!r}: "
                f"{conflict.resolution or 'left for a person (leadsync conflicts resolve)'}",
            )

    def _advance(self, lead_id: LeadId, updates: BaseUpdate, action: str, detail: str) -> None:
        with self._base_lock:
            current = self.store.get_pair(lead_id)
            if current is None:
                raise LeadsyncError(f"lead {lead_id} is no longer linked")
            self.store.set_base(updates.applied_to(current), action=action, detail=detail)

    # ---- helpers ----------------------------------------------------------------------------------
    def _line(self, op: UpdateCard | WriteLead) -> str:
        return write_line(op, self.lead_names.get(op.lead_id, ""), self.list_names)["what"]

    def _guard(self, out: Outcome, what: str, fn: Callable[..., object], *args: Any) -> None:
        try:
            fn(*args)
        except LeadsyncError as exc:
            out.fail(what, exc)


def _lead_write_text(op: WriteLead) -> str:
    """``Status -> QUALIFIED, due -> 2026-12-03`` for the log and the journal."""
    parts = []
    if op.changes.status is not None:
        parts.append(f"Status -> {op.changes.status}")
    if op.changes.due is not KEEP:
        parts.append(f"due -> {op.changes.due or '(none)'}")
    if op.changes.labels is not None:
        parts.append(f"labels -> {', '.join(sorted(op.changes.labels)) or '(none)'}")
    return ", ".join(parts)


__all__ = ["Executor", "Outcome", "Progress", "trello_fields"]
