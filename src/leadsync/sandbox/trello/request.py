"""One Trello request: merged parameters, the four ways to authenticate, and typed parameter access.

Trello is an Express app, so the emulator reads requests like one: parameters may come from the query
string, a JSON body or a form body (all merged, the body winning).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request

from leadsync.sandbox.identities import Identity
from leadsync.sandbox.shared_state import SharedState
from leadsync.sandbox.trello.errors import TrelloError, invalid_value
from leadsync.sandbox.trello.model import TrelloWorld
from leadsync.sandbox.trello.rows import HEX24

__all__ = ["MAX_TEXT", "Ctx", "authenticate", "oauth_params", "parse_date", "read_params"]

MAX_TEXT = 16384


@dataclass
class Ctx:
    """One authenticated call: who made it, its merged parameters and its path parameters."""

    world: TrelloWorld
    identity: Identity
    params: dict[str, Any]
    path: dict[str, str]

    @property
    def shared(self) -> SharedState:
        """What both APIs share: clock, ids, identities, limits, the webhook dispatcher."""
        return self.world.shared

    # ---- typed parameter access --------------------------------------------------------------------
    def has(self, name: str) -> bool:
        """Whether the parameter was given."""
        return name in self.params

    def text(self, name: str, default: str | None = None) -> str | None:
        """A text parameter (numbers and booleans as Trello prints them); 400 for anything else."""
        value = self.params.get(name, default)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        raise invalid_value(name)

    def flag(self, name: str, default: bool) -> bool:
        """A boolean parameter (``true``/``false``); 400 for anything else."""
        value = self.params.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise invalid_value(name)

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        """A whole-number parameter between ``low`` and ``high``; 400 otherwise."""
        value = self.params.get(name)
        if value is None:
            return default
        try:
            number = int(value) if not isinstance(value, bool) else -1
        except (TypeError, ValueError):
            raise invalid_value(name) from None
        if not low <= number <= high:
            raise invalid_value(name)
        return number

    def id_list(self, name: str) -> list[str] | None:
        """A list of ids given as a JSON array or a comma list; a bad id is Trello's JSON error."""
        value = self.params.get(name)
        if value is None:
            return None
        items = value if isinstance(value, list) else str(value).split(",")
        ids = [str(item).strip() for item in items if str(item).strip()]
        if not all(HEX24.match(i) for i in ids):
            raise TrelloError(400, {"message": "Invalid objectId", "error": "ERROR"})
        return [i.lower() for i in ids]


def parse_date(value: str, name: str) -> datetime:
    """An ISO-8601 date (``YYYY-MM-DDThh:mm:ssZ``, milliseconds optional); naive means UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise invalid_value(name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ---- reading a request -----------------------------------------------------------------------------


async def read_params(request: Request) -> dict[str, Any]:
    """Query, then the body (JSON or form) on top: Trello accepts every parameter in any of them."""
    params: dict[str, Any] = dict(request.query_params)
    raw = await request.body()
    if not raw.strip():
        return params
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json" or (not ctype and raw.lstrip()[:1] in (b"{", b"[")):
        try:
            body = json.loads(raw)
        except ValueError:
            # Express's body parser refuses it before any route runs; the exact text is UNVERIFIED.
            raise TrelloError(400, "Invalid JSON") from None
        if isinstance(body, dict):
            params.update(body)
    elif ctype in ("application/x-www-form-urlencoded", ""):
        params.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return params


_OAUTH_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*"([^"]*)"')


def oauth_params(header: str | None) -> dict[str, str]:
    """The parameters of an ``Authorization: OAuth ...`` header (signed or not; signatures are not checked)."""
    if not header or header[:6].lower() != "oauth ":
        return {}
    return {k: unquote(v) for k, v in _OAUTH_PARAM.findall(header[6:])}


def authenticate(
    shared: SharedState, params: dict[str, Any], authorization: str | None, path_token: str | None = None
) -> Identity:
    """The identity whose key and token these are, or 401 ``invalid key`` / ``invalid token``.

    On ``/tokens/{token}/...`` the path's token serves when no other is given (py-trello's
    ``create_hook`` sends only the key). A missing token is answered ``invalid token``: the sandbox has
    no public boards, so an anonymous (key-only) call could read nothing anyway.
    """
    oauth = oauth_params(authorization)
    key = params.get("key") or oauth.get("oauth_consumer_key")
    token = params.get("token") or oauth.get("oauth_token") or path_token
    if not isinstance(key, str) or (identity := shared.identity_by_trello_key(key)) is None:
        raise TrelloError(401, "invalid key")
    if not isinstance(token, str) or not secrets.compare_digest(token, identity.trello_token):
        raise TrelloError(401, "invalid token")
    return identity
