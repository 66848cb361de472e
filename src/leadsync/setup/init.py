"""``leadsync init``: set up the Airtable table, the Trello board and the two files leadsync reads.

Steps, each answer taken from its flag, else the mapping file, else the environment and ``.env``, else
asked (or, with ``--yes``, a configuration error naming the variable):

1. the Airtable token, checked (``whoami``); the base, from the bases the token can see;
2. the table: created with every mapped field when missing, else its missing fields are created and
   the status field's missing options added (a field of a type leadsync can't use is reported: only
   a person can change a field's type);
3. the Trello key and token, checked (``/1/members/me``); the board, from the member's boards, or a
   new one (without Trello's default lists unless ``--default-lists``); its missing lists created;
4. ``.env`` (the secrets, mode 0600) and ``leadsync.toml`` (the mapping), written only if changed.

What is already right is left alone: a second run sends no write and leaves both files as they are.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic import SecretStr
from rich.markup import escape

from leadsync.clients.airtable_schema import ROLE_TYPES, resolve_table
from leadsync.config import FlowConfig
from leadsync.config.mapping_file import (
    AirtableSection,
    FlowSection,
    MappingFile,
    TrelloSection,
    load_mapping_file,
)
from leadsync.core import ConflictPolicy
from leadsync.errors import ConfigError, TransportFailed, Unauthorized
from leadsync.settings import FIXES, clean_secret
from leadsync.setup.apis import SetupApis
from leadsync.setup.asking import Asker
from leadsync.setup.files import merge_env, render_mapping, write_if_changed
from leadsync.setup.wanted import find_table, gaps, missing_lists

__all__ = ["DEFAULT_AIRTABLE_URL", "DEFAULT_TRELLO_URL", "InitOptions", "InitReport", "run_init"]

DEFAULT_AIRTABLE_URL = "https://api.airtable.com"
DEFAULT_TRELLO_URL = "https://api.trello.com"


@dataclass
class InitOptions:
    """Every question's flag (None: not given) and where the files go."""

    airtable_token: str | None = None
    base: str | None = None
    table: str | None = None
    trello_key: str | None = None
    trello_token: str | None = None
    board: str | None = None
    board_name: str = "Lead Tasks"
    default_lists: bool = False
    airtable_url: str | None = None
    trello_url: str | None = None
    flow: str | None = None
    env_file: Path = Path(".env")
    config_file: Path = Path("leadsync.toml")
    rate_scale: float = 1.0


@dataclass
class InitReport:
    """What init did: the things it created and the files it wrote, and what is left for a person."""

    created: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    problems: list[ConfigError] = field(default_factory=list)


def _known(env_file: Path) -> dict[str, str]:
    """``.env``'s values under the environment's (the precedence every command gives them)."""
    values = {k: v for k, v in dotenv_values(env_file).items() if v is not None} if env_file.is_file() else {}
    values.update(os.environ)
    return values


def _existing(options: InitOptions) -> tuple[MappingFile | None, FlowSection | None]:
    if not options.config_file.is_file():
        return None, None
    mapping = load_mapping_file(options.config_file)
    if options.flow is None:
        return mapping, mapping.flow[0]
    found = next((f for f in mapping.flow if f.name == options.flow), None)
    return mapping, found


@dataclass
class _Run:
    options: InitOptions
    ask: Asker
    known: dict[str, str]
    flow: FlowSection | None
    report: InitReport = field(default_factory=InitReport)

    def say(self, text: str) -> None:
        # Plain text: names of tables, fields and boards may hold brackets that Rich would read as markup.
        self.ask.console.print(text, markup=False)

    def made(self, what: str) -> None:
        self.report.created.append(what)
        self.ask.console.print(f"  [green]created[/] {escape(what)}")


