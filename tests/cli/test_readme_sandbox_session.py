"""The README's sandbox session, run as written: its commands are taken from the README itself, run one after
the other in one bash shell (``set -a; . ./sandbox.env`` included) against a real ``leadsync sandbox``
subprocess, and each command's output must be what the README shows. Only the sandbox's port differs (a free
one, so that parallel runs do not collide), and values that change from run to run (ids made from the clock,
record creation times, durations) are compared by their shape."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
MARKER = "@@@ command done, exit "


def session() -> list[tuple[str, list[str]]]:
    """The README's console session after "A newcomer's session": each command (with its continuation lines)
    and the output lines the README shows after it."""
    text = README.read_text()
    start = text.index("```console", text.index("A newcomer's session"))
    block = text[start:].split("\n", 1)[1].split("\n```", 1)[0].splitlines()
    steps: list[tuple[str, list[str]]] = []
    for line in block:
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps and steps[-1][0].endswith("\\") and not steps[-1][1]:
            steps[-1] = (steps[-1][0] + "\n" + line, [])
        else:
            steps[-1][1].append(line)
    return steps


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def shape(text: str, port: int) -> str:
    """What stays the same from run to run: ids made from the clock, creation times and durations as
    placeholders, and the sandbox's port as the README's."""
    text = text.replace(f"127.0.0.1:{port}", "127.0.0.1:8787")
    text = re.sub(r"\b[0-9a-f]{24}\b", "<trello id>", text)
    text = re.sub(r"\brec[A-Za-z0-9]{14}\b", "<record id>", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "<time>", text)
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?", "<date and time>", text)
    text = re.sub(r"\(\d+\.\d s\)", "(<seconds> s)", text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


@pytest.mark.skipif(
    shutil.which("curl") is None, reason="the README's session uses curl; it is not installed"
)
def test_the_readme_sandbox_session_runs_as_written(tmp_path: Path) -> None:
    steps = session()
    assert steps[0][0].startswith("leadsync sandbox --port 8787 ")
    assert steps[-1][0].endswith("leadsync sync")
    port = free_port()
    script = [
        "trap 'kill $! 2>/dev/null' EXIT"
    ]  # the sandbox, started in the background by the first command
    for command, _ in steps:
        script += [command.replace("--port 8787", f"--port {port}"), f'echo "{MARKER}$?"']
        if command.startswith("leadsync sandbox"):  # a person types the next command a few seconds later
            script.append(
                "for _ in $(seq 300); do grep -qs PERSON_TRELLO_TOKEN sandbox.env && break; sleep 0.1; done"
            )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRTABLE_", "TRELLO_", "LEADSYNC_", "PERSON_"))
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # the venv's leadsync
    env["COLUMNS"] = "120"
    run = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    # stdout: the first command's output, then after each marker the command's exit code and the next output.
    chunks = run.stdout.split(MARKER)
    assert len(chunks) == len(steps) + 1, run.stdout + run.stderr
    codes = [chunk.partition("\n")[0].strip() for chunk in chunks[1:]]
    outputs = [chunks[0], *[chunk.partition("\n")[2] for chunk in chunks[1:-1]]]
    assert codes == ["0"] * len(steps), (codes, run.stdout, run.stderr)
    for (command, shown), got in zip(steps, outputs, strict=True):
        if command.startswith("leadsync sandbox"):  # its own output goes to sandbox.env; this line to stderr
            assert shape("\n".join(shown), port) in shape(run.stderr, port)
            continue
        assert shape(got, port) == shape("\n".join(shown), port), command
