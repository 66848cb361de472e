"""Flows: each Airtable table kept in sync with one Trello board, with its mapping and credentials.

A flow comes from a ``[[flow]]`` of the mapping file, or, without the file, from the environment
variables of the seed's setup (one flow, ``default``, with the fields ``Name``, ``Email``,
``Status``, ``Source`` and lists named like the statuses).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values
from pydantic import SecretStr

from leadsync.config.mapping_file import FieldsSection, FlowSection, load_mapping_file
from leadsync.core import DEFAULT_STATUSES, NO_CARD_STATUSES, ConflictPolicy
from leadsync.errors import ConfigError
from leadsync.settings import FIXES, Settings, clean_secret

__all__ = ["DEFAULT_FLOW_NAME", "FlowConfig", "load_flows", "mapping_file_path", "one_flow"]

DEFAULT_FLOW_NAME = "default"
"""The flow the environment-only setup defines."""


@dataclass(frozen=True)
class FlowConfig:
    """Everything one flow needs: where its table and board are, the tokens, and the mapping.

    ``fields`` maps each role to an Airtable field name or ``fld...`` id; ``statuses`` maps each
    Airtable option to a Trello list name (``list_ids`` to list ids, when TRELLO_LIST_IDS gives them).
    ``source`` says where the flow was defined, for error messages.
    """

    name: str
    policy: ConflictPolicy
    base_id: str
    table: str
    board: str
    airtable_token: SecretStr
    trello_key: SecretStr
    trello_token: SecretStr
    fields: FieldsSection = field(default_factory=FieldsSection)
    statuses: Mapping[str, str] = field(default_factory=lambda: {s: s for s in DEFAULT_STATUSES})
    list_ids: Mapping[str, str] | None = None
    title: str = "Follow up: {name}"
    block: tuple[str, ...] = ("name", "email", "source")
    no_card: frozenset[str] = NO_CARD_STATUSES
    source: str = "the environment"
    token_variables: Mapping[str, str] = field(
        default_factory=lambda: {
            "airtable_token": "AIRTABLE_API_KEY",
            "trello_key": "TRELLO_API_KEY",
            "trello_token": "TRELLO_TOKEN",
        }
    )

    @property
    def from_file(self) -> bool:
        """The flow was defined by the mapping file (its errors name the file's keys)."""
        return self.source != "the environment"

    def secrets(self) -> list[str]:
        """The flow's secret values, for output filters."""
        return [s.get_secret_value() for s in (self.airtable_token, self.trello_key, self.trello_token)]


def mapping_file_path(settings: Settings) -> Path | None:
    """The mapping file in use: LEADSYNC_CONFIG when set (it must exist), else ``leadsync.toml`` in the
    working directory when present, else None (the environment defines one flow)."""
    if settings.LEADSYNC_CONFIG:
        path = Path(settings.LEADSYNC_CONFIG)
        if not path.is_file():
            raise ConfigError(
                "LEADSYNC_CONFIG",
                f"names {str(path)!r}, which is not a file",
                "Give the path of your leadsync.toml, or unset it to use ./leadsync.toml or the environment",
            )
        return path
    default = Path("leadsync.toml")
    return default if default.is_file() else None


def load_flows(settings: Settings, env_file: str | Path | None = ".env") -> list[FlowConfig]:
    """Every flow: from the mapping file when there is one, else the one the environment defines."""
    path = mapping_file_path(settings)
    if path is None:
        return [_flow_from_environment(settings)]
    parsed = load_mapping_file(path)
    values = _variables(env_file)
    for name in ("AIRTABLE_API_KEY", "TRELLO_API_KEY", "TRELLO_TOKEN"):
        given = getattr(settings, name)  # what the caller passed in, when not in the environment
        if name not in values and given is not None:
            values[name] = given.get_secret_value()
    return [_flow_from_section(section, settings, values, path) for section in parsed.flow]


def one_flow(flows: list[FlowConfig], name: str | None) -> FlowConfig:
    """The flow named ``name``, or the only one; a usage error otherwise."""
    if name is None:
        if len(flows) == 1:
            return flows[0]
        raise ConfigError("--flow", f"is needed: the mapping file has {len(flows)} flows", "Add --flow NAME")
    for flow in flows:
        if flow.name == name:
            return flow
    known = ", ".join(f.name for f in flows)
    raise ConfigError(
        "--flow", f"names {name!r}, which is no flow (known: {known})", "Use one of those names"
    )


def _variables(env_file: str | Path | None) -> dict[str, str]:
    """``.env``'s values under the environment's: the precedence pydantic-settings gives."""
    values: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ)
    return values


def _secret(values: Mapping[str, str], variable: str, flow: str) -> SecretStr:
    raw = values.get(variable)
    fix = FIXES.get(variable, f"Set {variable} in the environment or in .env")
    if raw is None:
        raise ConfigError(variable, f"is not set (flow {flow!r} names it)", fix)
    try:
        cleaned = clean_secret(raw, name=variable, required=True)
    except ValueError as exc:
        raise ConfigError(variable, str(exc), fix) from None
    return SecretStr(cleaned)


def _flow_from_section(
    section: FlowSection, settings: Settings, values: Mapping[str, str], path: Path
) -> FlowConfig:
    variables = {
        "airtable_token": section.airtable.token_env,
        "trello_key": section.trello.key_env,
        "trello_token": section.trello.token_env,
    }
    return FlowConfig(
        name=section.name,
        policy=section.conflict_policy or settings.LEADSYNC_CONFLICT_POLICY,
        base_id=section.airtable.base,
        table=section.airtable.table,
        board=section.trello.board,
        airtable_token=_secret(values, variables["airtable_token"], section.name),
        trello_key=_secret(values, variables["trello_key"], section.name),
        trello_token=_secret(values, variables["trello_token"], section.name),
        fields=section.fields,
        statuses=dict(section.statuses),
        title=section.card.title,
        block=section.card.block,
        no_card=section.no_card,
        source=str(path),
        token_variables=variables,
    )


def _required(settings: Settings, variable: str) -> str:
    value = getattr(settings, variable)
    if value is None:
        raise ConfigError(variable, "is not set", FIXES[variable])
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value)


def _flow_from_environment(settings: Settings) -> FlowConfig:
    statuses = dict(settings.LEADSYNC_STATUS_LIST_NAMES or {s: s for s in DEFAULT_STATUSES})
    return FlowConfig(
        name=DEFAULT_FLOW_NAME,
        policy=settings.LEADSYNC_CONFLICT_POLICY,
        base_id=_required(settings, "AIRTABLE_BASE_ID"),
        table=settings.AIRTABLE_LEADS_TABLE_NAME,
        board=_required(settings, "TRELLO_BOARD_ID"),
        airtable_token=SecretStr(_required(settings, "AIRTABLE_API_KEY")),
        trello_key=SecretStr(_required(settings, "TRELLO_API_KEY")),
        trello_token=SecretStr(_required(settings, "TRELLO_TOKEN")),
        statuses=statuses,
        list_ids=dict(settings.TRELLO_LIST_IDS) if settings.TRELLO_LIST_IDS else None,
        no_card=frozenset(NO_CARD_STATUSES & statuses.keys()),
    )
