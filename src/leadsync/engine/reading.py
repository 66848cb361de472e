"""Reading both sides: in full, incrementally (what changed since the cursors), or targeted (named
leads and cards, each with its counterpart); and the choice between them.

Every read runs inside :func:`reading`, which turns an :class:`~leadsync.errors.ApiError` into
:class:`~leadsync.errors.ReadFailed` naming the side, in this one place: a failed read never
passes for an empty side.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from leadsync.clients.airtable import AirtableClient
from leadsync.clients.trello import TrelloClient
from leadsync.config import FlowConfig
from leadsync.core import CardId, CycleMode, Lead, LeadId, ListId, Snapshot, StatusLists, parse_lead_id
from leadsync.errors import ApiError, ConfigError, ReadFailed
from leadsync.settings import Settings
from leadsync.store import Store, SyncStateChanges

__all__ = ["CARD_ACTION_FILTER", "WATERMARK_OVERLAP", "Reader", "reading"]

WATERMARK_OVERLAP = timedelta(seconds=60)  # re-read a minute back: clocks differ, and commits land late
CARD_ACTION_FILTER = "createCard,updateCard,deleteCard,copyCard,moveCardToBoard,moveCardFromBoard"


@contextmanager
def reading(side: str) -> Iterator[None]:
    """Read ``side`` (``"Airtable"``, ``"Trello lists"``...): an API error inside is a ReadFailed."""
    try:
        yield
    except ApiError as exc:
        raise ReadFailed(side, exc) from exc


@dataclass
class Reader:
    """The reads of one Airtable table and one Trello board, with the store's pairs and cursors."""

    settings: Settings
    flow: FlowConfig
    store: Store
    airtable: AirtableClient
    trello: TrelloClient

    def status_lists(self, remembered: Mapping[str, str] | None = None) -> StatusLists:
        """Status -> list id: from TRELLO_LIST_IDS, else by list name on the board; a list renamed since
        it was last found (``remembered``: status -> list id) is still found by its id."""
        if self.flow.list_ids:
            return StatusLists({k: ListId(v) for k, v in self.flow.list_ids.items()})
        with reading("Trello lists"):
            rows = self.trello.lists()
        lists = {row["name"]: ListId(row["id"]) for row in rows}
        ids = {ListId(row["id"]) for row in rows}
        remembered = remembered or {}
        found: dict[str, ListId] = {}
        missing: list[str] = []
        for status, name in self.flow.statuses.items():
            if name in lists:
                found[status] = lists[name]
            elif remembered.get(status) in ids:
                found[status] = ListId(remembered[status])
            else:
                missing.append(name)
        if missing:
            raise ConfigError(
                "TRELLO_LIST_IDS",
                f"the board has no list named {', '.join(map(repr, missing))}",
                "Create the lists on the board, or give TRELLO_LIST_IDS as JSON of status to list id",
            )
        return StatusLists(found)

    def member_id(self) -> str:
        """leadsync's own Trello member (its actions are echoes of its own writes)."""
        cached = self.store.sync_state().trello_member_id
        if cached is None:
            cached = str(self.trello.me()["id"])
            self.store.update_sync_state(trello_member_id=cached)
        return cached

    def choose(self, full: bool) -> tuple[CycleMode, Snapshot, SyncStateChanges]:
        """A full read when asked, when due (LEADSYNC_FULL_SCAN_EVERY), without cursors, or with an
        interrupted create to check; else an incremental one. With the cursors to store after it."""
        state = self.store.sync_state()
        watermark, last_action, last_full = (
            state.airtable_watermark,
            state.trello_last_action,
            state.last_full_scan,
        )
        every = self.settings.LEADSYNC_FULL_SCAN_EVERY
        due = last_full is None or (every > 0 and datetime.now(UTC) - last_full > timedelta(seconds=every))
        if full or due or watermark is None or last_action is None or self.store.intents():
            snapshot, cursors = self.full()
            return CycleMode.FULL, snapshot, cursors
        snapshot, cursors = self.incremental(watermark, last_action)
        return CycleMode.INCREMENTAL, snapshot, cursors

    def full(self) -> tuple[Snapshot, SyncStateChanges]:
        """Both sides in full, and the cursors they bring up to date."""
        started = datetime.now(UTC)
        with reading("Trello"):
            newest_action = self.trello.newest_action_id()
        with reading("Airtable"):
            leads = self.airtable.all_leads()
        with reading("Trello"):
            cards = self.trello.cards()
        cursors: SyncStateChanges = {"airtable_watermark": started, "last_full_scan": started}
        # A board with no action yet: Trello's ``since`` takes a date as well as an action id.
        cursors["trello_last_action"] = newest_action or started.strftime("%Y-%m-%dT%H:%M:%SZ")
        return Snapshot(leads, cards), cursors

    def incremental(self, watermark: datetime, last_action: str) -> tuple[Snapshot, SyncStateChanges]:
        """Leads changed since the watermark (less an overlap) and cards touched by others' actions since
        the last seen one: a constant number of requests when nothing changed."""
        started = datetime.now(UTC)
        with reading("Airtable"):
            changed = self.airtable.changed_since(watermark - WATERMARK_OVERLAP)
        with reading("Trello"):
            actions = self.trello.actions(since=last_action, filter_=CARD_ACTION_FILTER)
            me = self.member_id()
        touched = {
            CardId(cid)
            for action in actions
            if action.get("idMemberCreator") != me
            and (cid := action.get("data", {}).get("card", {}).get("id"))
        }
        snapshot = self.targets(set(changed), touched, prefetched=changed)
        cursors: SyncStateChanges = {"airtable_watermark": started}
        if actions:
            cursors["trello_last_action"] = str(actions[0]["id"])
        return snapshot, cursors

    def targets(
        self, lead_ids: set[LeadId], card_ids: set[CardId], prefetched: dict[LeadId, Lead] | None = None
    ) -> Snapshot:
        """The named leads and cards, with each one's counterpart (by link, or by the card's ``Lead ID``)."""
        pairs = self.store.pairs()
        lead_ids, card_ids = set(lead_ids), set(card_ids)
        card_ids |= {pairs[lid].card_id for lid in lead_ids if lid in pairs}
        with reading("Trello"):
            cards, gone_cards = self.trello.get_cards(card_ids)
        by_card = {b.card_id: lid for lid, b in pairs.items()}
        for card in cards.values():
            if card.id in by_card:
                lead_ids.add(by_card[card.id])
            claimed = parse_lead_id(card.desc)
            if claimed:
                lead_ids.add(claimed)
        for cid in gone_cards:
            if cid in by_card:
                lead_ids.add(by_card[cid])
        leads = dict(prefetched or {})
        with reading("Airtable"):
            leads.update(self.airtable.get_leads(lead_ids - leads.keys()))
        # Every linked lead in view brings its card, those found gone included: a lead deleted is acted
        # on through its card (archived), which must be read for that.
        linked = {pairs[lid].card_id for lid in lead_ids | leads.keys() if lid in pairs}
        more = linked - cards.keys() - gone_cards
        if more:
            with reading("Trello"):
                extra, extra_gone = self.trello.get_cards(more)
            cards.update(extra)
            gone_cards |= extra_gone
        # A lead asked for by id and not returned does not exist (the query itself succeeded).
        gone_leads = frozenset(lid for lid in lead_ids if lid not in leads)
        return Snapshot(
            leads,
            cards,
            leads_complete=False,
            cards_complete=False,
            deleted_leads=gone_leads,
            deleted_cards=frozenset(gone_cards),
        )
