"""Trello REST API emulator: boards, lists, cards, actions, batch and webhooks under ``/1``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from leadsync.sandbox.state import SandboxState

LIST_NAMES = ("NEW", "CONTACTED", "QUALIFIED", "LOST")


@dataclass
class ListRow:
    id: str
    name: str
    id_board: str
    pos: float
    closed: bool = False


@dataclass
class CardRow:
    id: str
    name: str
    desc: str
    id_list: str
    id_board: str
    pos: float
    short_link: str
    id_short: int
    date_last_activity: str
    closed: bool = False


@dataclass
class BoardRow:
    id: str
    name: str
    short_link: str
    members: list[str] = field(default_factory=list)  # member ids with access


class TrelloWorld:
    """The ``Lead Tasks`` board with one list per status, shared by both identities."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        board = BoardRow(
            state.trello_id(),
            "Lead Tasks",
            state.short_link(),
            [state.leadsync.trello_member_id, state.person.trello_member_id],
        )
        self.board_id = board.id
        self.boards: dict[str, BoardRow] = {board.id: board}
        self.lists: dict[str, ListRow] = {}
        for i, name in enumerate(LIST_NAMES):
            row = ListRow(state.trello_id(), name, board.id, 16384.0 * (i + 1))
            self.lists[row.id] = row
        self.list_ids = {row.name: row.id for row in self.lists.values()}
        self.cards: dict[str, CardRow] = {}
        self.actions: list[dict[str, Any]] = []  # oldest first; served newest first

    def __deepcopy__(self, memo: dict[int, Any]) -> TrelloWorld:
        import copy

        clone = object.__new__(TrelloWorld)
        for key, value in self.__dict__.items():
            setattr(clone, key, value if key == "state" else copy.deepcopy(value, memo))
        return clone


def routes(state: SandboxState) -> list[BaseRoute]:
    async def not_found(request: Request) -> Response:
        return PlainTextResponse(f"Cannot {request.method} {request.url.path}", status_code=404)

    return [Route("/{rest:path}", not_found, methods=["GET", "POST", "PUT", "DELETE", "HEAD"])]
