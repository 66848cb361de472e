"""What a plan asks for: typed operations for the executor, reports for the person, and the pairs
whose status conflict waits on the ``latest`` timestamps (unsettled)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from enum import Enum, StrEnum
from typing import Any

from leadsync.core.conflicts import Conflict
from leadsync.core.values import Card, CardId, Lead, LeadId, ListId, MergeBase

__all__ = [
    "KEEP",
    "BaseUpdate",
    "CardChanges",
    "CreateCard",
    "CycleMode",
    "Keep",
    "LeadChanges",
    "LinkCard",
    "Op",
    "PairState",
    "Plan",
    "RecordConflict",
    "Report",
    "ReportKind",
    "ResolveConflict",
    "Unsettled",
    "UpdateBase",
    "UpdateCard",
    "WriteKind",
    "WriteLead",
]


class WriteKind(StrEnum):
    """What a card update does, as the cycle's summary counts it."""

    MOVED = "moved"
    UPDATED = "updated"
    ARCHIVED = "archived"


class ReportKind(StrEnum):
    """What a report tells the person."""

    SKIPPED = "skipped"
    DUPLICATE = "duplicate"


class CycleMode(StrEnum):
    """How a cycle read the sides."""

    FULL = "full"
    INCREMENTAL = "incremental"
    TARGETED = "targeted"


class Keep(Enum):
    """The marker of a base field an update leaves as it is (a status may be set to None)."""

    KEEP = "keep"


KEEP = Keep.KEEP
"""The value of a field that leaves it as it is where None is a value (a status or a due date unset)."""


@dataclass(frozen=True, slots=True)
class CardChanges:
    """The card fields one update writes (None or :data:`KEEP`: left as it is).

    ``due`` None removes the due date; ``add_labels``/``remove_labels`` are options of the labels
    field, whose board labels the executor finds (or creates once).
    """

    list_id: ListId | None = None
    title: str | None = None
    description: str | None = None
    closed: bool | None = None
    due: str | Keep | None = KEEP
    add_labels: frozenset[str] = frozenset()
    remove_labels: frozenset[str] = frozenset()
    card_label_ids: frozenset[str] = frozenset()  # the card's labels as read, kept but for those removed

    def names(self) -> list[str]:
        """The changed fields' names, sorted."""
        out = [n for n in ("list_id", "title", "description", "closed") if getattr(self, n) is not None]
        if self.due is not KEEP:
            out.append("due")
        if self.add_labels or self.remove_labels:
            out.append("labels")
        return sorted(out)


@dataclass(frozen=True, slots=True)
class LeadChanges:
    """The lead fields one write sets (None or :data:`KEEP`: left as it is; ``due`` None clears it)."""

    status: str | None = None
    due: str | Keep | None = KEEP
    labels: frozenset[str] | None = None

    def names(self) -> list[str]:
        """The roles written, in a fixed order."""
        out = ["status"] if self.status is not None else []
        if self.due is not KEEP:
            out.append("due")
        if self.labels is not None:
            out.append("labels")
        return out


@dataclass(frozen=True, slots=True)
class BaseUpdate:
    """Fields of a merge base to change (None, or :data:`KEEP` for the status: left as it is)."""

    status: str | Keep | None = KEEP
    name: str | None = None
    email: str | None = None
    source: str | None = None
    card_closed: bool | None = None
    lead_deleted: bool | None = None
    card_deleted: bool | None = None
    title: str | None = None
    extra: tuple[tuple[str, str], ...] | None = None
    due: str | Keep | None = KEEP
    labels: frozenset[str] | None = None

    def applied_to(self, base: MergeBase) -> MergeBase:
        """``base`` with these changes."""
        return replace(base, **_set_fields(self)) if self else base

    def then(self, later: BaseUpdate) -> BaseUpdate:
        """This update followed by ``later`` (``later`` wins where both set a field)."""
        if not later:
            return self
        return replace(self, **_set_fields(later)) if self else later

    def __bool__(self) -> bool:
        # Spelled out: this runs for every pair of every cycle.
        return (
            self.status is not KEEP
            or self.name is not None
            or self.email is not None
            or self.source is not None
            or self.card_closed is not None
            or self.lead_deleted is not None
            or self.card_deleted is not None
            or self.title is not None
            or self.extra is not None
            or self.due is not KEEP
            or self.labels is not None
        )


