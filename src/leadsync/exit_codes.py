"""The ``leadsync`` command's exit codes, and the one table that maps each error to its code and message.

0 success, 1 the cycle finished but some records failed (or another process held the cycle lock),
2 configuration or usage error (an unusable state store included), 3 a side could not be read and
nothing was written.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

from rich.markup import escape

from leadsync.errors import ConfigError, LeadsyncError, LockBusy, ReadFailed, StoreError
from leadsync.settings import setting_source

__all__ = [
    "EXIT_CODE_MEANINGS",
    "EXIT_RULES",
    "READ_FAILED_HINT",
    "ExitCode",
    "StoreUnusable",
    "config_message",
    "error_exit",
]

READ_FAILED_HINT = "Nothing was written; the next cycle will try again."


class ExitCode(IntEnum):
    """What the process's exit status tells a script."""

    OK = 0
    RECORD_ERRORS = 1
    CONFIG = 2
    READ_FAILED = 3


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.RECORD_ERRORS: "the cycle finished but some records failed (or another process held the cycle lock)",
    ExitCode.CONFIG: "configuration or usage error: the message names the variable and the fix",
    ExitCode.READ_FAILED: "a side could not be read; nothing was written",
}
"""What each exit code tells, as ``leadsync --help`` lists them."""


class StoreUnusable(StoreError):
    """The state store named by LEADSYNC_DATABASE_URL could not be opened."""


def config_message(exc: LeadsyncError) -> str:
    """A configuration error's message, and where each variable named came from when that was the
    environment: its value there hides whatever ``.env`` says, which is what the person may be reading."""
    message = f"[bold red]Configuration error[/]: {escape(str(exc))}"
    names = str(getattr(exc, "variable", "")).split("/")
    from_env = [name for name in names if setting_source(name) == "the environment"]
    if from_env:
        message += (
            f" ({' and '.join(from_env)} {'was' if len(from_env) == 1 else 'were'} read from the environment,"
            " which takes precedence over .env)"
        )
    return message


ExitRule = tuple[type[LeadsyncError], ExitCode, Callable[[LeadsyncError], str]]

# First match wins, so a subclass comes before its base.
EXIT_RULES: tuple[ExitRule, ...] = (
    (ConfigError, ExitCode.CONFIG, config_message),
    (
        StoreUnusable,
        ExitCode.CONFIG,
        lambda exc: (
            f"[bold red]Configuration error[/]: LEADSYNC_DATABASE_URL: the state store can't be opened ({escape(str(exc))})"
        ),
    ),
    (
        ReadFailed,
        ExitCode.READ_FAILED,
        lambda exc: f"[bold red]Read failed[/]: {escape(str(exc))}. {READ_FAILED_HINT}",
    ),
    (
        LockBusy,
        ExitCode.RECORD_ERRORS,
        lambda _: "[yellow]Another leadsync process is running a cycle on this store; try again shortly.[/]",
    ),
    (StoreError, ExitCode.CONFIG, lambda exc: f"[bold red]State store error[/]: {escape(str(exc))}"),
)


def error_exit(exc: LeadsyncError) -> tuple[ExitCode, str]:
    """The exit code for ``exc`` and the message (Rich markup) to print on stderr: the first rule of
    :data:`EXIT_RULES` that matches, else a failure (exit code 1)."""
    for kind, code, message in EXIT_RULES:
        if isinstance(exc, kind):
            return code, message(exc)
    return ExitCode.RECORD_ERRORS, f"[bold red]Failed[/]: {escape(str(exc))}"
