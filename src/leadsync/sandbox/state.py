"""The sandbox's whole state: identities, both worlds, limits, faults, the request log and webhooks.

Route handlers are ``async`` and never ``await`` in the middle of a read-modify-write, so the
single event loop serialises every mutation without locks.
"""

from __future__ import annotations

import copy
import random
import secrets
import string
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from leadsync.sandbox.clock import Clock
from leadsync.sandbox.dispatch import Dispatcher
from leadsync.sandbox.ratelimit import AirtableLimits, TrelloLimits

if TYPE_CHECKING:
    from leadsync.sandbox.airtable import AirtableWorld
    from leadsync.sandbox.trello import TrelloWorld

_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Identity:
    """One user of both services: leadsync's integration account, or a person editing by hand."""

    name: str
    full_name: str
    email: str
    airtable_token: str
    airtable_user_id: str
    trello_key: str
    trello_token: str
    trello_member_id: str
    trello_username: str


@dataclass
class FaultRule:
    """The next ``count`` requests matching ``method`` and ``path_prefix`` misbehave.

    ``action``: ``status`` (answer ``status`` with ``body``), ``hang`` (sleep ``hang_seconds``, then
    drop the connection, the request not applied), ``drop`` (drop the connection, not applied) or
    ``lost_response`` (apply the request, then drop the connection before the response).
    """

    method: str
    path_prefix: str
    action: str = "status"
    count: int = 1
    status: int = 503
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hang_seconds: float = 30.0

    def matches(self, method: str, path: str) -> bool:
        return self.count > 0 and self.method in ("*", method) and path.startswith(self.path_prefix)


@dataclass
class LogEntry:
    seq: int
    method: str
    path: str
    query: str
    api: str
    status: int = 0
    who: str | None = None
    fault: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "api": self.api,
            "status": self.status,
            "who": self.who,
            "fault": self.fault,
        }


