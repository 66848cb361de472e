"""Trello's action queries: ``since``/``before`` windows, ``filter`` by type and paging, over the action log."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from leadsync.sandbox.trello.errors import invalid_value
from leadsync.sandbox.trello.request import Ctx, parse_date
from leadsync.sandbox.trello.rows import HEX24

__all__ = ["ACTION_FIELDS", "MAX_ACTIONS", "cursor", "query", "type_filter", "window"]

ACTION_FIELDS = ("id", "idMemberCreator", "data", "appCreator", "type", "date", "limits", "display")
_FILTER_ITEM = re.compile(r"^[A-Za-z]+(?::[A-Za-z]+)?$")
MAX_ACTIONS = 1000


# ---- since / before --------------------------------------------------------------------------------

Bound = Callable[[int, str], bool]


def cursor(value: str, name: str, known: dict[str, int], *, since: bool) -> Bound:
    """``since``/``before`` as a test on (sequence, id): a known id compares by creation order; an
    unknown id compares as an ObjectId; a date becomes the ObjectId of its second, the way a Mongo
    query on ``_id`` would (so ``since=<date>`` includes that whole second, ``before=<date>`` excludes
    it; the rounding is UNVERIFIED, the documentation only says both forms are accepted)."""
    if HEX24.match(value):
        oid = value.lower()
        seq = known.get(oid)
        if seq is not None:
            return (lambda s, _i: s > seq) if since else (lambda s, _i: s < seq)
    else:
        moment = parse_date(value, name)
        oid = f"{int(moment.timestamp()):08x}" + "0" * 16
    return (lambda _s, i: i > oid) if since else (lambda _s, i: i < oid)


def window(ctx: Ctx, known: dict[str, int]) -> list[Bound]:
    """The ``since`` and ``before`` bounds given, as tests on an id's order and an action's date."""
    bounds: list[Bound] = []
    for name in ("since", "before"):
        value = ctx.text(name)
        if value:
            bounds.append(cursor(value, name, known, since=name == "since"))
    return bounds


# ---- the query -------------------------------------------------------------------------------------


def type_filter(spec: str) -> Callable[[dict[str, Any]], bool]:
    """``all`` or a comma list of types, ``type:field`` matching the updates that changed ``field``."""
    items = [item.strip() for item in spec.split(",") if item.strip()]
    if not items or any(not _FILTER_ITEM.match(item) for item in items):
        raise invalid_value("filter")
    if "all" in items:
        return lambda _a: True
    wanted = [tuple(item.split(":", 1)) if ":" in item else (item, None) for item in items]

    def keep(action: dict[str, Any]) -> bool:
        old = action["data"].get("old", {})
        return any(action["type"] == t and (f is None or f in old) for t, f in wanted)

    return keep


def query(ctx: Ctx, actions: Sequence[dict[str, Any]], default_filter: str = "all") -> list[dict[str, Any]]:
    """Newest first, filtered by ``filter``/``since``/``before``, paged by ``limit``/``page``, projected by
    ``fields``/``memberCreator``. ``actions`` is every candidate, oldest first."""
    keep = type_filter(ctx.text("filter") or default_filter)
    limit = ctx.integer("limit", 50, 0, MAX_ACTIONS)
    page = ctx.integer("page", 0, 0, MAX_ACTIONS)
    if page * limit >= MAX_ACTIONS:  # "Page * limit must be less than 1000"
        raise invalid_value("page")
    known = {a["id"]: seq for seq, a in enumerate(actions)}
    bounds = window(ctx, known)
    chosen = [
        a
        for seq, a in reversed(list(enumerate(actions)))
        if keep(a) and all(bound(seq, a["id"]) for bound in bounds)
    ][page * limit : page * limit + limit]
    fields = ctx.text("fields") or "all"
    names = ACTION_FIELDS if fields == "all" else [f.strip() for f in fields.split(",")]
    with_creator = ctx.flag("memberCreator", True)
    result = []
    for action in chosen:
        shown = {"id": action["id"], **{n: action[n] for n in names if n in action and n != "memberCreator"}}
        if with_creator:
            shown["memberCreator"] = action["memberCreator"]
        result.append(shown)
    return result
