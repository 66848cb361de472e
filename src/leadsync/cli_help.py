"""The ``leadsync`` command's top help (where settings come from, the required ones, the exit codes) and
its ``--version``: built from the exit-code table, so that the help never drifts from them."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from leadsync.exit_codes import EXIT_CODE_MEANINGS

__all__ = ["REQUIRED_SETTINGS", "leadsync_version", "top_help"]

REQUIRED_SETTINGS = (
    "AIRTABLE_API_KEY",
    "AIRTABLE_BASE_ID",
    "TRELLO_API_KEY",
    "TRELLO_TOKEN",
    "TRELLO_BOARD_ID",
)
"""The settings every run needs when no mapping file (leadsync.toml) names the base, table and board."""


def leadsync_version() -> str:
    """The installed distribution's version (``unknown`` when run from a tree that was not installed)."""
    try:
        return version("leadsync")
    except PackageNotFoundError:
        return "unknown"


def top_help() -> str:
    """The help of ``leadsync`` itself. Click rewraps paragraphs; a ``\\b`` line keeps the next one's lines."""
    codes = "\n".join(f"  {int(code)}  {meaning}" for code, meaning in EXIT_CODE_MEANINGS.items())
    return (
        "Two-way sync between an Airtable lead tracker and a Trello board. New here? Run: leadsync demo\n\n"
        "Settings come from the environment and from .env in the current directory (the environment wins). "
        f"Required: {', '.join(REQUIRED_SETTINGS)} (a mapping file, leadsync.toml, may name the base and board "
        "instead). The README's settings table lists the others.\n\n"
        f"\b\nExit codes:\n{codes}"
    )
