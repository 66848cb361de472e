"""The requests ``leadsync init`` and ``leadsync doctor`` make, over the one HTTP layer (``ApiHttp``).

Beside the sync's clients because setup needs what a cycle never does: the bases a token can see, the
schema writes, the boards of a member, board and list creation, and the ``Date`` of each answer.

Airtable (https://airtable.com/developers/web/api/):

- ``GET /v0/meta/whoami`` needs no scope; a personal access token's answer is ``{id, email?}`` and
  never lists its scopes (``get-user-id-scopes``: "Only returned if accessing via an OAuth access
  token"). A missing scope is a 403 ``INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND`` (``errors``), so scopes
  are probed: a read for each read scope, and an empty write for ``data.records:write``, which a token
  with the scope sees refused as an invalid request (422) and one without it as a 403. That Airtable
  checks the scope before the body is UNVERIFIED (no documented example); it is the order every
  documented error of a write follows (401, then 403, then 422).
- ``GET /v0/meta/bases`` (``list-bases``) pages 1000 bases with an ``offset``.
- ``POST /v0/meta/bases/{baseId}/tables`` (``create-table``): the first field is the primary one.
- ``POST .../tables/{tableId}/fields`` (``create-field``). A select's choices cannot be added by
  ``update-field`` (it changes a name, a description, a formula); a new choice appears when a record
  write with ``typecast: true`` names it (``field-model``, Single select), so an option is added by
  creating a placeholder record with it and deleting that record.

Trello (https://developer.atlassian.com/cloud/trello/rest/):

- ``GET /1/members/me/boards`` (``api-group-members``), ``POST /1/boards`` with ``defaultLists``
  (``api-group-boards``: "Determines whether to add the default set of lists to a board"),
  ``POST /1/lists`` with ``idBoard`` (``api-group-lists``), ``GET /1/boards/{id}/labels``.
- ``GET /1/tokens/{token}`` (``api-group-tokens``): ``permissions`` as ``[{idModel, modelType, read,
  write}]``, ``idModel: "*"`` for every model of that type.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from leadsync.clients.http import ApiHttp, RequestCounter, RetryRules
from leadsync.clients.pacing import Pacer
from leadsync.errors import BadRequest, Unauthorized

__all__ = ["AirtableSetup", "Clock", "SetupApis", "TrelloSetup"]

_HIDDEN_TOKEN_PATH = "/1/tokens/***"  # noqa: S105 - what errors show instead of the token


@dataclass
class Clock:
    """The latest ``Date`` header of each API's answers, and this machine's time when it arrived."""

    seen: dict[str, tuple[float, float]] = field(default_factory=dict)

    def watcher(self, api: str) -> Callable[[httpx.Response], None]:
        """An ``on_response`` hook that notes ``api``'s ``Date`` header."""

        def seen(response: httpx.Response) -> None:
            date = response.headers.get("date")
            if not date:
                return
            try:
                theirs = parsedate_to_datetime(date).timestamp()
            except (TypeError, ValueError):
                return
            self.seen[api] = (theirs, time.time())

        return seen

    def skew(self, api: str) -> float | None:
        """Seconds this machine's clock is ahead of ``api``'s (negative: behind); None before an answer.

        A ``Date`` header has whole seconds and is stamped before the answer travels: under a second of
        difference is noise."""
        if api not in self.seen:
            return None
        theirs, ours = self.seen[api]
        return ours - theirs


class AirtableSetup:
    """Airtable's metadata API and the scope probes, for one token."""

    def __init__(self, http: ApiHttp) -> None:
        self.http = http

    def whoami(self) -> dict[str, Any]:
        """The token's user: ``{id, email?}`` (``scopes`` only for OAuth tokens)."""
        result: dict[str, Any] = self.http.request("GET", "/v0/meta/whoami")
        return result

    def bases(self) -> list[dict[str, Any]]:
        """Every base the token can see: ``{id, name, permissionLevel}``, every page."""
        out: list[dict[str, Any]] = []
        params: dict[str, Any] = {}
        while True:
            page = self.http.request("GET", "/v0/meta/bases", params=params)
            out.extend(page.get("bases", []))
            if not page.get("offset"):
                return out
            params = {"offset": page["offset"]}

    def schema(self, base_id: str) -> dict[str, Any]:
        """The base's tables, with their fields (``get-base-schema``)."""
        result: dict[str, Any] = self.http.request("GET", f"/v0/meta/bases/{base_id}/tables")
        return result

    def create_table(self, base_id: str, name: str, fields: list[dict[str, Any]]) -> dict[str, Any]:
        """A new table whose first field is the primary one; answers the Table model."""
        body = {"name": name, "fields": fields}
        result: dict[str, Any] = self.http.request(
            "POST", f"/v0/meta/bases/{base_id}/tables", json_body=body, idempotent=False
        )
        return result

    def create_field(self, base_id: str, table_id: str, config: dict[str, Any]) -> dict[str, Any]:
        """A new field ``{name, type, options?}``; answers the field model."""
        result: dict[str, Any] = self.http.request(
            "POST", f"/v0/meta/bases/{base_id}/tables/{table_id}/fields", json_body=config, idempotent=False
        )
        return result

    def add_choices(self, base_id: str, table_id: str, field_id: str, names: list[str]) -> None:
        """Add select options through ``typecast`` on placeholder records, then delete those records."""
        for start in range(0, len(names), 10):  # 10 records a request, Airtable's maximum
            chunk = names[start : start + 10]
            records = [{"fields": {field_id: name}} for name in chunk]
            made = self.http.request(
                "POST",
                f"/v0/{base_id}/{table_id}",
                json_body={"records": records, "typecast": True},
                idempotent=False,
            )
            ids = [r["id"] for r in made.get("records", [])]
            self.http.request("DELETE", f"/v0/{base_id}/{table_id}", params=[("records[]", i) for i in ids])

    def probe_read(self, base_id: str, table_id: str) -> None:
        """One record read (``data.records:read``)."""
        self.http.request("GET", f"/v0/{base_id}/{table_id}", params={"maxRecords": 1, "pageSize": 1})

    def probe_write(self, base_id: str, table_id: str) -> bool:
        """Whether the token may write records (``data.records:write``), asked with an empty update that
        changes nothing: refused as invalid (422) with the scope, as forbidden (403) without it."""
        try:
            self.http.request("PATCH", f"/v0/{base_id}/{table_id}", json_body={"records": []}, kind="read")
        except Unauthorized:
            return False
        except BadRequest:
            return True
        return True

    def webhooks(self, base_id: str) -> list[dict[str, Any]]:
        """The base's webhooks made by this token (``webhook:manage``)."""
        result: list[dict[str, Any]] = self.http.request("GET", f"/v0/bases/{base_id}/webhooks")["webhooks"]
        return result


