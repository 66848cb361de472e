"""The mapping file, ``leadsync.toml``: pydantic models over :mod:`tomllib`, and its errors.

A wrong file stops the command with exit 2 and a message that names the file, the line, the key and
the fix (:class:`~leadsync.errors.ConfigError`), before any request is sent. Secrets never live in
this file: it names the environment variables that hold them.
"""

from __future__ import annotations

import re
import string
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from leadsync.config.toml_lines import line_of
from leadsync.core import DEFAULT_STATUSES, ConflictPolicy
from leadsync.errors import ConfigError

__all__ = [
    "TWO_WAY_ROLES",
    "AirtableSection",
    "CardSection",
    "FieldsSection",
    "FlowSection",
    "MappingFile",
    "TrelloSection",
    "load_mapping_file",
]

TWO_WAY_ROLES = ("status", "due", "labels")
"""The roles synced both ways; the others flow from Airtable to the card only."""

_ROLES = ("name", "email", "status", "source", "due", "labels")
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_Name = Annotated[str, Field(min_length=1, max_length=200)]


class _Strict(BaseModel):
    """Unknown keys are errors: a typo is named instead of silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise ValueError(
            f"{value[:40]!r} is not the name of an environment variable (the file names the variable "
            "that holds a secret, never the secret itself)"
        )
    return value


class AirtableSection(_Strict):
    """``[flow.airtable]``: the base, the table (name or ``tbl...`` id), the token's variable."""

    base: str
    table: _Name = "Leads"
    token_env: str = "AIRTABLE_API_KEY"  # noqa: S105 (the name of a variable, not a secret)

    @field_validator("base")
    @classmethod
    def _base(cls, v: str) -> str:
        if not re.fullmatch(r"app[A-Za-z0-9]{14}", v):
            raise ValueError(f"{v[:20]!r} is not a base id ('app' followed by 14 letters or digits)")
        return v

    @field_validator("token_env")
    @classmethod
    def _token_env(cls, v: str) -> str:
        return _env_name(v)


class TrelloSection(_Strict):
    """``[flow.trello]``: the board (short link or id) and the variables of the key and token."""

    board: str
    key_env: str = "TRELLO_API_KEY"
    token_env: str = "TRELLO_TOKEN"  # noqa: S105 (the name of a variable, not a secret)

    @field_validator("board")
    @classmethod
    def _board(cls, v: str) -> str:
        if not (re.fullmatch(r"[0-9a-fA-F]{24}", v) or re.fullmatch(r"[A-Za-z0-9]{8}", v)):
            raise ValueError(f"{v[:30]!r} is neither a 24-hex board id nor an 8-character short link")
        return v

    @field_validator("key_env", "token_env")
    @classmethod
    def _env(cls, v: str) -> str:
        return _env_name(v)


class FieldsSection(_Strict):
    """``[flow.fields]``: each role's Airtable field, by name or ``fld...`` id (``due``/``labels`` optional)."""

    name: _Name = "Name"
    email: _Name | None = "Email"
    status: _Name = "Status"
    source: _Name | None = "Source"
    due: _Name | None = None
    labels: _Name | None = None

    @model_validator(mode="after")
    def _distinct(self) -> FieldsSection:
        seen: dict[str, str] = {}
        for role in _ROLES:
            value = getattr(self, role)
            if value is None:
                continue
            if value in seen:
                raise ValueError(f"roles {seen[value]!r} and {role!r} both name the field {value!r}")
            seen[value] = role
        return self


class CardSection(_Strict):
    """``[flow.card]``: the title template, the managed block's fields, the options that get no card."""

    title: _Name = "Follow up: {name}"
    block: tuple[_Name, ...] = ("name", "email", "source")
    no_card: tuple[str, ...] | None = None

    @field_validator("title")
    @classmethod
    def _title(cls, v: str) -> str:
        try:
            names = {field for _, field, _, _ in string.Formatter().parse(v) if field is not None}
        except ValueError as exc:
            raise ValueError(
                f"is not a valid template ({exc}); write a role in braces, e.g. {{name}}"
            ) from None
        unknown = sorted(n for n in names if n not in _ROLES)
        if unknown:
            raise ValueError(
                f"names {', '.join(map(repr, unknown))}, which is no role; use {', '.join(_ROLES)}"
            )
        return v