_BASE_UPDATE_FIELDS = tuple(f.name for f in fields(BaseUpdate))
_NONE_IS_A_VALUE = frozenset({"status", "due"})


def _set_fields(update: BaseUpdate) -> dict[str, Any]:
    """The fields ``update`` sets, by name."""
    changed: dict[str, Any] = {}
    for name in _BASE_UPDATE_FIELDS:
        value = getattr(update, name)
        if value is not KEEP and (value is not None or name in _NONE_IS_A_VALUE):
            changed[name] = value
    return changed


@dataclass(frozen=True, slots=True)
class CreateCard:
    """Make a card for a lead that has none."""

    lead_id: LeadId
    list_id: ListId
    name: str
    desc: str
    base: MergeBase  # the base to store once the card exists (its card_id filled in then)
    due: str | None = None
    labels: frozenset[str] = frozenset()  # options of the labels field, as board labels on the card


@dataclass(frozen=True, slots=True)
class UpdateCard:
    """Write to a linked card, then advance its base."""

    lead_id: LeadId
    card_id: CardId
    changes: CardChanges
    base_updates: BaseUpdate  # applied to the base once the write is confirmed
    kinds: frozenset[WriteKind] = frozenset()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class WriteLead:
    """Write to a linked lead's two-way fields (status, due, labels), then advance its base."""

    lead_id: LeadId
    changes: LeadChanges
    base_updates: BaseUpdate
    reason: str = ""

    @property
    def status(self) -> str | None:
        """The status written, if any."""
        return self.changes.status


@dataclass(frozen=True, slots=True)
class LinkCard:
    """Adopt an existing card that claims an unlinked lead."""

    base: MergeBase
    reason: str


@dataclass(frozen=True, slots=True)
class UpdateBase:
    """A store-only change of the base (no API write)."""

    lead_id: LeadId
    updates: BaseUpdate
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RecordConflict:
    """Record a status conflict and the policy's choice."""

    conflict: Conflict

    @property
    def lead_id(self) -> LeadId:
        """The conflicting lead."""
        return self.conflict.lead_id


@dataclass(frozen=True, slots=True)
class ResolveConflict:
    """An open conflict that resolved itself: both sides now agree."""

    lead_id: LeadId
    resolution: str
    field: str = "status"


@dataclass(frozen=True, slots=True)
class Report:
    """Something a person should know that changes nothing: skipped or duplicate objects."""

    kind: ReportKind
    reason: str
    lead_id: LeadId | None = None
    card_id: CardId | None = None


Op = CreateCard | UpdateCard | WriteLead | LinkCard | UpdateBase | RecordConflict | ResolveConflict
"""Any operation of a plan."""


@dataclass(frozen=True, slots=True)
class PairState:
    """A linked pair whose presence is settled (both sides live): what its status merge starts from.

    ``base`` is the effective base (with ``pending`` applied); ``pending`` the base changes found so far;
    ``trello_status`` the status the card's list stands for; ``conflict_open`` whether a conflict waits.
    """

    lead: Lead
    card: Card
    base: MergeBase
    pending: BaseUpdate
    trello_status: str | None
    conflict_open: bool
    due_conflict_open: bool = False


@dataclass(frozen=True, slots=True)
class Unsettled:
    """A pair whose status conflict the ``latest`` policy decides by timestamps: its ops are held
    back until :func:`~leadsync.core.planner.settle` knows the later side."""

    conflict: Conflict
    state: PairState


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything one cycle should do."""

    ops: tuple[Op, ...] = ()
    reports: tuple[Report, ...] = ()
    unsettled: tuple[Unsettled, ...] = ()

    @property
    def writes(self) -> tuple[CreateCard | UpdateCard | WriteLead, ...]:
        """The operations that write to an API."""
        return tuple(op for op in self.ops if isinstance(op, CreateCard | UpdateCard | WriteLead))

    def __bool__(self) -> bool:
        return bool(self.ops or self.unsettled)
