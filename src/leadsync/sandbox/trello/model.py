"""The Trello world: the ``Lead Tasks`` board and its lists, labels, cards, actions and webhooks, and the
card and list writes that change them (each logs its actions and hands them to the webhooks watching).

Requests are read in :mod:`~leadsync.sandbox.trello.request`, answered in
:mod:`~leadsync.sandbox.trello.routes` and :mod:`~leadsync.sandbox.trello.webhooks`; the shapes of the
actions are in :mod:`~leadsync.sandbox.trello.actions`. Board, list and label writes are in
:mod:`~leadsync.sandbox.trello.board_writes` and :mod:`~leadsync.sandbox.trello.label_writes`.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any, TypeVar

from leadsync.sandbox.clock import iso_ms
from leadsync.sandbox.identities import Identity
from leadsync.sandbox.shared_state import SharedState
from leadsync.sandbox.trello import actions as acts
from leadsync.sandbox.trello import render
from leadsync.sandbox.trello.deliveries import fan_out
from leadsync.sandbox.trello.errors import TrelloError, not_found
from leadsync.sandbox.trello.rows import HEX24, SHORT_LINK, BoardRow, CardRow, LabelRow, ListRow, WebhookRow

__all__ = ["LIST_NAMES", "NO_BOARD_ACCESS", "NO_CARD_ACCESS", "POS_STEP", "TrelloWorld"]

LIST_NAMES = ("NEW", "CONTACTED", "QUALIFIED", "LOST")
POS_STEP = 65536.0  # observed card positions are multiples of 2**16; the exact algorithm is UNVERIFIED
NO_BOARD_ACCESS = "unauthorized permission requested"
NO_CARD_ACCESS = "unauthorized card permission requested"

_Row = TypeVar("_Row", BoardRow, CardRow)


class TrelloWorld:
    """The ``Lead Tasks`` board with one list per status, shared by both identities."""

    def __init__(self, shared: SharedState, *, empty: bool = False) -> None:
        """The provisioned board, ``Lead Tasks``: with one list per status, or ``empty`` (no list), for
        ``leadsync init`` to set up."""
        self.shared = shared
        self.boards: dict[str, BoardRow] = {}
        self.lists: dict[str, ListRow] = {}
        self.cards: dict[str, CardRow] = {}
        self.labels: dict[str, LabelRow] = {}
        self.actions: list[dict[str, Any]] = []  # oldest first; served newest first
        self.webhooks: dict[str, WebhookRow] = {}
        self._card_seq = 0
        self.created_at = shared.clock.time()  # when the sandbox's tokens were issued
        # Like a Mongo process's 5 random bytes: fixed, so that ids made in the same second still grow
        # with the counter (shared.trello_id() draws fresh random bytes each time).
        self._machine = shared.hex(10)
        board = self.add_board("Lead Tasks", [shared.leadsync, shared.person])
        self.board_id = board.id
        for i, name in enumerate(() if empty else LIST_NAMES):
            row = ListRow(self.new_id()[0], name, board.id, 16384.0 * (i + 1))
            self.lists[row.id] = row
        self.list_ids = {row.name: row.id for row in self.lists.values()}

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the world's data (not of the shared state), for :meth:`restore`."""
        return copy.deepcopy({k: v for k, v in self.__dict__.items() if k != "shared"})

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Back to a :meth:`snapshot`, in place: whoever holds this world sees the restored data."""
        self.__dict__.update(copy.deepcopy(snapshot))

    # The JSON of each row, as the API shows it.
    list_json = staticmethod(render.list_json)
    label_json = staticmethod(render.label_json)

    def board_json(self, board: BoardRow) -> dict[str, Any]:
        """A board as the API shows it, its ``labelNames`` from its labels."""
        return render.board_json(board, self.labels_of(board.id))

    def card_json(self, card: CardRow) -> dict[str, Any]:
        """A card as the API shows it, with the full objects of its labels."""
        return render.card_json(card, [self.labels[i] for i in card.id_labels if i in self.labels])

    # ---- ids and time ------------------------------------------------------------------------------
    def new_id(self) -> tuple[str, str]:
        """A fresh ObjectId (creation second, fixed machine part, growing counter) and the ISO date of
        that moment: its embedded second plus milliseconds."""
        made = self.shared.trello_id()
        oid = made[:8] + self._machine + made[18:]
        second = int(oid[:8], 16)
        millis = min(999, max(0, int((self.shared.clock.time() - second) * 1000)))
        moment = datetime.fromtimestamp(second, tz=UTC).replace(microsecond=millis * 1000)
        return oid, iso_ms(moment)

    def _short_link(self) -> str:
        taken = {b.short_link for b in self.boards.values()} | {c.short_link for c in self.cards.values()}
        while (link := self.shared.short_link()) in taken or not SHORT_LINK.match(link):
            pass
        return link

    # ---- lookups with Trello's errors --------------------------------------------------------------
    def add_board(self, name: str, members: list[Identity]) -> BoardRow:
        """A new board that only ``members`` can see (the sandbox provisions one; tests may add more)."""
        oid, date = self.new_id()
        board = BoardRow(
            oid,
            name,
            self._short_link(),
            [m.trello_member_id for m in members],
            id_member_creator=members[0].trello_member_id if members else "",
            date_last_activity=date,
        )
        self.boards[board.id] = board
        return board

    def board(self, ref: str, who: Identity) -> BoardRow:
        """A board by id or shortLink that ``who`` can see (401 otherwise, 404 when unknown)."""
        found = self._by_ref(ref, self.boards)
        if who.trello_member_id not in found.members:
            raise TrelloError(401, NO_BOARD_ACCESS)
        return found

    def list_(self, ref: str, who: Identity) -> ListRow:
        """A list by id on a board that ``who`` can see."""
        if not HEX24.match(ref):
            raise TrelloError(400, "invalid id")
        lst = self.lists.get(ref.lower())
        if lst is None:
            raise not_found()
        self.board(lst.id_board, who)
        return lst

    def card(self, ref: str, who: Identity) -> CardRow:
        """A card by id or shortLink on a board that ``who`` can see."""
        found = self._by_ref(ref, self.cards)
        if who.trello_member_id not in self.boards[found.id_board].members:
            raise TrelloError(401, NO_CARD_ACCESS)
        return found

    @staticmethod
    def _by_ref(ref: str, rows: dict[str, _Row]) -> _Row:
        """By id, or by the 8-character shortLink that boards and cards also answer to."""
        if HEX24.match(ref):
            row = rows.get(ref.lower())
        elif SHORT_LINK.match(ref):
            row = next((r for r in rows.values() if r.short_link == ref), None)
        else:
            raise TrelloError(400, "invalid id")
        if row is None:
            raise not_found()
        return row

    def label(self, ref: str, who: Identity) -> LabelRow:
        """A label by id on a board that ``who`` can see (400 ``invalid id`` for a malformed id)."""
        if not HEX24.match(ref):
            raise TrelloError(400, "invalid id")
        label = self.labels.get(ref.lower())
        if label is None:
            raise not_found()
        self.board(label.id_board, who)
        return label

    def labels_of(self, board_id: str) -> list[LabelRow]:
        """A board's labels, oldest first."""
        return [label for label in self.labels.values() if label.id_board == board_id]

    def accessible_boards(self, who: Identity) -> list[BoardRow]:
        """The boards ``who`` is a member of."""
        return [b for b in self.boards.values() if who.trello_member_id in b.members]

    def lists_of(self, board_id: str) -> list[ListRow]:
        """A board's lists, by position."""
        return sorted((x for x in self.lists.values() if x.id_board == board_id), key=lambda x: x.pos)

    def cards_of_list(self, list_id: str) -> list[CardRow]:
        """A list's cards, by position."""
        return sorted((c for c in self.cards.values() if c.id_list == list_id), key=lambda c: c.pos)

    def cards_of_board(self, board_id: str) -> list[CardRow]:
        """In board order: by list position, then card position."""
        return [c for lst in self.lists_of(board_id) for c in self.cards_of_list(lst.id)]

    def board_limits(self, board: BoardRow) -> dict[str, Any]:
        """The board's ``fields=limits``; counted, not enforced: what happens at the limit is UNVERIFIED."""

        def limit(count: int, disable_at: int, warn_at: int) -> dict[str, Any]:
            status = "ok" if count < warn_at else "warning" if count < disable_at else "disabled"
            return {"status": status, "disableAt": disable_at, "warnAt": warn_at}

        cards = [c for c in self.cards.values() if c.id_board == board.id]
        lists = self.lists_of(board.id)
        return {
            "cards": {
                "openPerBoard": limit(sum(not c.closed for c in cards), 5000, 4500),
                "totalPerBoard": limit(len(cards), 2_000_000, 1_800_000),
            },
            "lists": {
                "openPerBoard": limit(sum(not x.closed for x in lists), 475, 450),
                "totalPerBoard": limit(len(lists), 2850, 2700),
            },
        }

    # ---- positions ---------------------------------------------------------------------------------
    @staticmethod
    def place(spec: Any, siblings: list[float], default: str) -> float:
        """``top``, ``bottom`` or a positive number, among the positions already in the list."""
        spec = default if spec is None else spec
        if spec == "top":
            return min(siblings) / 2 if siblings else POS_STEP
        if spec == "bottom":
            return max(siblings, default=0.0) + POS_STEP
        try:
            value = float(spec) if not isinstance(spec, bool) else -1.0
        except (TypeError, ValueError):
            raise TrelloError(400, "invalid value for pos") from None
        if not value > 0 or value != value or value == float("inf"):
            raise TrelloError(400, "invalid value for pos")
        return value

    # ---- writes ------------------------------------------------------------------------------------
    def touch(self, board: BoardRow, date: str, card: CardRow | None = None) -> None:
        """Mark ``board`` (and ``card``) active at ``date``."""
        board.date_last_activity = date
        if card is not None:
            card.date_last_activity = date

    def create_list(self, who: Identity, board: BoardRow, name: str, pos: Any) -> ListRow:
        """A new list on ``board``, logged as ``createList``."""
        siblings = [x.pos for x in self.lists_of(board.id) if not x.closed]
        lst = ListRow(self.new_id()[0], name, board.id, self.place(pos, siblings, "top"))
        self.lists[lst.id] = lst
        stamp = self.new_id()
        self.touch(board, stamp[1])
        models = {board.id: self.board_json(board), lst.id: self.list_json(lst)}
        self.record(who, acts.create_list(who, board, lst), models, stamp)
        return lst

    def create_card(self, who: Identity, lst: ListRow, values: dict[str, Any]) -> CardRow:
        """A card from validated ``values`` (``pos`` already placed with :meth:`place`)."""
        board = self.boards[lst.id_board]
        oid, date = self.new_id()
        stamp = self.new_id()
        self._card_seq += 1
        card = CardRow(
            id=oid,
            name=values.get("name", ""),
            desc=values.get("desc", ""),
            id_list=lst.id,
            id_board=board.id,
            pos=values["pos"],
            short_link=self._short_link(),
            id_short=board.next_id_short,
            date_last_activity=date,
            due=values.get("due"),
            due_complete=values.get("dueComplete", False),
            start=values.get("start"),
            due_reminder=values.get("dueReminder"),
            id_members=values.get("idMembers") or [],
            id_labels=values.get("idLabels") or [],
            seq=self._card_seq,
        )
        board.next_id_short += 1
        self.cards[card.id] = card
        self.touch(board, stamp[1], card)
        self.record(who, acts.create_card(who, board, lst, card), self.card_models(card), stamp)
        return card

    def update_card(self, who: Identity, card: CardRow, changes: dict[str, Any]) -> None:
        """Apply validated ``changes``: one ``updateCard`` action per changed field (a move first).

        One action per field is a choice (captured traffic only shows single-field actions); it keeps
        every sub-filter (``updateCard:idList``, ``:name``...) exact. A position given along with a move
        is part of the move and logs no ``pos`` action of its own, as a drag in Trello's UI does.
        """
        board = self.boards[card.id_board]
        if "idList" in changes and changes["idList"] != card.id_list:
            before, after = self.lists[card.id_list], self.lists[changes["idList"]]
            card.id_list, card.id_board = after.id, after.id_board
            if "pos" in changes:
                card.pos = changes["pos"]
            board = self.boards[card.id_board]
            stamp = self.new_id()
            self.touch(board, stamp[1], card)
            shaped = acts.move_card(who, board, before, after, card)
            self.record(who, shaped, self.card_models(card, before.id), stamp)
            changes = {k: v for k, v in changes.items() if k != "pos"}
        for key, attr in (
            ("name", "name"),
            ("desc", "desc"),
            ("closed", "closed"),
            ("pos", "pos"),
            ("due", "due"),
            ("dueComplete", "due_complete"),
            ("start", "start"),
            ("dueReminder", "due_reminder"),
        ):
            if key not in changes or changes[key] == getattr(card, attr):
                continue
            old = getattr(card, attr)
            setattr(card, attr, changes[key])
            stamp = self.new_id()
            self.touch(board, stamp[1], card)
            shaped = acts.edit_card(who, board, self.lists[card.id_list], card, key, old, changes[key])
            self.record(who, shaped, self.card_models(card), stamp)
        for key, attr in (("idMembers", "id_members"), ("idLabels", "id_labels")):
            # Trello logs these as addMemberToCard...; the sandbox only stores them. The API's label
            # changes go through label_writes instead, which logs addLabelToCard/removeLabelFromCard.
            if key in changes and changes[key] != getattr(card, attr):
                setattr(card, attr, changes[key])
                self.touch(board, self.new_id()[1], card)

    def delete_card(self, who: Identity, card: CardRow) -> None:
        """Delete ``card``, logged as ``deleteCard``."""
        board, lst = self.boards[card.id_board], self.lists[card.id_list]
        models = self.card_models(card)
        del self.cards[card.id]
        stamp = self.new_id()
        self.touch(board, stamp[1])
        models[board.id] = self.board_json(board)
        self.record(who, acts.delete_card(who, board, lst, card), models, stamp)

    def card_models(self, card: CardRow, *extra_lists: str) -> dict[str, dict[str, Any]]:
        """The models an action on ``card`` involves, as their webhooks would see them now."""
        models = {card.id: self.card_json(card), card.id_board: self.board_json(self.boards[card.id_board])}
        for list_id in (card.id_list, *extra_lists):
            models[list_id] = self.list_json(self.lists[list_id])
        return models

    def record(
        self,
        who: Identity,
        shaped: tuple[str, dict[str, Any], dict[str, Any]],
        models: dict[str, dict[str, Any]],
        stamp: tuple[str, str],
    ) -> dict[str, Any]:
        """Log one action with the id and date of ``stamp`` (from :meth:`new_id`, so the date is the id's
        second plus milliseconds) and hand it to the webhooks watching any of ``models``."""
        kind, data, display = shaped
        oid, date = stamp
        action = {
            "id": oid,
            "idMemberCreator": who.trello_member_id,
            "data": data,
            "appCreator": None,
            "type": kind,
            "date": date,
            "limits": {},
            "display": display,
            "memberCreator": acts.member_creator(who),
        }
        self.actions.append(action)
        fan_out(self, action, models)
        return action
