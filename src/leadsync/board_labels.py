"""The board's label for each option of a flow's labels field, found by id and created once.

An option's label is remembered by id (a label renamed on the board still stands for its option). A
label the board lacks is looked for by name, then created, once, under a lock: concurrent writers of
one cycle never make two labels of one name.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

from leadsync.clients.trello import TrelloClient
from leadsync.store import Store

__all__ = ["LABEL_KEY", "LabelBook"]

LABEL_KEY = "label:"
"""The prefix of a label's key among a flow's remembered ids."""


class LabelBook:
    """Option -> board label id for one flow, growing as labels are found or created."""

    def __init__(self, trello: TrelloClient, store: Store, flow: str, known: Mapping[str, str]) -> None:
        """``known``: the options whose labels were found when the board was read."""
        self.trello = trello
        self.store = store
        self.flow = flow
        self._ids = dict(known)
        self._lock = threading.Lock()

    def snapshot(self) -> dict[str, str]:
        """The options with a known label, as the planner's map."""
        with self._lock:
            return dict(self._ids)

    def ids_for(self, options: Iterable[str]) -> list[str]:
        """The label ids of ``options``, each missing label found by name or created (once)."""
        wanted = sorted(set(options))
        with self._lock:
            missing = [o for o in wanted if o not in self._ids]
            if missing:
                by_name = {str(row.get("name")): str(row["id"]) for row in self.trello.labels()}
                for option in missing:
                    self._ids[option] = by_name.get(option) or self.trello.create_label(option)
                self.store.remember_ids(
                    {LABEL_KEY + o: i for o, i in self._ids.items()}, self.flow, prefix=LABEL_KEY
                )
            return [self._ids[o] for o in wanted]
