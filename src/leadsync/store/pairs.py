"""Linked pairs (the merge base of each lead and its card) and create intents.

Crash safety (invariants I4, I6): before an API create call the engine records an *intent* for the lead;
:meth:`PairStore.complete_create` then inserts the pair, deletes the intent and logs the activity in one
transaction. An intent left behind by a crash tells the next cycle to look for an adoptable card
(one carrying ``Lead ID:``) before creating anything.

The batch forms (:meth:`PairStore.record_intents`, :meth:`PairStore.complete_creates`) do the same for
many rows in one transaction: all completed creates at once when none is refused, else each in a
savepoint, so a row that would link a lead or a card twice is refused on its own while the others
are kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from leadsync.core import NO_LABELS, CardId, LeadId, MergeBase
from leadsync.errors import StoreError
from leadsync.store.connection import StoreConnection, describe, now
from leadsync.store.journal import activity_values
from leadsync.store.schema import activity, intents, pairs

__all__ = ["CompletedCreate", "PairStore"]


@dataclass(frozen=True, slots=True)
class CompletedCreate:
    """A card the executor created for a lead: the pair's first base, and the activity's detail."""

    base: MergeBase
    detail: str = ""


def _extra_from(raw: str | None) -> tuple[tuple[str, str], ...]:
    return tuple((str(label), str(value)) for label, value in json.loads(raw)) if raw else ()


def _labels_from(raw: str | None) -> frozenset[str]:
    return frozenset(str(option) for option in json.loads(raw)) if raw else NO_LABELS


def _base_from_row(row: Row[Any]) -> MergeBase:
    return MergeBase(
        lead_id=LeadId(row.lead_id),
        card_id=CardId(row.card_id),
        status=row.status,
        name=row.name,
        email=row.email,
        source=row.source,
        card_closed=bool(row.card_closed),
        lead_deleted=bool(row.lead_deleted),
        card_deleted=bool(row.card_deleted),
        title=row.title or "",
        extra=_extra_from(row.extra),
        due=row.due,
        labels=_labels_from(row.labels),
    )


def _base_values(base: MergeBase) -> dict[str, object]:
    return {
        "card_id": base.card_id,
        "status": base.status,
        "name": base.name,
        "email": base.email,
        "source": base.source,
        "card_closed": base.card_closed,
        "lead_deleted": base.lead_deleted,
        "card_deleted": base.card_deleted,
        "updated_at": now(),
        "title": base.title or None,
        "extra": json.dumps([list(line) for line in base.extra]) if base.extra else None,
        "due": base.due,
        "labels": json.dumps(sorted(base.labels)) if base.labels else None,
    }


class PairStore(StoreConnection):
    """Reading and writing linked pairs and the create intents that guard card creation."""

    def pairs(self) -> dict[LeadId, MergeBase]:
        """Every linked pair's base, by lead."""
        with self._read("read the linked pairs") as conn:
            rows = conn.execute(
                select(pairs).where(pairs.c.flow == self.flow).order_by(pairs.c.lead_id)
            ).all()
        return {LeadId(row.lead_id): _base_from_row(row) for row in rows}

    def get_pair(self, lead_id: LeadId) -> MergeBase | None:
        """The base of the lead's pair, or None if the lead is not linked."""
        with self._read(f"read the pair of lead {lead_id}") as conn:
            row = conn.execute(
                select(pairs).where(pairs.c.flow == self.flow, pairs.c.lead_id == lead_id)
            ).first()
        return None if row is None else _base_from_row(row)

    def pair_by_card(self, card_id: CardId) -> MergeBase | None:
        """The base of the card's pair, or None if the card is not linked."""
        with self._read(f"read the pair of card {card_id}") as conn:
            row = conn.execute(
                select(pairs).where(pairs.c.flow == self.flow, pairs.c.card_id == card_id)
            ).first()
        return None if row is None else _base_from_row(row)

    def _insert_pair(self, conn: Connection, base: MergeBase) -> None:
        """Insert a pair, refusing (StoreError) if the lead or the card is linked already."""
        lead_row = conn.execute(select(pairs.c.card_id).where(pairs.c.lead_id == base.lead_id)).first()
        if lead_row is not None:
            raise StoreError(f"lead {base.lead_id} is already linked to card {lead_row.card_id}")
        card_row = conn.execute(select(pairs.c.lead_id).where(pairs.c.card_id == base.card_id)).first()
        if card_row is not None:
            raise StoreError(f"card {base.card_id} is already linked to lead {card_row.lead_id}")
        # A concurrent writer can still win the race on PostgreSQL: the constraints then refuse the
        # row and _tx turns the IntegrityError into a StoreError.
        conn.execute(insert(pairs).values(flow=self.flow, lead_id=base.lead_id, **_base_values(base)))

    def link(self, base: MergeBase, *, reason: str) -> None:
        """Record a new pair (adoption of an existing card, or a recovered create), and clear the lead's
        create intent with it: a linked lead has its card, so no create is pending any more."""
        with self._tx(f"link lead {base.lead_id} to card {base.card_id}") as conn:
            self._insert_pair(conn, base)
            conn.execute(
                delete(intents).where(intents.c.flow == self.flow, intents.c.lead_id == base.lead_id)
            )
            conn.execute(
                insert(activity).values(
                    activity_values(self.flow, "linked", base.lead_id, base.card_id, reason)
                )
            )

    def set_base(self, base: MergeBase, *, action: str | None = None, detail: str = "") -> None:
        """Advance the merge base of an existing pair; its card must stay the same."""
        with self._tx(f"update the base of lead {base.lead_id}") as conn:
            result = conn.execute(
                update(pairs)
                .where(
                    pairs.c.flow == self.flow,
                    pairs.c.lead_id == base.lead_id,
                    pairs.c.card_id == base.card_id,
                )
                .values(_base_values(base))
            )
            if result.rowcount != 1:
                stored = conn.execute(
                    select(pairs.c.card_id).where(pairs.c.flow == self.flow, pairs.c.lead_id == base.lead_id)
                ).first()
                if stored is None:
                    raise StoreError(f"lead {base.lead_id} is not linked; link it before setting its base")
                raise StoreError(
                    f"lead {base.lead_id} is linked to card {stored.card_id}, not {base.card_id}; "
                    "unlink it first to change its card"
                )
            if action is not None:
                conn.execute(
                    insert(activity).values(
                        activity_values(self.flow, action, base.lead_id, base.card_id, detail)
                    )
                )

    def unlink(self, lead_id: LeadId, *, reason: str) -> None:
        """Forget the lead's pair (its card is free to be linked again) and log why."""
        with self._tx(f"unlink lead {lead_id}") as conn:
            row = conn.execute(
                delete(pairs)
                .where(pairs.c.flow == self.flow, pairs.c.lead_id == lead_id)
                .returning(pairs.c.card_id)
            ).first()
            if row is None:
                raise StoreError(f"lead {lead_id} is not linked")
            conn.execute(
                insert(activity).values(activity_values(self.flow, "unlinked", lead_id, row.card_id, reason))
            )

    def record_intent(self, lead_id: LeadId) -> None:
        """Note that a card is about to be created for ``lead_id`` (idempotent)."""
        self.record_intents([lead_id])

    def record_intents(self, lead_ids: Iterable[LeadId]) -> None:
        """Note, in one transaction, that a card is about to be created for each lead (idempotent)."""
        wanted = list(dict.fromkeys(lead_ids))
        if not wanted:
            return
        with self._tx(f"record create intents for {len(wanted)} leads") as conn:
            recorded_at = now()
            for lead_id in wanted:
                conn.execute(
                    self._insert_ignoring_conflict(
                        intents,
                        {"flow": self.flow, "lead_id": lead_id, "recorded_at": recorded_at},
                        index_elements=["lead_id"],
                    )
                )

    def intents(self) -> set[LeadId]:
        """The leads whose card creation was announced and not yet completed or cleared."""
        with self._read("read the create intents") as conn:
            return {
                LeadId(v)
                for v in conn.execute(select(intents.c.lead_id).where(intents.c.flow == self.flow)).scalars()
            }

    def clear_intent(self, lead_id: LeadId) -> None:
        """Forget the lead's create intent (idempotent)."""
        with self._tx(f"clear the create intent of lead {lead_id}") as conn:
            conn.execute(delete(intents).where(intents.c.flow == self.flow, intents.c.lead_id == lead_id))

    def complete_create(self, base: MergeBase, *, detail: str = "") -> None:
        """In ONE transaction: insert the new pair, delete its intent, log ``created``."""
        with self._tx(f"record the card {base.card_id} created for lead {base.lead_id}") as conn:
            self._complete_one(conn, base, detail)

    def complete_creates(self, created: Sequence[CompletedCreate]) -> dict[LeadId, str]:
        """:meth:`complete_create` for many cards in one transaction.

        A row that would link a lead or a card twice is refused alone (its intent stays, for the next
        cycle to recover from); the others are kept. Returns the refused leads, each with the reason.
        """
        refused: dict[LeadId, str] = {}
        if not created:
            return refused
        with self._tx(f"record {len(created)} created cards") as conn:
            try:
                with conn.begin_nested():
                    self._complete_all(conn, created)
                return refused
            except (StoreError, SQLAlchemyError):
                pass  # some row is refused: find which, one savepoint per row
            for item in created:
                try:
                    with conn.begin_nested():
                        self._complete_one(conn, item.base, item.detail)
                except StoreError as exc:
                    refused[item.base.lead_id] = str(exc)
                except SQLAlchemyError as exc:  # a concurrent writer won the race: the constraints refused it
                    refused[item.base.lead_id] = describe(exc)
        return refused

    def _complete_all(self, conn: Connection, created: Sequence[CompletedCreate]) -> None:
        """Every row at once (the usual case: none is refused), in a handful of statements."""
        lead_ids = [item.base.lead_id for item in created]
        card_ids = [item.base.card_id for item in created]
        if len(set(lead_ids)) < len(lead_ids) or len(set(card_ids)) < len(card_ids):
            raise StoreError("a lead or a card twice in one batch")
        linked = conn.execute(
            select(pairs.c.lead_id).where(or_(pairs.c.lead_id.in_(lead_ids), pairs.c.card_id.in_(card_ids)))
        ).first()
        if linked is not None:
            raise StoreError(f"lead {linked.lead_id} or its card is already linked")
        conn.execute(
            insert(pairs),
            [
                {"flow": self.flow, "lead_id": item.base.lead_id, **_base_values(item.base)}
                for item in created
            ],
        )
        conn.execute(delete(intents).where(intents.c.flow == self.flow, intents.c.lead_id.in_(lead_ids)))
        conn.execute(
            insert(activity),
            [
                activity_values(self.flow, "created", item.base.lead_id, item.base.card_id, item.detail)
                for item in created
            ],
        )

    def _complete_one(self, conn: Connection, base: MergeBase, detail: str) -> None:
        self._insert_pair(conn, base)
        conn.execute(delete(intents).where(intents.c.flow == self.flow, intents.c.lead_id == base.lead_id))
        conn.execute(
            insert(activity).values(activity_values(self.flow, "created", base.lead_id, base.card_id, detail))
        )