class SandboxState:
    """Everything the emulator knows. ``reset()`` returns to the provisioned state (same ids, same keys)."""

    def __init__(self, *, seed: int | None = None, rate_scale: float = 1.0, latency_ms: float = 0.0) -> None:
        self.rng = random.Random(seed if seed is not None else secrets.randbits(64))
        self.clock = Clock()
        self.rate_scale = rate_scale
        self.latency_ms = latency_ms
        self.base_url = "http://127.0.0.1:8787"
        self.leadsync = self._make_identity("leadsync", "leadsync bot", "leadsync@example.com")
        self.person = self._make_identity("person", "Pat Person", "pat@example.com")
        self.identities = {i.name: i for i in (self.leadsync, self.person)}
        self.trello_secrets = {i.trello_key: self.hex(64) for i in (self.leadsync, self.person)}
        self.person_rate_limited = False
        self.airtable_limits = AirtableLimits(self.clock)
        self.trello_limits = TrelloLimits(self.clock)
        self.apply_person_exemption()
        self.faults: list[FaultRule] = []
        self.log: list[LogEntry] = []
        self._seq = 0
        self.dispatcher = Dispatcher()
        # Webhook retry schedules in seconds (documented defaults; tests shorten them).
        self.airtable_ping_retry_delays: list[float] = [10.0 * 2**i for i in range(13)]
        self.trello_retry_delays: list[float] = [30.0, 60.0, 120.0]
        self._trello_id_counter = self.rng.randrange(1 << 24)
        from leadsync.sandbox.airtable import AirtableWorld
        from leadsync.sandbox.trello import TrelloWorld

        self.airtable: AirtableWorld = AirtableWorld(self)
        self.trello: TrelloWorld = TrelloWorld(self)
        self._initial = (copy.deepcopy(self.airtable), copy.deepcopy(self.trello))

    # ---- ids -------------------------------------------------------------------------------------
    def hex(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def airtable_id(self, prefix: str) -> str:
        """``prefix`` + 14 letters or digits (``rec``, ``tbl``, ``fld``, ``sel``, ``ach``, ``usr``...)."""
        return prefix + "".join(self.rng.choice(_ALNUM) for _ in range(14))

    def trello_id(self) -> str:
        """A Mongo ObjectId: 8 hex of the creation time, 16 more that only grow."""
        self._trello_id_counter = (self._trello_id_counter + 1) % (1 << 24)
        return f"{int(self.clock.time()):08x}{self.hex(10)}{self._trello_id_counter:06x}"

    def short_link(self) -> str:
        return "".join(self.rng.choice(_ALNUM) for _ in range(8))

    def _make_identity(self, name: str, full_name: str, email: str) -> Identity:
        return Identity(
            name=name,
            full_name=full_name,
            email=email,
            airtable_token=f"pat{''.join(self.rng.choice(_ALNUM) for _ in range(14))}.{self.hex(64)}",
            airtable_user_id=self.airtable_id("usr"),
            trello_key=self.hex(32),
            trello_token=self.hex(64),
            trello_member_id=self.hex(24),
            trello_username=name.replace(" ", "").lower(),
        )

    # ---- lookups ---------------------------------------------------------------------------------
    def identity_by_airtable_token(self, token: str) -> Identity | None:
        return next(
            (i for i in self.identities.values() if secrets.compare_digest(i.airtable_token, token)), None
        )

    def identity_by_trello_key(self, key: str) -> Identity | None:
        return next((i for i in self.identities.values() if i.trello_key == key), None)

    # ---- request log -----------------------------------------------------------------------------
    def new_entry(self, method: str, path: str, query: str) -> LogEntry:
        self._seq += 1
        api = "airtable" if path.startswith("/v0") else "trello" if path.startswith("/1") else "other"
        entry = LogEntry(self._seq, method, path, query, api)
        self.log.append(entry)
        return entry

    def take_fault(self, method: str, path: str) -> FaultRule | None:
        for rule in self.faults:
            if rule.matches(method, path):
                rule.count -= 1
                return rule
        return None

    # ---- control ---------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the provisioned state: data, faults, limits and log cleared; ids and keys kept."""
        self.airtable, self.trello = copy.deepcopy(self._initial[0]), copy.deepcopy(self._initial[1])
        self.airtable.state = self
        self.trello.state = self
        self.faults.clear()
        self.log.clear()
        self.airtable_limits = AirtableLimits(self.clock)
        self.trello_limits = TrelloLimits(self.clock)
        self.apply_person_exemption()

    def apply_person_exemption(self) -> None:
        """The person stands for a human editing in the UI, whose edits don't count against API limits,
        unless ``person_rate_limited`` (tests of a person's own API traffic)."""
        self.airtable_limits.exempt = set() if self.person_rate_limited else {self.person.airtable_token}
        self.trello_limits.exempt = set() if self.person_rate_limited else {self.person.trello_token}

    def settings(self) -> dict[str, str]:
        """The ``KEY=VALUE`` settings leadsync needs, and the person's credentials."""
        import json

        return {
            "AIRTABLE_API_URL": self.base_url,
            "AIRTABLE_API_KEY": self.leadsync.airtable_token,
            "AIRTABLE_BASE_ID": self.airtable.base_id,
            "AIRTABLE_LEADS_TABLE_NAME": self.airtable.table_name,
            "TRELLO_API_URL": self.base_url,
            "TRELLO_API_KEY": self.leadsync.trello_key,
            "TRELLO_TOKEN": self.leadsync.trello_token,
            "TRELLO_API_SECRET": self.trello_secrets[self.leadsync.trello_key],
            "TRELLO_BOARD_ID": self.trello.board_id,
            "TRELLO_LIST_IDS": json.dumps(self.trello.list_ids, separators=(",", ":")),
            **(
                {"LEADSYNC_RATE_LIMIT_SCALE": f"{self.rate_scale:g}"} if self.rate_scale not in (0, 1) else {}
            ),
            "PERSON_AIRTABLE_API_KEY": self.person.airtable_token,
            "PERSON_TRELLO_API_KEY": self.person.trello_key,
            "PERSON_TRELLO_TOKEN": self.person.trello_token,
        }