def run_init(options: InitOptions, ask: Asker) -> InitReport:
    """Set everything up as the module's docstring says; raises ConfigError for what only a person can fix."""
    known = _known(options.env_file)
    if known.get("LEADSYNC_CONFIG") and options.config_file == Path("leadsync.toml"):
        options.config_file = Path(known["LEADSYNC_CONFIG"])  # the mapping file every command reads
    mapping, flow = _existing(options)
    run = _Run(options, ask, known, flow)
    a_var = flow.airtable.token_env if flow else "AIRTABLE_API_KEY"
    k_var = flow.trello.key_env if flow else "TRELLO_API_KEY"
    t_var = flow.trello.token_env if flow else "TRELLO_TOKEN"
    airtable_url = options.airtable_url or known.get("AIRTABLE_API_URL") or DEFAULT_AIRTABLE_URL
    trello_url = options.trello_url or known.get("TRELLO_API_URL") or DEFAULT_TRELLO_URL
    a_token = _secret(ask, "Airtable personal access token", options.airtable_token or known.get(a_var), a_var,
                      FIXES["AIRTABLE_API_KEY"] + " (add schema.bases:write for init)")  # fmt: skip
    key = _secret(
        ask, "Trello API key", options.trello_key or known.get(k_var), k_var, FIXES["TRELLO_API_KEY"]
    )
    token = _secret(
        ask, "Trello token", options.trello_token or known.get(t_var), t_var, FIXES["TRELLO_TOKEN"]
    )
    apis = SetupApis.build(
        airtable_url=airtable_url.rstrip("/"), trello_url=trello_url.rstrip("/"), airtable_token=a_token,
        trello_key=key, trello_token=token, rate_scale=_rate_scale(options, known),
    )  # fmt: skip
    try:
        try:
            base_id, table = _airtable(run, apis, a_var)
        except TransportFailed as exc:
            raise ConfigError(
                "AIRTABLE_API_URL", f"nothing answers at {airtable_url} ({exc})", FIXES["AIRTABLE_API_URL"]
            ) from None
        try:
            board = _trello(run, apis, k_var, t_var)
        except TransportFailed as exc:
            raise ConfigError(
                "TRELLO_API_URL", f"nothing answers at {trello_url} ({exc})", FIXES["TRELLO_API_URL"]
            ) from None
    finally:
        apis.close()
    section = FlowSection(
        name=flow.name if flow else (options.flow or "default"),
        conflict_policy=flow.conflict_policy if flow else None,
        airtable=AirtableSection(base=base_id, table=table, token_env=a_var),
        trello=TrelloSection(board=board, key_env=k_var, token_env=t_var),
        fields=flow.fields if flow else _env_fields(),
        statuses=dict(flow.statuses) if flow else _env_statuses(known),
        card=flow.card if flow else FlowSection.model_fields["card"].get_default(),
    )
    secrets = {a_var: a_token, k_var: key, t_var: token}
    urls = {"AIRTABLE_API_URL": airtable_url, "TRELLO_API_URL": trello_url}
    defaults = {"AIRTABLE_API_URL": DEFAULT_AIRTABLE_URL, "TRELLO_API_URL": DEFAULT_TRELLO_URL}
    secrets |= {k: v for k, v in urls.items() if v.rstrip("/") != defaults[k]}
    _write_files(run, mapping, section, secrets)
    if run.report.problems:
        raise run.report.problems[0]
    return run.report


def _secret(ask: Asker, label: str, given: str | None, variable: str, fix: str) -> str:
    """A credential asked (or taken) and checked as every command checks it: no space or line break."""
    value = ask.secret(label, given, variable=variable, fix=fix)
    try:
        cleaned: str = clean_secret(
            value, name=variable if variable in FIXES else "AIRTABLE_API_KEY", required=True
        )
    except ValueError as exc:
        raise ConfigError(variable, str(exc), fix) from None
    return cleaned


def _rate_scale(options: InitOptions, known: Mapping[str, str]) -> float:
    """LEADSYNC_RATE_LIMIT_SCALE when it is a positive number (a sandbox prints it), else the option's."""
    try:
        scale = float(known.get("LEADSYNC_RATE_LIMIT_SCALE", options.rate_scale))
    except ValueError:
        return options.rate_scale
    return scale if scale > 0 else options.rate_scale


def _env_fields() -> Any:
    return FlowSection.model_fields["fields"].get_default()


def _env_statuses(known: Mapping[str, str]) -> dict[str, str]:
    raw = known.get("LEADSYNC_STATUS_LIST_NAMES")
    if raw:
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict) and parsed and all(isinstance(v, str) for v in parsed.values()):
            return {str(k): str(v) for k, v in parsed.items()}
    default: dict[str, str] = FlowSection.model_fields["statuses"].get_default(call_default_factory=True)
    return default


# ---- Airtable -------------------------------------------------------------------------------------------


