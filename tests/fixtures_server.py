"""A real ``leadsync serve`` process on loopback, with webhooks registered in the sandbox."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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


# ---- raw HTTP: bytes no client library would send --------------------------------------------------------


def raw_exchange(url: str, request: bytes, *, timeout: float = 10.0, hang_up: bool = False) -> bytes:
    """Send ``request`` as is to the server at ``url`` and return what it answers before closing.

    ``hang_up`` closes the connection right after sending, without waiting for an answer: a client that
    disconnects mid-body. Otherwise the write side is shut, so a body shorter than its Content-Length
    ends in end-of-file instead of a wait.
    """
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=timeout) as sock:
        # The server may answer early (a 413 on the declared length) and close: then read its answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        if hang_up:
            return b""
        with contextlib.suppress(OSError):  # already closed by the server
            sock.shutdown(socket.SHUT_WR)
        received = bytearray()
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
        return bytes(received)


def post_request(
    path: str, body: bytes, headers: dict[bytes, bytes], content_length: int | None = None
) -> bytes:
    """A ``POST`` request's bytes, with header values of any bytes and any declared Content-Length."""
    length = len(body) if content_length is None else content_length
    lines = [b"POST " + path.encode() + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close",
             b"Content-Length: " + str(length).encode()]  # fmt: skip
    lines += [name + b": " + value for name, value in headers.items()]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def status_of(response: bytes) -> int | None:
    """The status code of a raw HTTP response; None when the server closed without answering."""
    if not response:
        return None
    return int(response.split(b" ", 2)[1])


def trello_sign(secret: str, body: bytes, callback: str) -> str:
    """How Trello signs a delivery (``X-Trello-Webhook``)."""
    return base64.b64encode(
        hmac.new(secret.encode(), body + callback.encode(), hashlib.sha1).digest()
    ).decode()


def airtable_sign(mac_secret_base64: str, body: bytes) -> str:
    """How Airtable signs a notification (``X-Airtable-Content-MAC``)."""
    key = base64.b64decode(mac_secret_base64)
    return "hmac-sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
