"""The dashboard's access control: the password, signed sessions, CSRF tokens, and the login rate limit.

- **Password**: ``LEADSYNC_DASHBOARD_PASSWORD`` holds the password itself, or its scrypt hash in the form
  ``scrypt$<n>$<r>$<p>$<salt, base64>$<hash, base64>`` (:func:`hash_password` makes one). Compared in
  constant time either way.
- **Session**: a cookie signed with itsdangerous (HMAC-SHA1 over a key drawn at random when the server
  starts: a restart logs everyone out, and no key is ever configured or stored). It carries a random
  session id and the session's CSRF token, and expires after :data:`SESSION_SECONDS`. The server also
  keeps the ids of the sessions it opened and has not closed, so a cookie stops working at logout. The cookie is
  ``HttpOnly``, ``SameSite=Strict``, and ``Secure`` when the request came over HTTPS (directly or, per
  ``X-Forwarded-Proto``, through a proxy).
- **CSRF**: every form carries the session's token in a hidden field; every POST must echo it.
- **Login attempts**: at most :data:`LOGIN_ATTEMPTS` per client address per :data:`LOGIN_WINDOW` seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "COOKIE",
    "LOGIN_ATTEMPTS",
    "LOGIN_WINDOW",
    "SESSION_SECONDS",
    "LoginLimiter",
    "Password",
    "Session",
    "Sessions",
    "hash_password",
    "is_https",
]

COOKIE = "leadsync_session"
SESSION_SECONDS = 12 * 3600
LOGIN_ATTEMPTS = 5
LOGIN_WINDOW = 60.0
_SCRYPT = "scrypt"
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str, *, n: int = _N, r: int = _R, p: int = _P) -> str:
    """The ``scrypt$...`` form of a password, for ``LEADSYNC_DASHBOARD_PASSWORD``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p)
    encode = base64.b64encode
    return f"{_SCRYPT}${n}${r}${p}${encode(salt).decode()}${encode(digest).decode()}"


class Password:
    """The dashboard's password, from the setting: plain, or an ``scrypt$`` hash."""

    def __init__(self, setting: str) -> None:
        self._setting = setting
        self._hashed = setting.startswith(_SCRYPT + "$")
        if self._hashed:
            parts = setting.split("$")
            if len(parts) != 6 or not all(x.isdigit() for x in parts[1:4]):
                raise ValueError(
                    "LEADSYNC_DASHBOARD_PASSWORD starts with scrypt$ but is not "
                    "scrypt$<n>$<r>$<p>$<salt>$<hash>; make one with leadsync.dashboard.auth.hash_password"
                )

    def matches(self, given: str) -> bool:
        """Whether ``given`` is the password (constant time)."""
        if not self._hashed:
            return hmac.compare_digest(given.encode(), self._setting.encode())
        _, n, r, p, salt, digest = self._setting.split("$")
        try:
            expected = base64.b64decode(digest, validate=True)
            computed = hashlib.scrypt(
                given.encode(), salt=base64.b64decode(salt, validate=True), n=int(n), r=int(r), p=int(p)
            )
        except ValueError:
            return False
        return hmac.compare_digest(computed, expected)


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in browser: its session id and the CSRF token its forms carry."""

    sid: str
    csrf: str


class Sessions:
    """Signing and reading session cookies, and checking CSRF tokens."""

    def __init__(self, key: bytes | None = None, most: int = 10_000) -> None:
        self._serializer = URLSafeTimedSerializer(key or secrets.token_bytes(32), salt="leadsync-dashboard")
        self._open: dict[str, float] = {}  # session id -> when it was opened (insertion order: oldest first)
        self._most = most
        self._lock = threading.Lock()

    def new(self) -> Session:
        """A fresh session (after a login)."""
        session = Session(sid=secrets.token_urlsafe(16), csrf=secrets.token_urlsafe(24))
        with self._lock:
            while len(self._open) >= self._most:  # many logins: the oldest sessions end first
                del self._open[next(iter(self._open))]
            self._open[session.sid] = time.monotonic()
        return session

    def close(self, session: Session) -> None:
        """End a session (logout): its cookie is refused from now on."""
        with self._lock:
            self._open.pop(session.sid, None)

    def read(self, request: Request) -> Session | None:
        """The request's valid session, or None (no cookie, a forged or an expired one)."""
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("sid"), str):
            return None
        if not isinstance(data.get("csrf"), str):
            return None
        with self._lock:
            if data["sid"] not in self._open:
                return None
        return Session(sid=data["sid"], csrf=data["csrf"])

    def attach(self, response: Response, session: Session, request: Request) -> None:
        """Set the signed session cookie on ``response``."""
        value = self._serializer.dumps({"sid": session.sid, "csrf": session.csrf})
        response.set_cookie(
            COOKIE,
            value,
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="strict",
            secure=is_https(request),
            path="/",
        )

    @staticmethod
    def forget(response: Response, request: Request) -> None:
        """Clear the session cookie (log out)."""
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=is_https(request))

    @staticmethod
    def csrf_ok(session: Session, given: object) -> bool:
        """Whether a form's token is the session's (constant time)."""
        return isinstance(given, str) and hmac.compare_digest(given.encode(), session.csrf.encode())


def is_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS, directly or through a proxy that says so."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


class LoginLimiter:
    """At most ``attempts`` logins per client address in a sliding window of ``window`` seconds."""

    def __init__(self, attempts: int = LOGIN_ATTEMPTS, window: float = LOGIN_WINDOW) -> None:
        self.attempts = attempts
        self.window = window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> float | None:
        """Count an attempt from ``client``; None if allowed, else the seconds until the next one is."""
        moment = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000:  # many addresses: drop those whose window has passed
                self._seen = {k: v for k, v in self._seen.items() if v and moment - v[-1] < self.window}
            seen = self._seen.setdefault(client, deque())
            while seen and moment - seen[0] >= self.window:
                seen.popleft()
            if len(seen) >= self.attempts:
                return self.window - (moment - seen[0])
            seen.append(moment)
            return None
