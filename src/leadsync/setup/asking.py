"""How ``leadsync init`` gets its answers: from a person at a terminal, or unattended (``--yes``).

Both askers take the same questions, each with the answer already known (a flag, the environment,
``.env`` or the mapping file) as its default. The unattended one takes that default, and without one
stops with the variable or flag that would give it, so it runs without a terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

import typer
from rich.console import Console

from leadsync.errors import ConfigError

__all__ = ["Asker", "Interactive", "Unattended"]

_T = TypeVar("_T")


class Asker(Protocol):
    """The questions init asks."""

    console: Console

    def secret(self, label: str, default: str | None, *, variable: str, fix: str) -> str:
        """A token, typed without echo; ``default`` is the one already set."""
        ...

    def choose(
        self, label: str, options: Sequence[tuple[_T, str]], default: _T | None, *, variable: str
    ) -> _T:
        """One of ``options`` (value, what to show)."""
        ...

    def text(self, label: str, default: str) -> str:
        """A short text answer."""
        ...

    def confirm(self, question: str) -> bool:
        """Yes or no (yes by default)."""
        ...


class Unattended:
    """``--yes``: every answer is its default; a question without one is a configuration error."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def secret(self, label: str, default: str | None, *, variable: str, fix: str) -> str:
        """The secret already set, else a ConfigError naming its variable."""
        if not default:
            raise ConfigError(
                variable, f"is not set ({label}, which --yes takes from the environment or .env)", fix
            )
        return default

    def choose(
        self, label: str, options: Sequence[tuple[_T, str]], default: _T | None, *, variable: str
    ) -> _T:
        """The default, else the only option, else a ConfigError naming the variable that chooses."""
        if default is not None:
            return default
        if len(options) == 1:
            return options[0][0]
        shown = "; ".join(text for _, text in options[:10]) or "none"
        raise ConfigError(
            variable, f"is not set, and {label} can't be guessed (found: {shown})", f"Set {variable}"
        )

    def text(self, label: str, default: str) -> str:
        """The default."""
        return default

    def confirm(self, question: str) -> bool:
        """Yes."""
        return True


class Interactive:
    """A person at a terminal: Typer's prompts, tokens typed without echo."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def secret(self, label: str, default: str | None, *, variable: str, fix: str) -> str:
        """A token typed without echo; Enter keeps the one already set."""
        self.console.print(f"[bold]{label}[/] ({variable}). {fix}.")
        suffix = " (Enter keeps the one already set)" if default else ""
        while True:
            typed: str = typer.prompt(
                f"{label}{suffix}", default="" if default else None, hide_input=True, show_default=False
            )
            value = typed.strip() or (default or "")
            if value:
                return value

    def choose(
        self, label: str, options: Sequence[tuple[_T, str]], default: _T | None, *, variable: str
    ) -> _T:
        """A number from a numbered list; Enter takes the default."""
        self.console.print(f"[bold]{label}[/]:")
        start = 1
        for i, (value, shown) in enumerate(options, start=1):
            mark = "  (default)" if value == default else ""
            self.console.print(f"  {i}. {shown}{mark}")
            if value == default:
                start = i
        while True:
            picked: int = typer.prompt(f"Number (1-{len(options)})", default=start, type=int)
            if 1 <= picked <= len(options):
                return options[picked - 1][0]
            self.console.print(f"Pick a number from 1 to {len(options)}.")

    def text(self, label: str, default: str) -> str:
        """A line of text; Enter takes the default."""
        answer: str = typer.prompt(label, default=default)
        return answer.strip() or default

    def confirm(self, question: str) -> bool:
        """Yes or no, yes by default."""
        return bool(typer.confirm(question, default=True))
