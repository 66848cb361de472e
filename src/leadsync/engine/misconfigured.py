"""API answers that mean a setting is wrong, not that a side is briefly unreadable.

A read that gets 401 or 403, or a 404 of the base, the table or the board, will get the same answer on
every later cycle: retrying it is pointless, and the person must change a setting. :func:`config_error`
turns such an :class:`~leadsync.errors.ApiError` into a :class:`~leadsync.errors.ConfigError` naming the
variable and the fix; every other error stays a read failure. The answers, from the official docs:

- Airtable (https://airtable.com/developers/web/api/errors): 401 ``AUTHENTICATION_REQUIRED`` for a
  missing, wrong or revoked token; 403 ``INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND`` for a base that does not
  exist, is not in the token's access list, or a missing scope; 404 ``TABLE_NOT_FOUND`` for an unknown
  table name or id, and 404 ``NOT_FOUND`` for some unknown bases.
- Trello (https://developer.atlassian.com/cloud/trello/guides/rest-api/authorization/ and the REST
  reference): 401 ``invalid key``, ``invalid token`` (or ``expired token``), ``unauthorized permission
  requested`` when the token's member may not see the board; 404, or 400 ``invalid id``, for a board
  that does not exist.

No message quotes the response body or a credential: only ids and names the person set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import unquote

from leadsync.config import FlowConfig
from leadsync.errors import ApiError, ConfigError

__all__ = ["config_error", "in_flow_terms"]

# What a flow of the mapping file calls what the environment's variables name.
_FILE_KEYS = {
    "AIRTABLE_BASE_ID": "airtable.base",
    "AIRTABLE_LEADS_TABLE_NAME": "airtable.table",
    "TRELLO_BOARD_ID": "trello.board",
}
_TOKEN_ROLES = {
    "AIRTABLE_API_KEY": "airtable_token",
    "TRELLO_API_KEY": "trello_key",
    "TRELLO_TOKEN": "trello_token",
}

_AIRTABLE_PAT_HOWTO = (
    "Check the token at https://airtable.com/create/tokens (a personal access token starts with 'pat'), "
    "and copy it whole"
)
_AIRTABLE_ACCESS_FIX = (
    "Copy the id starting with 'app' from the base's URL, and at https://airtable.com/create/tokens check that "
    "AIRTABLE_API_KEY's token lists this base under Access and has the scopes data.records:read, "
    "data.records:write and schema.bases:read"
)
_TRELLO_KEY_FIX = "Copy the API key of your Power-Up at https://trello.com/power-ups/admin"
_TRELLO_AUTHORIZE_HOWTO = (
    "Authorize a new token at https://trello.com/1/authorize?key=<TRELLO_API_KEY>&name=leadsync"
    "&scope=read,write&expiration=never&response_type=token (a token belongs to the key that made it)"
)
_TRELLO_BOARD_FIX = (
    "Copy the board's short link from its URL (trello.com/b/<shortLink>/...), and make sure the Trello user "
    "whose TRELLO_TOKEN this is is a member of the board"
)

_AIRTABLE_TABLE_PATH = re.compile(r"/v0/(app[^/]+)/([^/]+)")
_AIRTABLE_META_PATH = re.compile(r"/v0/meta/bases/(app[^/]+)")  # the base's schema (its tables and fields)
_TRELLO_BOARD_PATH = re.compile(r"/1/boards/([^/]+)")


def config_error(exc: ApiError) -> ConfigError | None:
    """The configuration error that ``exc`` (an API error of a read) stands for, or None when it may
    pass (a timeout, a 5xx, a 429, a record or card gone)."""
    if exc.api == "airtable":
        return _airtable(exc)
    if exc.api == "trello":
        return _trello(exc)
    return None


def _error_type(body: str) -> str:
    """Airtable's error type (``{"error":{"type":...}}`` or ``{"error":"NOT_FOUND"}``), upper-cased."""
    match = re.search(r'"type"\s*:\s*"([A-Z_]+)"', body) or re.search(r'"error"\s*:\s*"([A-Z_]+)"', body)
    return match.group(1) if match else ""


