"""Trello client: the board, its lists, labels and cards, board actions and webhooks.

Cards are read with their ``due`` and ``idLabels``; the due date is brought to the form of the flow's
Airtable due field as it is parsed (:mod:`leadsync.clients.due_dates`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict

from leadsync.clients.due_dates import DATE, canonical_due
from leadsync.clients.http import ApiHttp
from leadsync.core import NO_LABELS, Card, CardId, ListId
from leadsync.errors import ServerError

__all__ = [
    "BATCH",
    "BATCHES_BEFORE_LISTING",
    "CARD_FIELDS",
    "TOKEN_WEBHOOKS",
    "CardJson",
    "TrelloClient",
    "to_card",
]

CARD_FIELDS = "id,name,desc,idList,closed,due,idLabels"
BATCH = 10  # routes per /1/batch request, Trello's maximum
BATCHES_BEFORE_LISTING = 3
TOKEN_WEBHOOKS = "/1/tokens/***/webhooks"  # noqa: S105 - not a secret: what errors show instead of the token


class CardJson(TypedDict, total=False):
    """One card as the Trello API returns it, restricted to the fields leadsync asks for."""

    id: str
    name: str
    desc: str
    idList: str
    closed: bool
    due: str | None
    idLabels: list[str]


def to_card(raw: CardJson, shared: dict[str, str] | None = None, due_type: str = DATE) -> Card:
    """A card from its JSON, its due date in the form of a ``due_type`` Airtable field; ``shared``
    keeps one copy of each list id across many cards."""
    list_id = raw.get("idList", "")
    if shared is not None:
        list_id = shared.setdefault(list_id, list_id)
    labels = raw.get("idLabels")
    return Card(
        CardId(raw["id"]),
        raw.get("name", ""),
        raw.get("desc", ""),
        ListId(list_id),
        bool(raw.get("closed", False)),
        canonical_due(raw.get("due"), due_type),
        frozenset(labels) if labels else NO_LABELS,
    )


class TrelloClient:
    """One board."""

    def __init__(self, http: ApiHttp, board: str) -> None:
        self.http = http
        self.board = board
        self.due_type = DATE  # the flow's Airtable due field's type, once resolved
        self._board_id: str | None = board if len(board) == 24 else None

    @property
    def board_id(self) -> str:
        """The board's 24-character id, asked of Trello once when the board was given by short link."""
        if self._board_id is None:
            self._board_id = str(
                self.http.request("GET", f"/1/boards/{self.board}", params={"fields": "id"})["id"]
            )
        return self._board_id

    def newest_action_id(self) -> str | None:
        """The id of the board's most recent action, or None when the board has none."""
        page = self.http.request(
            "GET", f"/1/boards/{self.board_id}/actions", params={"limit": 1, "fields": "id"}
        )
        return str(page[0]["id"]) if page else None

    def me(self) -> dict[str, Any]:
        """The token's member: id, username and full name."""
        result: dict[str, Any] = self.http.request(
            "GET", "/1/members/me", params={"fields": "id,username,fullName"}
        )
        return result

    def lists(self) -> list[dict[str, Any]]:
        """The board's open lists, each with its id, name and closed flag."""
        return list(
            self.http.request(
                "GET",
                f"/1/boards/{self.board_id}/lists",
                params={"filter": "open", "fields": "id,name,closed"},
            )
        )

    def cards(self) -> dict[CardId, Card]:
        """Every card of the board, archived included (the default filter hides them), each made a
        :class:`Card` as it is parsed (list ids shared between cards)."""
        shared: dict[str, str] = {}

        due_type = self.due_type

        def card(raw: dict[str, Any]) -> Card:
            return to_card(raw, shared, due_type)  # type: ignore[arg-type]

        parsed = self.http.request(
            "GET", f"/1/boards/{self.board_id}/cards/all", params={"fields": CARD_FIELDS}, object_hook=card
        )
        return {c.id: c for c in parsed}

    def get_cards(self, ids: Iterable[CardId]) -> tuple[dict[CardId, Card], set[CardId]]:
        """The given cards, and the ids Trello says are gone (404 / invalid id).

        Up to ``BATCHES_BEFORE_LISTING`` batch requests of 10 cards; past that, one listing of the
        board is fewer requests, and only the cards it does not hold (moved to another board, or
        gone) are asked for by batch. Any other per-route failure raises: a failed read is never taken
        for a deleted card.
        """
        wanted = list(dict.fromkeys(ids))
        if len(wanted) <= BATCH * BATCHES_BEFORE_LISTING:
            return self._batch_cards(wanted)
        board = self.cards()
        found = {cid: board[cid] for cid in wanted if cid in board}
        elsewhere, gone = self._batch_cards([cid for cid in wanted if cid not in board])
        found.update(elsewhere)
        return found, gone

    def _batch_cards(self, wanted: list[CardId]) -> tuple[dict[CardId, Card], set[CardId]]:
        found: dict[CardId, Card] = {}
        gone: set[CardId] = set()
        fields = CARD_FIELDS.replace(",", "%2C")
        for i in range(0, len(wanted), BATCH):
            chunk = wanted[i : i + BATCH]
            urls = ",".join(f"/cards/{cid}?fields={fields}" for cid in chunk)
            items = self.http.request("GET", "/1/batch", params={"urls": urls})
            for cid, item in zip(chunk, items, strict=True):
                status, body = next(iter(item.items()))
                if status == "200" and isinstance(body, dict):
                    card = to_card(body, None, self.due_type)  # type: ignore[arg-type]
                    found[card.id] = card
                elif status in ("404", "400"):
                    gone.add(cid)
                else:
                    raise ServerError(
                        "trello", "GET", f"/1/batch (/cards/{cid})", int(status), str(body)[:300]
                    )
        return found, gone

    def labels(self) -> list[dict[str, Any]]:
        """The board's labels, each with its id, name and color."""
        return list(
            self.http.request(
                "GET", f"/1/boards/{self.board_id}/labels", params={"fields": "id,name,color", "limit": 1000}
            )
        )

    def create_label(self, name: str) -> str:
        """Create a board label (no color) and return its id."""
        raw = self.http.request(
            "POST",
            f"/1/boards/{self.board_id}/labels",
            json_body={"name": name, "color": None},
            idempotent=False,
        )
        return str(raw["id"])

    def create_card(self, list_id: str, name: str, desc: str, extra: dict[str, Any] | None = None) -> Card:
        """Create a card at the bottom of ``list_id`` (with ``extra`` fields such as ``due`` and
        ``idLabels``) and return it (a create is never retried blindly)."""
        body = {"idList": list_id, "name": name, "desc": desc, "pos": "bottom"} | (extra or {})
        raw = self.http.request("POST", "/1/cards", json_body=body, idempotent=False)
        return to_card(raw, None, self.due_type)

    def update_card(self, card_id: str, changes: dict[str, Any]) -> Card:
        """Apply ``changes`` (Trello field names) to one card and return the card as Trello now holds it."""
        raw = self.http.request("PUT", f"/1/cards/{card_id}", json_body=changes)
        return to_card(raw, None, self.due_type)

    def actions(
        self, *, since: str | None = None, filter_: str = "all", limit: int = 1000
    ) -> list[dict[str, Any]]:
        """Board actions newer than ``since`` (an action id or date), newest first, paging past 1000."""
        out: list[dict[str, Any]] = []
        before: str | None = None
        while True:
            params: dict[str, Any] = {
                "filter": filter_,
                "limit": limit,
                "fields": "id,type,date,data,idMemberCreator",
            }
            if since:
                params["since"] = since
            if before:
                params["before"] = before
            page = list(self.http.request("GET", f"/1/boards/{self.board_id}/actions", params=params))
            out.extend(page)
            if len(page) < limit:
                return out
            before = page[-1]["id"]

    def create_webhook(self, callback_url: str, token: str, description: str = "leadsync") -> dict[str, Any]:
        """Register a webhook on the board for ``token``; errors show the path with the token masked."""
        result: dict[str, Any] = self.http.request(
            "POST",
            f"/1/tokens/{token}/webhooks",
            json_body={"callbackURL": callback_url, "idModel": self.board_id, "description": description},
            idempotent=False,
            shown_path=TOKEN_WEBHOOKS,
        )
        return result

    def list_webhooks(self, token: str) -> list[dict[str, Any]]:
        """The webhooks ``token`` owns, on any model."""
        return list(self.http.request("GET", f"/1/tokens/{token}/webhooks", shown_path=TOKEN_WEBHOOKS))

    def delete_webhook(self, webhook_id: str) -> None:
        """Delete one webhook."""
        self.http.request("DELETE", f"/1/webhooks/{webhook_id}")