def _airtable(run: _Run, apis: SetupApis, a_var: str) -> tuple[str, str]:
    options, known, flow = run.options, run.known, run.flow
    try:
        user = apis.airtable.whoami()
        bases = apis.airtable.bases()
    except Unauthorized as exc:
        raise ConfigError(
            a_var, f"Airtable refused the token ({exc.status}): it is wrong, expired or lacks schema.bases:read",
            FIXES["AIRTABLE_API_KEY"],
        ) from None  # fmt: skip
    run.say(f"Airtable: token of user {user.get('email') or user['id']}, {len(bases)} base(s) visible")
    given = options.base or (flow.airtable.base if flow else None) or known.get("AIRTABLE_BASE_ID")
    if given and given not in {b["id"] for b in bases}:
        raise ConfigError(
            "AIRTABLE_BASE_ID", f"names {given!r}, which this token can't see",
            "Add the base to the token's access at https://airtable.com/create/tokens, or pick another base",
        )  # fmt: skip
    if not bases:
        raise ConfigError(
            a_var,
            "can see no base",
            "Add your base to the token's access at https://airtable.com/create/tokens",
        )
    base_id = run.ask.choose(
        "Airtable base",
        [(b["id"], f"{b['name']} ({b['id']})") for b in bases],
        given,
        variable="AIRTABLE_BASE_ID",
    )
    schema = apis.airtable.schema(base_id)
    wanted = (
        options.table or (flow.airtable.table if flow else None) or known.get("AIRTABLE_LEADS_TABLE_NAME")
    )
    names = [str(t["name"]) for t in schema.get("tables", [])]
    run.say(f"  tables: {', '.join(names) or 'none'}")
    table_ref = wanted or run.ask.text("Table of leads (an existing one, or a new name)", "Leads")
    mapping = flow.fields if flow else _env_fields()
    statuses = list(flow.statuses) if flow else list(_env_statuses(known))
    table = find_table(schema, table_ref)
    if table is None:
        _create_table(run, apis, base_id, table_ref, mapping, statuses)
    else:
        _complete_table(run, apis, base_id, table, mapping, statuses)
    _verify(run, apis, base_id, table_ref, mapping, statuses)
    return base_id, table_ref


def _create_table(
    run: _Run, apis: SetupApis, base_id: str, name: str, mapping: Any, statuses: list[str]
) -> None:
    found = gaps(None, mapping, statuses)
    configs = [c for role, c in found.fields if role == "name"] + [
        c for role, c in found.fields if role != "name"
    ]
    shown = ", ".join(f"{c['name']} ({c['type']})" for c in configs)
    if not run.ask.confirm(f"Create the table {name!r} with the fields {shown}?"):
        raise ConfigError(
            "AIRTABLE_LEADS_TABLE_NAME",
            f"names {name!r}, which the base lacks",
            "Create it, or name an existing table",
        )
    apis.airtable.create_table(base_id, name, configs)
    run.made(f"Airtable table {name!r} with the fields {shown}")


def _complete_table(
    run: _Run, apis: SetupApis, base_id: str, table: Mapping[str, Any], mapping: Any, statuses: list[str]
) -> None:
    found = gaps(table, mapping, statuses)
    for role, info in found.wrong_types:
        where = f"{run.options.config_file} fields.{role}" if run.flow else f"Airtable field {info.name!r}"
        needs = " or ".join(sorted(ROLE_TYPES.get(role) or ())) or "another"
        if info.type == "missing":  # a 'fld...' id no field has: only a person can say which field it was
            problem, fix = (
                f"names the field id {info.id}, which table {table['name']!r} lacks",
                "Map the role to a field's name or current id",
            )
        else:
            problem = f"maps {role} to {info.name!r}, a {info.type} field; {role} needs a {needs} field"
            fix = "Change the field's type in Airtable's UI (the API can't), or map the role to another field in leadsync.toml"
        run.report.problems.append(ConfigError(where, problem, fix))
        run.say(f"  cannot use field {info.name!r} ({info.type}) for {role}")
    for role, config in found.fields:
        if run.ask.confirm(
            f"Table {table['name']!r} has no field {config['name']!r} ({role}). Create it ({config['type']})?"
        ):
            apis.airtable.create_field(base_id, str(table["id"]), config)
            run.made(f"field {config['name']!r} ({config['type']}) in {table['name']!r}")
    if found.options and found.status_field is not None:
        shown = ", ".join(found.options)
        if run.ask.confirm(f"Field {found.status_field.name!r} lacks the options {shown}. Add them?"):
            apis.airtable.add_choices(base_id, str(table["id"]), found.status_field.id, found.options)
            run.made(f"options {shown} of {found.status_field.name!r}")
    if found.empty and not found.wrong_types:
        run.say(f"  table {table['name']!r}: every mapped field and status option is there")