def _airtable(exc: ApiError) -> ConfigError | None:
    where = _AIRTABLE_TABLE_PATH.match(exc.path)
    meta = _AIRTABLE_META_PATH.match(exc.path)
    base = where.group(1) if where else meta.group(1) if meta else "the base"
    if exc.status == 401:
        return ConfigError(
            "AIRTABLE_API_KEY",
            "Airtable refused the token (401: wrong, expired or revoked)",
            _AIRTABLE_PAT_HOWTO,
        )
    if exc.status == 403:
        return ConfigError(
            "AIRTABLE_BASE_ID",
            f"Airtable answered 403 for base {base}: it does not exist, or AIRTABLE_API_KEY's token may not read it",
            _AIRTABLE_ACCESS_FIX,
        )
    if exc.status == 404 and where is not None:
        if _error_type(exc.body) == "TABLE_NOT_FOUND":
            table = unquote(where.group(2))
            return ConfigError(
                "AIRTABLE_LEADS_TABLE_NAME",
                f"base {base} has no table named {table!r}",
                "Set it to the table's name as shown in Airtable (mind the case and spaces) or its 'tbl...' id",
            )
        return ConfigError("AIRTABLE_BASE_ID", f"Airtable has no base {base}", _AIRTABLE_ACCESS_FIX)
    if exc.status == 404 and meta is not None:
        return ConfigError("AIRTABLE_BASE_ID", f"Airtable has no base {base}", _AIRTABLE_ACCESS_FIX)
    return None


def _trello(exc: ApiError) -> ConfigError | None:
    board = _TRELLO_BOARD_PATH.match(exc.path)
    body = exc.body.strip().lower()
    if exc.status == 401 and body == "invalid key":
        return ConfigError(
            "TRELLO_API_KEY", "Trello does not know this API key (401 invalid key)", _TRELLO_KEY_FIX
        )
    if exc.status == 401 and body in ("invalid token", "expired token"):
        return ConfigError(
            "TRELLO_TOKEN",
            f"Trello refused the token (401 {body}): wrong, expired or revoked",
            _TRELLO_AUTHORIZE_HOWTO,
        )
    if exc.status in (401, 403) and board is not None:
        return ConfigError(
            "TRELLO_BOARD_ID",
            f"the token's Trello user may not see board {board.group(1)} ({exc.status})",
            _TRELLO_BOARD_FIX,
        )
    if exc.status in (401, 403) and exc.path.startswith(("/1/members/", "/1/tokens/")):
        return ConfigError(
            "TRELLO_API_KEY/TRELLO_TOKEN",
            f"Trello refused the credentials ({exc.status})",
            f"{_TRELLO_KEY_FIX}; {_TRELLO_AUTHORIZE_HOWTO}",
        )
    if board is not None and (exc.status == 404 or (exc.status == 400 and body == "invalid id")):
        return ConfigError("TRELLO_BOARD_ID", f"Trello has no board {board.group(1)}", _TRELLO_BOARD_FIX)
    return None


@contextmanager
def in_flow_terms(flow: FlowConfig) -> Iterator[None]:
    """A configuration error inside names what the person edits for ``flow``: a mapping file's key
    (``leadsync.toml [flow 'acme'] airtable.base``) and the flow's own token variables, rather than the
    environment's ``AIRTABLE_BASE_ID`` or ``AIRTABLE_API_KEY``."""
    try:
        yield
    except ConfigError as exc:
        parts = exc.variable.split("/")
        named = [_named_in(flow, part) for part in parts]
        if named == parts:
            raise
        raise ConfigError("/".join(named), exc.problem, exc.fix) from exc


def _named_in(flow: FlowConfig, variable: str) -> str:
    if variable in _TOKEN_ROLES:
        return flow.token_variables.get(_TOKEN_ROLES[variable], variable)
    if variable in _FILE_KEYS and flow.from_file:
        return f"{flow.source} [flow {flow.name!r}] {_FILE_KEYS[variable]}"
    return variable
