"""leadsync's engine as a process would run it, pointed at an in-process sandbox: built, crashed, rebuilt.

``Process`` is one "leadsync process": an :class:`~leadsync.engine.Engine` with its own HTTP client and
its own handle on the store. Dropping it and building another on the same store URL is a restart.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx

from leadsync.core import parse_lead_id
from leadsync.engine import CycleResult, Engine
from leadsync.executor import Progress
from leadsync.sandbox import BackgroundServer, SandboxState, start
from leadsync.sandbox.person import Person
from leadsync.sandbox.request_log import LogEntry
from leadsync.settings import Settings, load_settings

TLS = ssl.create_default_context()
"""One TLS context for every client made here: loading the CA bundle for each new client costs ~45 ms,
and a restarted "process" is a new client (the sandbox is plain HTTP on loopback anyway)."""


class Crash(BaseException):
    """Raised from the progress hook to stop a cycle part-way, as a killed process would stop."""


def engine_settings(state: SandboxState, db_path: Path, **overrides: Any) -> Settings:
    """leadsync's settings for the sandbox (the person's credentials left out) and a SQLite store."""
    values: dict[str, Any] = {k: v for k, v in state.settings().items() if not k.startswith("PERSON_")}
    values["LEADSYNC_DATABASE_URL"] = f"sqlite:///{db_path}"
    values.update(overrides)
    return load_settings(None, **values)


def new_engine(settings: Settings, timeout: float = 10.0) -> Engine:
    """A fresh "process": its own HTTP client (``timeout`` per request) and its own store handle."""
    return Engine(settings, http=httpx.Client(timeout=httpx.Timeout(timeout), verify=TLS))


def crash_after(writes: int, hook: Callable[[int], None] | None = None) -> Callable[[int], Progress]:
    """A progress factory that stops the cycle once ``writes`` writes have reached the API (for a create:
    after the card exists and before the store records it). ``hook(done)`` runs at every write first."""

    def factory(_total: int) -> Progress:
        done = [0]

        def advance(n: int) -> None:
            done[0] += n
            if hook is not None:
                hook(done[0])
            if done[0] >= writes:
                raise Crash(f"killed after {done[0]} writes")

        return advance

    return factory


def run(engine: Engine, **kwargs: Any) -> CycleResult:
    return engine.run_cycle(lock_wait=5.0, **kwargs)


def sandbox(seed: int, rate_scale: float = 1000.0) -> tuple[BackgroundServer, SandboxState]:
    """A seeded sandbox on loopback with the documented limits scaled far above what a test needs."""
    return start(seed=seed, rate_scale=rate_scale)


@contextlib.contextmanager
def sandbox_and_person(seed: int) -> Iterator[tuple[SandboxState, Person]]:
    """A seeded sandbox and a person editing it by hand; both stopped on exit."""
    server, state = sandbox(seed)
    person = Person(state.settings())
    try:
        yield state, person
    finally:
        person.close()
        server.stop()


def writes(result: CycleResult) -> int:
    """The write requests a cycle sent, as leadsync's clients counted them."""
    return sum(kinds["write"] for kinds in result.api_calls.values())


def leadsync_writes(entries: Iterable[LogEntry]) -> list[tuple[str, str]]:
    """The writes leadsync sent, as the sandbox's request log saw them (``listRecords`` is a POST that reads)."""
    return [
        (e.method, e.path)
        for e in entries
        if e.who == "leadsync" and e.method != "GET" and not e.path.endswith("/listRecords")
    ]


def card_of(person: Person, lead: str) -> dict[str, object]:
    """The one card (open or archived) whose description names ``lead``."""
    (card,) = [c for c in person.cards("all") if parse_lead_id(str(c["desc"])) == lead]
    return card
