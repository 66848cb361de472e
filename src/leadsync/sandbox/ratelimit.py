"""Sliding-window rate limits as each API documents them, scaled by ``rate_scale`` (0 turns them off)."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field

from leadsync.sandbox.clock import Clock

__all__ = ["AirtableLimits", "SlidingWindow", "TrelloLimits", "TrelloVerdict"]


@dataclass
class SlidingWindow:
    """At most ``limit`` hits per ``window`` seconds for each key."""

    limit: int
    window: float
    hits: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def _trim(self, key: str, now: float) -> deque[float]:
        q = self.hits[key]
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def remaining(self, key: str, now: float, scale: float) -> int:
        """How many more hits ``key`` may make now."""
        return max(0, self.scaled(scale) - len(self._trim(key, now)))

    def scaled(self, scale: float) -> int:
        """The limit times ``scale``, at least 1."""
        return max(1, int(self.limit * scale))

    def hit(self, key: str, now: float, scale: float) -> bool:
        """Count one request; False when it is over the limit (the rejected request is not counted)."""
        q = self._trim(key, now)
        if len(q) >= self.scaled(scale):
            return False
        q.append(now)
        return True


class AirtableLimits:
    """5 requests/s per base and 50/s per token; a 429 starts a 30 s penalty for that base (or token)."""

    PENALTY_SECONDS = 30.0

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.per_base = SlidingWindow(5, 1.0)
        self.per_token = SlidingWindow(50, 1.0)
        self.penalty_until: dict[str, float] = {}
        self.exempt: set[str] = set()  # tokens that stand for a person in the UI (not API traffic)

    def check(self, base_id: str, token: str, scale: float) -> bool:
        """True if the request may proceed."""
        if scale <= 0 or token in self.exempt:
            return True
        now = self.clock.monotonic()
        for key in (f"base:{base_id}", f"token:{token}"):
            if self.penalty_until.get(key, 0.0) > now:
                return False
        if not self.per_base.hit(base_id, now, scale):
            self.penalty_until[f"base:{base_id}"] = now + self.PENALTY_SECONDS
            return False
        if not self.per_token.hit(token, now, scale):
            self.penalty_until[f"token:{token}"] = now + self.PENALTY_SECONDS
            return False
        return True


@dataclass(frozen=True)
class TrelloVerdict:
    """Whether a Trello request may go on, the error to give when not, and the limit headers."""

    ok: bool
    error: str | None
    headers: dict[str, str]


class TrelloLimits:
    """100 requests per 10 s per token, 300 per key, and 100 per 900 s on ``/1/members/*`` (top level)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.per_token = SlidingWindow(100, 10.0)
        self.per_key = SlidingWindow(300, 10.0)
        self.members = SlidingWindow(100, 900.0)
        self.exempt: set[str] = set()  # tokens that stand for a person in the UI (not API traffic)

    def check(self, key: str, token: str, path: str, scale: float) -> TrelloVerdict:
        """Count one request by this key and token on ``path``; the verdict and the headers to send."""
        now = self.clock.monotonic()
        if scale <= 0 or token in self.exempt:
            return TrelloVerdict(True, None, {})
        error: str | None = None
        if not self.per_key.hit(key, now, scale):
            error = "API_KEY_LIMIT_EXCEEDED"
        elif not self.per_token.hit(token, now, scale):
            error = "API_TOKEN_LIMIT_EXCEEDED"
        elif (
            path.count("/") == 3
            and path.startswith("/1/members/")
            and not self.members.hit(token, now, scale)
        ):
            error = "MEMBER_LIMIT_EXCEEDED"
        headers = {
            "x-rate-limit-api-token-interval-ms": "10000",
            "x-rate-limit-api-token-max": str(self.per_token.scaled(scale)),
            "x-rate-limit-api-token-remaining": str(self.per_token.remaining(token, now, scale)),
            "x-rate-limit-api-key-interval-ms": "10000",
            "x-rate-limit-api-key-max": str(self.per_key.scaled(scale)),
            "x-rate-limit-api-key-remaining": str(self.per_key.remaining(key, now, scale)),
        }
        return TrelloVerdict(error is None, error, headers)
