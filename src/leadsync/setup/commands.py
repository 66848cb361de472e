"""The Typer entry points of ``leadsync init`` and ``leadsync doctor`` (registered by ``leadsync.cli``).

Exit codes as every command's: 0 done (doctor: every check passed), 2 a configuration problem (doctor:
a check failed), 1 anything else that failed. No secret is ever printed: every line goes through a
console that masks the tokens given.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from dotenv import dotenv_values
from rich.console import Console
from rich.markup import escape

from leadsync.errors import LeadsyncError
from leadsync.exit_codes import ExitCode, error_exit
from leadsync.setup.asking import Asker, Interactive, Unattended
from leadsync.setup.doctor import Check, run_doctor
from leadsync.setup.init import InitOptions, run_init

__all__ = ["doctor", "init"]


def _console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream, highlight=False, soft_wrap=True, width=None if stream.isatty() else 200)


def init(
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="Ask nothing: take every answer from the flags, leadsync.toml, the environment and .env, "
            "and create what is missing. Runs without a terminal.",
        ),
    ] = False,
    airtable_token: Annotated[
        str | None,
        typer.Option(
            "--airtable-token", envvar=None, help="Airtable personal access token (else AIRTABLE_API_KEY)."
        ),
    ] = None,
    base: Annotated[
        str | None, typer.Option("--base", help="Airtable base id, app... (else AIRTABLE_BASE_ID).")
    ] = None,
    table: Annotated[
        str | None,
        typer.Option("--table", help="Table of leads, name or tbl... id (else AIRTABLE_LEADS_TABLE_NAME)."),
    ] = None,
    trello_key: Annotated[
        str | None, typer.Option("--trello-key", help="Trello API key (else TRELLO_API_KEY).")
    ] = None,
    trello_token: Annotated[
        str | None, typer.Option("--trello-token", help="Trello token (else TRELLO_TOKEN).")
    ] = None,
    board: Annotated[
        str | None, typer.Option("--board", help="Trello board id or short link (else TRELLO_BOARD_ID).")
    ] = None,
    board_name: Annotated[
        str, typer.Option("--board-name", help="Name of the board to create.")
    ] = "Lead Tasks",
    default_lists: Annotated[
        bool,
        typer.Option(
            "--default-lists/--no-default-lists",
            help="Give a new board Trello's default lists (To Do, Doing, Done) besides the status lists.",
        ),
    ] = False,
    airtable_url: Annotated[
        str | None,
        typer.Option("--airtable-url", help="Airtable API URL, for a sandbox (else AIRTABLE_API_URL)."),
    ] = None,
    trello_url: Annotated[
        str | None, typer.Option("--trello-url", help="Trello API URL, for a sandbox (else TRELLO_API_URL).")
    ] = None,
    flow: Annotated[str | None, typer.Option("--flow", help="The flow of leadsync.toml to set up.")] = None,
) -> None:
    """Set up the Airtable table, the Trello board and lists, and write .env (secrets, mode 0600) and
    leadsync.toml. Asks for each answer; --yes asks nothing. Running it again changes nothing that is right."""
    out = _console()
    secrets = [s for s in (airtable_token, trello_key, trello_token) if s] + _known_secrets(Path(".env"))
    if not yes and not sys.stdin.isatty():
        _console(stderr=True).print(
            "[bold red]Configuration error[/]: init asks questions and no terminal is attached. "
            "Run it in a terminal, or pass --yes to take the answers from the environment and .env."
        )
        raise typer.Exit(ExitCode.CONFIG)
    ask: Asker = Unattended(out) if yes else Interactive(out)
    options = InitOptions(
        airtable_token=airtable_token, base=base, table=table, trello_key=trello_key, trello_token=trello_token,
        board=board, board_name=board_name, default_lists=default_lists, airtable_url=airtable_url,
        trello_url=trello_url, flow=flow,
    )  # fmt: skip
    try:
        report = run_init(options, ask)
    except LeadsyncError as exc:
        code, _ = error_exit(exc)
        kind = "Configuration error" if code == ExitCode.CONFIG else "Failed"
        _console(stderr=True).print(f"[bold red]{kind}[/]: " + escape(_masked(str(exc), secrets)))
        raise typer.Exit(code) from None
    except (KeyboardInterrupt, typer.Abort, EOFError):
        _console(stderr=True).print("\nStopped: nothing more was changed.")
        raise typer.Exit(ExitCode.RECORD_ERRORS) from None
    if report.created or report.files:
        out.print(f"[bold green]Done[/]: {len(report.created)} created, {len(report.files)} file(s) written.")
    else:
        out.print("[bold green]Nothing to do[/]: the table, the board and both files are already right.")
    out.print("Next: [bold]leadsync doctor[/] to check everything, then [bold]leadsync sync[/].")


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as one JSON object.")] = False,
    flow: Annotated[str | None, typer.Option("--flow", help="The flow of leadsync.toml to check.")] = None,
) -> None:
    """Check the setup: tokens and scopes, base, table, fields, options, board, lists, labels, store,
    webhooks, clock. One line per check, each failure with its fix; exit 0 when all pass, else 2."""
    checks, secrets = run_doctor(env_file=Path(".env"), flow_name=flow)
    failed = [c for c in checks if c.status == "fail"]
    if as_json:
        body = {"ok": not failed, "checks": [c.as_json() for c in checks]}
        print(_masked(json.dumps(body, ensure_ascii=False), secrets))
    else:
        out = _console()
        for check in checks:
            out.print(_masked(_line(check), secrets))
        summary = (
            f"{len(failed)} of {len(checks)} checks failed" if failed else f"all {len(checks)} checks passed"
        )
        out.print(("[bold red]" if failed else "[bold green]") + summary + "[/]")
    raise typer.Exit(ExitCode.CONFIG if failed else ExitCode.OK)


_MARKS = {"pass": "[green]ok  [/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}


def _line(check: Check) -> str:
    text = f"{_MARKS[check.status]} {escape(check.name)}: {escape(check.detail)}"
    if check.fix and check.status != "pass":
        text += f"\n       fix: {escape(check.fix)}"
    return text


def _known_secrets(env_file: Path) -> list[str]:
    """The credentials already set in the environment or ``.env``: no message may show them either."""
    values = dict(dotenv_values(env_file)) if env_file.is_file() else {}
    values.update(os.environ)
    names = ("AIRTABLE_API_KEY", "TRELLO_API_KEY", "TRELLO_TOKEN", "TRELLO_API_SECRET", "WEBHOOK_SECRET")
    return [v for name in names if (v := values.get(name))]


def _masked(text: str, secrets: list[str]) -> str:
    for secret in sorted((s for s in secrets if len(s) >= 6), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