class FlowSection(_Strict):
    """One ``[[flow]]``: a table kept in sync with a board."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")] = "default"
    conflict_policy: ConflictPolicy | None = None
    airtable: AirtableSection
    trello: TrelloSection
    fields: FieldsSection = FieldsSection()
    statuses: dict[_Name, _Name] = Field(default_factory=lambda: {s: s for s in DEFAULT_STATUSES})
    card: CardSection = CardSection()

    @model_validator(mode="after")
    def _consistent(self) -> FlowSection:
        if not self.statuses:
            raise ValueError("[flow.statuses] maps no option to a list")
        for option in self.card.no_card or ():
            if option not in self.statuses:
                raise ValueError(f"card.no_card names {option!r}, which is not a key of [flow.statuses]")
        return self

    @property
    def no_card(self) -> frozenset[str]:
        """Options whose new leads get no card (default: ``LOST`` when it is an option)."""
        if self.card.no_card is not None:
            return frozenset(self.card.no_card)
        return frozenset({"LOST"} & self.statuses.keys())


class MappingFile(_Strict):
    """The whole file: one or more ``[[flow]]`` entries with distinct names."""

    flow: Annotated[list[FlowSection], Field(min_length=1)]

    @field_validator("flow")
    @classmethod
    def _distinct_names(cls, v: list[FlowSection]) -> list[FlowSection]:
        names = [f.name for f in v]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"flow names must differ; {', '.join(map(repr, twice))} is used twice")
        return v


_FIX_BY_KEY = {
    "base": "Copy the id starting with 'app' from the base's URL",
    "board": "Copy the board's short link from its URL (trello.com/b/<shortLink>/...)",
    "conflict_policy": "Use one of: latest, airtable, trello, manual",
    "title": 'Write text with roles in braces, e.g. "Follow up: {name}"',
}


def load_mapping_file(path: Path) -> MappingFile:
    """Parse and validate ``path``; raise :class:`ConfigError` naming the file, line, key and fix."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            str(path),
            f"cannot be read ({exc.strerror})",
            "Check the path (LEADSYNC_CONFIG) and its permissions",
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), "is not UTF-8 text", "Save the file as UTF-8") from None
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            str(path), f"is not valid TOML ({exc})", "Fix the syntax at that line (see https://toml.io)"
        ) from None
    if "flow" in data and isinstance(data["flow"], dict):
        data["flow"] = [data["flow"]]  # a single [flow] table is read as one [[flow]]
    try:
        return MappingFile.model_validate(data)
    except ValidationError as exc:
        raise _file_error(path, text, exc) from None


def _file_error(path: Path, text: str, exc: ValidationError) -> ConfigError:
    err = exc.errors()[0]
    loc = [part for part in err["loc"] if isinstance(part, str | int)]
    loc = [part for part in loc if part not in ("function-after",)]
    line = None
    for end in range(len(loc), 0, -1):
        line = line_of(text, loc[:end])
        if line is not None:
            break
    key = ".".join(str(p) for p in loc if isinstance(p, str)) or "flow"
    where = f"{path}:{line}" if line else str(path)
    if err["type"] == "missing":
        problem = f"key {key} is missing"
        fix = f"Add {loc[-1]} = ... under its table"
    elif err["type"] == "extra_forbidden":
        problem = f"key {key} is not a setting leadsync knows"
        fix = "Remove it or correct its spelling (see the README's mapping file section)"
    else:
        problem = f"key {key} " + str(err["msg"]).removeprefix("Value error, ")
        fix = _FIX_BY_KEY.get(str(loc[-1]) if loc else "", "See the README's mapping file section")
    return ConfigError(where, problem, fix)
