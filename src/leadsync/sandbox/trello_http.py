"""Trello's request plumbing: merged parameters, the four ways to authenticate, errors and a small router.

Trello is an Express app, so the emulator speaks like one: parameters may come from the query string,
a JSON body or a form body (all merged, the body winning), a route that does not exist answers
``Cannot <METHOD> <path>``, a trailing slash is tolerated, and most errors are plain text.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

if TYPE_CHECKING:
    from leadsync.sandbox.state import Identity, SandboxState

HEX24 = re.compile(r"^[0-9a-fA-F]{24}$")
# A shortLink has a letter in it: an all-digit ref is "invalid id" (observed for PUT /1/cards/12312321).
SHORT_LINK = re.compile(r"^(?=.*[A-Za-z])[0-9A-Za-z]{8}$")
NOT_FOUND = "The requested resource was not found."
MAX_TEXT = 16384


class TrelloError(Exception):
    """An error answer: plain text when ``body`` is a string, JSON otherwise."""

    def __init__(self, status: int, body: str | dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body

    def response(self) -> Response:
        if isinstance(self.body, str):
            return PlainTextResponse(self.body, status_code=self.status)
        return JSONResponse(self.body, status_code=self.status)


def invalid_value(name: str) -> TrelloError:
    """Trello's generic validation answer, ``400 invalid value for <param>``."""
    return TrelloError(400, f"invalid value for {name}")


def not_found() -> TrelloError:
    return TrelloError(404, NOT_FOUND)


@dataclass
class Ctx:
    """One authenticated call: who made it, its merged parameters and its path parameters."""

    state: SandboxState
    identity: Identity
    params: dict[str, Any]
    path: dict[str, str]

    # ---- typed parameter access --------------------------------------------------------------------
    def has(self, name: str) -> bool:
        return name in self.params

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.params.get(name, default)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        raise invalid_value(name)

    def flag(self, name: str, default: bool) -> bool:
        value = self.params.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise invalid_value(name)

    def integer(self, name: str, default: int, low: int, high: int) -> int:
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
    state: SandboxState, params: dict[str, Any], authorization: str | None, path_token: str | None = None
) -> Identity:
    """The identity whose key and token these are, or 401 ``invalid key`` / ``invalid token``.

    On ``/tokens/{token}/...`` the path's token serves when no other is given (py-trello's
    ``create_hook`` sends only the key). A missing token is answered ``invalid token``: the sandbox has
    no public boards, so an anonymous (key-only) call could read nothing anyway.
    """
    oauth = oauth_params(authorization)
    key = params.get("key") or oauth.get("oauth_consumer_key")
    token = params.get("token") or oauth.get("oauth_token") or path_token
    if not isinstance(key, str) or (identity := state.identity_by_trello_key(key)) is None:
        raise TrelloError(401, "invalid key")
    if not isinstance(token, str) or not secrets.compare_digest(token, identity.trello_token):
        raise TrelloError(401, "invalid token")
    return identity


# ---- routing ---------------------------------------------------------------------------------------

Handler = Callable[[Ctx], Awaitable[Any]]


@dataclass(frozen=True)
class RouteDef:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


class Router:
    """Express-style routes (``/cards/{id}``) matched in order, a trailing slash tolerated."""

    def __init__(self) -> None:
        self.routes: list[RouteDef] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        self.routes.append(RouteDef(method, re.compile(f"^{regex}/?$"), handler))

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        method = "GET" if method == "HEAD" else method
        for route in self.routes:
            if route.method == method and (m := route.pattern.match(path)):
                return route.handler, m.groupdict()
        return None


def express_404(method: str, path: str) -> TrelloError:
    return TrelloError(404, f"Cannot {method} {path}")
