"""What both emulated APIs share: the clock, ids, identities and their credentials, rate limits, the
webhook dispatcher and the knobs that tune them.

Both halves (``airtable`` and ``trello``) depend on this object and on nothing above it; the full
:class:`~leadsync.sandbox.state.SandboxState` builds on it. Route handlers are ``async`` and never
``await`` in the middle of a read-modify-write, so the single event loop serialises every mutation
without locks.
"""

from __future__ import annotations

import random
import secrets
import string

from leadsync.sandbox.clock import Clock
from leadsync.sandbox.dispatch import Dispatcher
from leadsync.sandbox.identities import Identity
from leadsync.sandbox.ratelimit import AirtableLimits, TrelloLimits

__all__ = ["SharedState"]

_ALNUM = string.ascii_letters + string.digits


class SharedState:
    """The clock, id generators, identities, rate limits and webhook dispatcher of the sandbox."""

    def __init__(self, *, seed: int | None = None, rate_scale: float = 1.0, latency_ms: float = 0.0) -> None:
        self.rng = random.Random(seed if seed is not None else secrets.randbits(64))
        self.clock = Clock()
        self.rate_scale = rate_scale
        self.latency_ms = latency_ms
        self.leadsync = self._make_identity("leadsync", "leadsync bot", "leadsync@example.com")
        self.person = self._make_identity("person", "Pat Person", "pat@example.com")
        self.identities = {i.name: i for i in (self.leadsync, self.person)}
        self.trello_secrets = {i.trello_key: self.hex(64) for i in (self.leadsync, self.person)}
        self.person_rate_limited = False
        self.airtable_limits = AirtableLimits(self.clock)
        self.trello_limits = TrelloLimits(self.clock)
        self.apply_person_exemption()
        self.dispatcher = Dispatcher()
        # Webhook retry schedules in seconds (documented defaults; tests shorten them).
        self.airtable_ping_retry_delays: list[float] = [10.0 * 2**i for i in range(13)]
        self.trello_retry_delays: list[float] = [30.0, 60.0, 120.0]
        self._trello_id_counter = self.rng.randrange(1 << 24)

    # ---- ids -------------------------------------------------------------------------------------
    def hex(self, n: int) -> str:
        """``n`` random lowercase hex digits."""
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def airtable_id(self, prefix: str) -> str:
        """``prefix`` + 14 letters or digits (``rec``, ``tbl``, ``fld``, ``sel``, ``ach``, ``usr``...)."""
        return prefix + "".join(self.rng.choice(_ALNUM) for _ in range(14))

    def trello_id(self) -> str:
        """A Mongo ObjectId: 8 hex of the creation time, 16 more that only grow."""
        self._trello_id_counter = (self._trello_id_counter + 1) % (1 << 24)
        return f"{int(self.clock.time()):08x}{self.hex(10)}{self._trello_id_counter:06x}"

    def short_link(self) -> str:
        """Eight random letters or digits (a Trello shortLink candidate)."""
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
        """The identity holding this Airtable personal access token, if any."""
        return next(
            (i for i in self.identities.values() if secrets.compare_digest(i.airtable_token, token)), None
        )

    def identity_by_trello_key(self, key: str) -> Identity | None:
        """The identity holding this Trello API key, if any."""
        return next((i for i in self.identities.values() if i.trello_key == key), None)

    # ---- limits ----------------------------------------------------------------------------------
    def reset_limits(self) -> None:
        """Fresh rate-limit windows for both APIs (the person's exemption kept as configured)."""
        self.airtable_limits = AirtableLimits(self.clock)
        self.trello_limits = TrelloLimits(self.clock)
        self.apply_person_exemption()

    def apply_person_exemption(self) -> None:
        """The person stands for a human editing in the UI, whose edits don't count against API limits,
        unless ``person_rate_limited`` (tests of a person's own API traffic)."""
        self.airtable_limits.exempt = set() if self.person_rate_limited else {self.person.airtable_token}
        self.trello_limits.exempt = set() if self.person_rate_limited else {self.person.trello_token}
