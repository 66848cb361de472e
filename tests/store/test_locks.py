"""The store's cross-process lock: exclusion, release on error and on death, and private files."""

from __future__ import annotations

import os
import select
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from leadsync.errors import LockBusy
from leadsync.store import Store

CHILD = """
import sys
from leadsync.errors import LockBusy
from leadsync.store import Store

url, action, wait = sys.argv[1], sys.argv[2], float(sys.argv[3])
store = Store.open(url)
try:
    if action == "hold":
        with store.lock("cycle"):
            print("held", flush=True)
            sys.stdin.readline()  # until the parent writes a line or closes stdin
    else:
        try:
            with store.lock("cycle", wait=wait):
                print("acquired", flush=True)
        except LockBusy:
            print("busy", flush=True)
finally:
    store.close()
"""
TIMEOUT = 30.0


def run_child(db_url: str, action: str, *, wait: float = 0.0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url, action, str(wait)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_line(proc: subprocess.Popen[str], timeout: float = TIMEOUT) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        proc.kill()
        raise AssertionError(f"child said nothing within {timeout}s")
    line = proc.stdout.readline().strip()
    if not line:
        proc.wait(TIMEOUT)
        assert proc.stderr is not None
        raise AssertionError(f"child exited {proc.returncode}: {proc.stderr.read()}")
    return line


def finish(proc: subprocess.Popen[str]) -> str:
    """Let a child go (close its stdin) and return the rest of its output."""
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 0, err
    return out


@contextmanager
def held_by_another_process(db_url: str) -> Iterator[subprocess.Popen[str]]:
    proc = run_child(db_url, "hold")
    try:
        assert read_line(proc) == "held"
        yield proc
    finally:
        if proc.poll() is None:
            finish(proc)


def test_lock_excludes_a_second_process(store: Store, db_url: str) -> None:
    with held_by_another_process(db_url):
        started = time.monotonic()
        with pytest.raises(LockBusy), store.lock(wait=0.3):
            pytest.fail("got a lock another process holds")
        assert time.monotonic() - started >= 0.3
    with store.lock(wait=10):
        pass


def test_a_second_process_cannot_take_the_lock_we_hold(store: Store, db_url: str) -> None:
    with store.lock():
        assert finish(run_child(db_url, "try", wait=0.2)).strip() == "busy"
    assert finish(run_child(db_url, "try")).strip() == "acquired"


def test_a_waiting_process_gets_the_lock_once_it_is_released(store: Store, db_url: str) -> None:
    with held_by_another_process(db_url) as holder:
        assert holder.stdin is not None
        release = threading.Timer(0.5, holder.stdin.close)
        release.start()
        try:
            with store.lock(wait=TIMEOUT):
                assert holder.wait(TIMEOUT) == 0
        finally:
            release.cancel()


def test_a_killed_holder_does_not_block_the_next_cycle_forever(store: Store, db_url: str) -> None:
    with held_by_another_process(db_url) as holder:
        holder.kill()
        holder.communicate(timeout=TIMEOUT)
        with store.lock(wait=TIMEOUT):
            pass


def test_a_live_holder_keeps_its_lock_however_long_it_holds_it(store: Store, db_url: str) -> None:
    with held_by_another_process(db_url):
        time.sleep(1.5)  # a lock that expired by itself would be free by now
        with pytest.raises(LockBusy), store.lock():
            pytest.fail("took over a lock whose holder is alive")


def fail_while_holding(store: Store, other: Store) -> None:
    with store.lock():
        with pytest.raises(LockBusy), other.lock():
            pass
        raise RuntimeError("cycle failed")


def test_the_lock_is_released_when_the_block_raises(store: Store, db_url: str) -> None:
    with Store.open(db_url) as other:
        with pytest.raises(RuntimeError, match="cycle failed"):
            fail_while_holding(store, other)
        with other.lock():
            pass


def test_locks_with_different_names_are_independent(store: Store, db_url: str) -> None:
    with Store.open(db_url) as other, store.lock("cycle"):
        with other.lock("backfill"):
            pass
        with pytest.raises(LockBusy), other.lock("cycle"):
            pass


def test_a_sigkilled_holder_frees_the_lock_at_once(store: Store, db_url: str) -> None:
    with held_by_another_process(db_url) as holder:
        with pytest.raises(LockBusy), store.lock():
            pytest.fail("got a lock another process holds")
        os.kill(holder.pid, signal.SIGKILL)
        assert holder.wait(TIMEOUT) == -signal.SIGKILL
        started = time.monotonic()
        with store.lock(wait=0.0):
            taken_after = time.monotonic() - started
        holder.communicate(timeout=TIMEOUT)
    assert taken_after < 1.0


def test_the_lock_waits_for_a_holder_in_the_same_process(db_url: str) -> None:
    with Store.open(db_url) as first, Store.open(db_url) as second:
        release = threading.Event()
        taken = threading.Event()

        def hold() -> None:
            with first.lock():
                taken.set()
                release.wait(TIMEOUT)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert taken.wait(TIMEOUT)
            with pytest.raises(LockBusy), second.lock(wait=0.1):
                pytest.fail("two stores of one process held the lock together")
            threading.Timer(0.2, release.set).start()
            with second.lock(wait=TIMEOUT):
                assert release.is_set()  # taken only once the first store let go
        finally:
            release.set()
            holder.join(TIMEOUT)


# ---------------------------------------------------------------------------- private files


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_store_and_its_lock_are_private_to_their_owner(tmp_path: Path) -> None:
    database = tmp_path / ".leadsync" / "nested" / "state.db"
    with Store.open(f"sqlite:///{database}") as store:
        store.set_airtable_mac_secret("c2VjcmV0")
        with store.lock():
            files = sorted(p.name for p in database.parent.iterdir())
            assert files == ["state.db", "state.db-shm", "state.db-wal", "state.db.cycle.lock"]
            for name in files:
                assert mode_of(database.parent / name) == 0o600, name
    assert mode_of(database.parent) == 0o700
    assert mode_of(database.parent.parent) == 0o700


def test_opening_narrows_a_store_file_others_could_read(tmp_path: Path) -> None:
    database = tmp_path / "state.db"
    Store.open(f"sqlite:///{database}").close()
    database.chmod(0o644)
    with Store.open(f"sqlite:///{database}") as store:
        store.log("opened")
    assert mode_of(database) == 0o600


def test_an_existing_directory_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    Store.open(f"sqlite:///{shared / 'state.db'}").close()
    assert mode_of(shared) == 0o755  # leadsync makes private only what it creates
    assert mode_of(shared / "state.db") == 0o600
