"""A real ``leadsync serve`` process on loopback, with webhooks registered in the sandbox."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures_sandbox import Leadsync, RunningSandbox


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], timeout: float = 15.0, interval: float = 0.05) -> float:
    """Poll until ``condition()`` holds; returns the seconds it took. Fails the test on timeout."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
    return time.monotonic() - started


@dataclass
class Served:
    """One ``leadsync serve`` process."""

    url: str
    process: subprocess.Popen[str]
    log_path: Path

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = httpx.get(f"{self.url}/health", timeout=10).json()
        return result

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_serve(leadsync: Leadsync, name: str = "serve", **env: str) -> Served:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = leadsync.workdir / f"{name}.log"
    environment = leadsync.env(
        LEADSYNC_PUBLIC_URL=url, LEADSYNC_SWEEP_INTERVAL=env.pop("sweep", "300"), **env
    )
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "leadsync", "-v", "serve", "--port", str(port)],
            cwd=leadsync.workdir, env=environment, stdout=log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    served = Served(url, process, log_path)

    def up() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"serve exited {process.returncode}:\n{served.log()}")
        try:
            return httpx.get(f"{url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(up, timeout=30)
    return served


@pytest.fixture
def served(leadsync: Leadsync, sandbox: RunningSandbox) -> Iterator[Served]:
    """``leadsync serve`` with both webhooks registered through ``leadsync webhooks register``."""
    server = start_serve(leadsync)
    try:
        run = leadsync.run("webhooks", "register", env=leadsync.env(LEADSYNC_PUBLIC_URL=server.url))
        assert run.code == 0, f"{run.stdout}\n{run.stderr}"
        # The start-up sweep has run (a full first cycle), so events from now on are the test's.
        wait_until(lambda: server.health()["worker"]["last_sweep_at"] is not None)
        yield server
    finally:
        server.stop()