def _verify(run: _Run, apis: SetupApis, base_id: str, table: str, mapping: Any, statuses: list[str]) -> None:
    """The sync's own resolution of the table must now succeed (or name what a person must fix)."""
    if run.report.problems:
        return
    flow = FlowConfig(
        name="init", policy=ConflictPolicy.LATEST,
        base_id=base_id, table=table, board="0" * 24, airtable_token=SecretStr(""), trello_key=SecretStr(""),
        trello_token=SecretStr(""), fields=mapping, block=(), source="leadsync init",
        statuses={status: status for status in statuses},
    )  # fmt: skip
    try:
        resolve_table(apis.airtable.schema(base_id), flow)
    except ConfigError as exc:
        run.report.problems.append(exc)


# ---- Trello ---------------------------------------------------------------------------------------------


def _trello(run: _Run, apis: SetupApis, k_var: str, t_var: str) -> str:
    options, known, flow = run.options, run.known, run.flow
    try:
        me = apis.trello.me()
        boards = apis.trello.boards()
    except Unauthorized as exc:
        variable = k_var if "key" in exc.body.lower() else t_var
        raise ConfigError(
            variable, f"Trello refused it ({exc.status}: {exc.body.strip()[:60]})", FIXES.get(variable, FIXES["TRELLO_TOKEN"])
        ) from None  # fmt: skip
    run.say(f"Trello: token of {me.get('fullName') or me.get('username')}, {len(boards)} open board(s)")
    given = options.board or (flow.trello.board if flow else None) or known.get("TRELLO_BOARD_ID")
    by_ref = {ref: b for b in boards for ref in (b["id"], b.get("shortLink"))}
    if given and given not in by_ref:
        raise ConfigError(
            "TRELLO_BOARD_ID", f"names {given!r}, a board this member can't see (or closed)",
            FIXES["TRELLO_BOARD_ID"],
        )  # fmt: skip
    if given is None:
        same_name = [b for b in boards if b.get("name") == options.board_name]
        given = same_name[0]["id"] if len(same_name) == 1 else None
    new = "+new"
    choices = [(str(b["id"]), f"{b['name']} (trello.com/b/{b.get('shortLink')})") for b in boards]
    choices.append((new, f"a new board named {options.board_name!r}"))
    picked = run.ask.choose("Trello board", choices, given or new, variable="TRELLO_BOARD_ID")
    if picked == new:
        name = run.ask.text("Name of the new board", options.board_name)
        made = apis.trello.create_board(name, default_lists=options.default_lists)
        run.made(f"Trello board {name!r} (trello.com/b/{made.get('shortLink')})")
        picked = str(made["id"])
    board_id = str(by_ref[picked]["id"]) if picked in by_ref else picked
    wanted = list(flow.statuses.values()) if flow else list(_env_statuses(known).values())
    missing = missing_lists(apis.trello.lists(board_id), wanted)
    for name in missing:
        if run.ask.confirm(f"The board has no list {name!r}. Create it?"):
            apis.trello.create_list(board_id, name)
            run.made(f"list {name!r}")
    if not missing:
        run.say(f"  board: every list is there ({', '.join(dict.fromkeys(wanted))})")
    return picked if picked in by_ref else board_id


# ---- files ----------------------------------------------------------------------------------------------


def _write_files(
    run: _Run, mapping: MappingFile | None, section: FlowSection, secrets: dict[str, str]
) -> None:
    try:
        _write(run, mapping, section, secrets)
    except OSError as exc:
        raise ConfigError(
            str(exc.filename or run.options.config_file), f"can't be written ({exc.strerror})",
            "Run init in a directory you can write (or point LEADSYNC_CONFIG elsewhere)",
        ) from None  # fmt: skip


def _write(run: _Run, mapping: MappingFile | None, section: FlowSection, secrets: dict[str, str]) -> None:
    options = run.options
    existing = options.env_file.read_text(encoding="utf-8") if options.env_file.is_file() else ""
    if write_if_changed(options.env_file, merge_env(existing, secrets), private=True):
        run.report.files.append(str(options.env_file))
        run.say(f"  wrote {options.env_file} (mode 0600: {', '.join(secrets)})")
    flows = list(mapping.flow) if mapping else []
    index = next((i for i, f in enumerate(flows) if f.name == section.name), None)
    if index is None:
        flows.append(section)
    else:
        flows[index] = section
    new = MappingFile(flow=flows)
    if mapping is not None and new == mapping:
        return  # the same mapping: the file (its comments, its layout) stays as the person left it
    write_if_changed(options.config_file, render_mapping(new))
    run.report.files.append(str(options.config_file))
    run.say(f"  wrote {options.config_file}")