class TrelloSetup:
    """Trello's member, boards, lists, labels, token and webhooks, for one key and token."""

    def __init__(self, http: ApiHttp, token: str) -> None:
        self.http = http
        self._token = token

    def me(self) -> dict[str, Any]:
        """The token's member: ``{id, username, fullName}``."""
        result: dict[str, Any] = self.http.request(
            "GET", "/1/members/me", params={"fields": "id,username,fullName"}
        )
        return result

    def boards(self) -> list[dict[str, Any]]:
        """The member's open boards: ``{id, name, shortLink}``."""
        result: list[dict[str, Any]] = self.http.request(
            "GET", "/1/members/me/boards", params={"filter": "open", "fields": "id,name,shortLink"}
        )
        return result

    def board(self, ref: str) -> dict[str, Any]:
        """One board by id or short link: ``{id, name, shortLink}``."""
        result: dict[str, Any] = self.http.request(
            "GET", f"/1/boards/{ref}", params={"fields": "id,name,shortLink"}
        )
        return result

    def create_board(self, name: str, *, default_lists: bool = False) -> dict[str, Any]:
        """A new board of the member's, with Trello's default lists or none."""
        result: dict[str, Any] = self.http.request(
            "POST",
            "/1/boards",
            params={"name": name, "defaultLists": str(default_lists).lower()},
            idempotent=False,
        )
        return result

    def lists(self, board_id: str) -> list[dict[str, Any]]:
        """The board's open lists, left to right: ``{id, name}``."""
        result: list[dict[str, Any]] = self.http.request(
            "GET", f"/1/boards/{board_id}/lists", params={"filter": "open", "fields": "id,name,pos"}
        )
        return result

    def create_list(self, board_id: str, name: str) -> dict[str, Any]:
        """A new list at the right end of the board."""
        result: dict[str, Any] = self.http.request(
            "POST", "/1/lists", params={"name": name, "idBoard": board_id, "pos": "bottom"}, idempotent=False
        )
        return result

    def labels(self, board_id: str) -> list[dict[str, Any]]:
        """The board's labels: ``{id, name, color}``."""
        result: list[dict[str, Any]] = self.http.request(
            "GET", f"/1/boards/{board_id}/labels", params={"fields": "id,name,color", "limit": 1000}
        )
        return result

    def token(self) -> dict[str, Any]:
        """The token's own record, with its ``permissions``."""
        result: dict[str, Any] = self.http.request(
            "GET", f"/1/tokens/{self._token}", shown_path=_HIDDEN_TOKEN_PATH
        )
        return result

    def webhooks(self) -> list[dict[str, Any]]:
        """The token's webhooks: ``{id, idModel, callbackURL, active}``."""
        result: list[dict[str, Any]] = self.http.request(
            "GET", f"/1/tokens/{self._token}/webhooks", shown_path=_HIDDEN_TOKEN_PATH + "/webhooks"
        )
        return result


@dataclass
class SetupApis:
    """Both setup clients on one HTTP client, with their request counter and the APIs' clocks."""

    http: httpx.Client
    airtable: AirtableSetup
    trello: TrelloSetup
    counter: RequestCounter
    clock: Clock

    @classmethod
    def build(
        cls,
        *,
        airtable_url: str,
        trello_url: str,
        airtable_token: str,
        trello_key: str,
        trello_token: str,
        rate_scale: float = 1.0,
        retry_seconds: float = 30.0,
        http: httpx.Client | None = None,
    ) -> SetupApis:
        """Clients paced under each API's documented limit (5 requests/s per base, 100 per 10 s per
        token), retrying transient failures for at most ``retry_seconds``."""
        http = http or httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))
        counter, clock = RequestCounter(), Clock()
        rules = RetryRules(rate_limit_wait=30.0, timeout=retry_seconds)
        airtable = ApiHttp(
            "airtable", http, airtable_url, pacers=[Pacer(max(1, int(5 * rate_scale)), 1.2)], rules=rules,
            counter=counter, headers={"Authorization": f"Bearer {airtable_token}"},
            on_response=clock.watcher("airtable"),
        )  # fmt: skip
        oauth = f'OAuth oauth_consumer_key="{trello_key}", oauth_token="{trello_token}"'
        trello = ApiHttp(
            "trello", http, trello_url, pacers=[Pacer(max(1, int(100 * rate_scale)), 10.5)],
            rules=RetryRules(rate_limit_wait=10.0, timeout=retry_seconds), counter=counter,
            headers={"Authorization": oauth}, on_response=clock.watcher("trello"),
        )  # fmt: skip
        return cls(http, AirtableSetup(airtable), TrelloSetup(trello, trello_token), counter, clock)

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()
