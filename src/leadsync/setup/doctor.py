"""``leadsync doctor``: every check of a setup, one line each, pass, warn or fail with its fix.

The checks, in order: the settings and the mapping file; the Airtable token (``whoami``), the base,
the table and every mapped field (the sync's own resolution, :func:`resolve_table`), the status
options against ``[flow.statuses]``, and the record and webhook scopes, probed (a personal access
token's ``whoami`` lists no scopes: a 403 is the missing scope, see :mod:`leadsync.setup.apis`); the
Trello key and token and its permissions (``GET /1/tokens/{token}``), the board, the lists and the
labels; the state store, opened and written; the webhooks the store registered, listed by each API,
and ``LEADSYNC_PUBLIC_URL/health``; the clock against each API's ``Date`` header.

A check that cannot run because an earlier one failed is left out rather than failed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from leadsync.clients.airtable_schema import ResolvedTable, resolve_table
from leadsync.config import FlowConfig, load_flows, one_flow
from leadsync.errors import ApiError, ConfigError, LeadsyncError, NotFound, Unauthorized
from leadsync.settings import FIXES, Settings, load_settings
from leadsync.setup.apis import SetupApis
from leadsync.setup.wanted import missing_lists
from leadsync.store import Store

__all__ = ["CLOCK_SKEW_WARN", "Check", "run_doctor"]

CLOCK_SKEW_WARN = 5.0
"""Seconds of difference from an API's clock worth a warning (webhook timestamps and `latest` compare them)."""

Status = Literal["pass", "warn", "fail"]
_TOKENS_PAGE = "https://airtable.com/create/tokens"
_STORE_FIX = "Point LEADSYNC_DATABASE_URL at a place this user can write: " + FIXES["LEADSYNC_DATABASE_URL"]


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, how it went, what was seen, and how to fix it."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def as_json(self) -> dict[str, str]:
        """The check as ``--json`` prints it."""
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


class _Report(list[Check]):
    def ok(self, name: str, detail: str) -> None:
        self.append(Check(name, "pass", detail))

    def warn(self, name: str, detail: str, fix: str) -> None:
        self.append(Check(name, "warn", detail, fix))

    def fail(self, name: str, detail: str, fix: str) -> None:
        self.append(Check(name, "fail", detail, fix))

    def config(self, name: str, exc: ConfigError) -> None:
        self.fail(name, f"{exc.variable}: {exc.problem}", exc.fix)


def run_doctor(env_file: Path, flow_name: str | None) -> tuple[list[Check], list[str]]:
    """Every check, and the secrets no output may show."""
    report = _Report()
    try:
        settings = load_settings(env_file)
    except ConfigError as exc:
        report.config("settings", exc)
        return report, []
    try:
        flow = one_flow(load_flows(settings, env_file), flow_name)
    except ConfigError as exc:
        report.config("settings", exc)
        return report, settings.secrets()
    report.ok("settings", f"flow {flow.name!r} from {flow.source}")
    apis = SetupApis.build(
        airtable_url=settings.AIRTABLE_API_URL, trello_url=settings.TRELLO_API_URL,
        airtable_token=flow.airtable_token.get_secret_value(), trello_key=flow.trello_key.get_secret_value(),
        trello_token=flow.trello_token.get_secret_value(), rate_scale=settings.LEADSYNC_RATE_LIMIT_SCALE,
        retry_seconds=min(settings.LEADSYNC_MAX_RETRY_SECONDS, 20.0),
    )  # fmt: skip
    try:
        resolved = _airtable(report, apis, flow, settings)
        board_id = _trello(report, apis, flow, resolved)
        _store_and_webhooks(report, apis, flow, settings, board_id, resolved)
    finally:
        apis.close()
    if settings.LEADSYNC_PUBLIC_URL:
        _public_url(report, settings.LEADSYNC_PUBLIC_URL)
    _clock(report, apis)
    return report, settings.secrets() + flow.secrets()


def _unreachable(report: _Report, name: str, exc: ApiError, variable: str) -> None:
    report.fail(name, f"no answer from the API ({exc})", FIXES[variable])


# ---- Airtable -------------------------------------------------------------------------------------------


def _airtable(report: _Report, apis: SetupApis, flow: FlowConfig, settings: Settings) -> ResolvedTable | None:
    var = flow.token_variables["airtable_token"]
    try:
        user = apis.airtable.whoami()
    except Unauthorized as exc:
        report.fail(
            "Airtable token",
            f"{var}: Airtable refused it ({exc.status}): wrong or revoked",
            FIXES["AIRTABLE_API_KEY"],
        )
        return None
    except ApiError as exc:
        _unreachable(report, "Airtable token", exc, "AIRTABLE_API_URL")
        return None
    report.ok("Airtable token", f"{var} is valid (user {user.get('email') or user['id']})")
    try:
        schema = apis.airtable.schema(flow.base_id)
    except (Unauthorized, NotFound) as exc:
        _base_refused(report, apis, flow, exc)
        return None
    report.ok("Airtable base", f"{flow.base_id} is readable (scope schema.bases:read)")
    try:
        resolved = resolve_table(schema, flow)
    except ConfigError as exc:
        report.config("Airtable table and fields", exc)
        return None
    roles = ", ".join(f"{role} = {info.name!r} ({info.type})" for role, info in resolved.roles.items())
    report.ok("Airtable table and fields", f"table {resolved.table_name!r}: {roles}")
    _options(report, flow, resolved)
    _scopes(report, apis, flow, resolved, settings)
    return resolved


def _base_refused(report: _Report, apis: SetupApis, flow: FlowConfig, exc: ApiError) -> None:
    try:
        bases = apis.airtable.bases()
    except Unauthorized:
        report.fail(
            "Airtable base", f"the token lacks the scope schema.bases:read ({exc.status} on the base's schema)",
            f"Edit the token at {_TOKENS_PAGE}: add the scope schema.bases:read",
        )  # fmt: skip
        return
    where = f"{flow.source} [flow {flow.name!r}] airtable.base" if flow.from_file else "AIRTABLE_BASE_ID"
    if flow.base_id in {b["id"] for b in bases}:
        detail = f"{where}: base {flow.base_id} answered {exc.status}"
    else:
        detail = f"{where}: base {flow.base_id} does not exist or is not in the token's access list"
    report.fail(
        "Airtable base",
        detail,
        f"Add the base to the token at {_TOKENS_PAGE}, or {FIXES['AIRTABLE_BASE_ID'][0].lower()}{FIXES['AIRTABLE_BASE_ID'][1:]}",
    )


def _options(report: _Report, flow: FlowConfig, resolved: ResolvedTable) -> None:
    status = resolved.roles["status"]
    where = "[flow.statuses]" if flow.from_file else "LEADSYNC_STATUS_LIST_NAMES"
    if status.type != "singleSelect":
        report.ok("Status options", f"{status.name!r} is {status.type}: any value maps by {where}")
        return
    missing = [o for o in flow.statuses if o not in status.choices]
    unknown = [c for c in status.choices if c not in flow.statuses]
    if missing:
        report.fail(
            "Status options", f"field {status.name!r} has no option {', '.join(map(repr, missing))} (named in {where})",
            "Run 'leadsync init' to add it, or add the option to the field in Airtable",
        )  # fmt: skip
    if unknown:
        report.fail(
            "Status options", f"option {', '.join(map(repr, unknown))} of {status.name!r} maps to no list: leads with it are skipped",
            f"Map it to a list in {where}, or remove the option in Airtable",
        )  # fmt: skip
    if not missing and not unknown:
        report.ok("Status options", f"{status.name!r}: {', '.join(status.choices)}, each mapped to a list")


def _scopes(
    report: _Report, apis: SetupApis, flow: FlowConfig, resolved: ResolvedTable, settings: Settings
) -> None:
    name = "Airtable scopes"
    try:
        apis.airtable.probe_read(flow.base_id, resolved.table_id)
    except Unauthorized:
        report.fail(
            name,
            "the token lacks data.records:read (403 reading a record)",
            f"Edit the token at {_TOKENS_PAGE}: add the scope data.records:read",
        )
        return
    if not apis.airtable.probe_write(flow.base_id, resolved.table_id):
        report.fail(
            name,
            "the token lacks data.records:write (403 on an empty update)",
            f"Edit the token at {_TOKENS_PAGE}: add the scope data.records:write",
        )
        return
    try:
        apis.airtable.webhooks(flow.base_id)
    except Unauthorized:
        fix = f"Edit the token at {_TOKENS_PAGE}: add the scope webhook:manage"
        if settings.LEADSYNC_PUBLIC_URL:
            report.fail(
                name, "the token lacks webhook:manage, which LEADSYNC_PUBLIC_URL's webhooks need", fix
            )
        else:
            report.warn(name, "records read and write; no webhook:manage (only webhooks need it)", fix)
        return
    report.ok(name, "data.records:read, data.records:write, schema.bases:read, webhook:manage")


# ---- Trello ---------------------------------------------------------------------------------------------


def _trello(report: _Report, apis: SetupApis, flow: FlowConfig, resolved: ResolvedTable | None) -> str | None:
    key_var, token_var = flow.token_variables["trello_key"], flow.token_variables["trello_token"]
    try:
        token = apis.trello.token()
    except Unauthorized as exc:
        variable = key_var if "key" in exc.body.lower() else token_var
        fix = FIXES["TRELLO_API_KEY"] if variable == key_var else FIXES["TRELLO_TOKEN"]
        report.fail("Trello key and token", f"{variable}: Trello refused it ({exc.body.strip()[:40]})", fix)
        return None
    except ApiError as exc:
        _unreachable(report, "Trello key and token", exc, "TRELLO_API_URL")
        return None
    if not _token_permissions(report, token, key_var, token_var):
        return None
    where = f"{flow.source} [flow {flow.name!r}] trello.board" if flow.from_file else "TRELLO_BOARD_ID"
    try:
        board = apis.trello.board(flow.board)
    except (NotFound, Unauthorized) as exc:
        report.fail(
            "Trello board",
            f"{where}: board {flow.board!r} is unknown or not this member's ({exc.status})",
            FIXES["TRELLO_BOARD_ID"],
        )
        return None
    report.ok("Trello board", f"{board['name']!r} ({board['id']})")
    board_id = str(board["id"])
    _lists(report, apis, flow, board_id)
    if resolved is not None and "labels" in resolved.roles:
        _labels(report, apis, board_id, resolved)
    return board_id


def _token_permissions(report: _Report, token: dict[str, Any], key_var: str, token_var: str) -> bool:
    name = "Trello key and token"
    expires = token.get("dateExpires")
    if expires and datetime.fromisoformat(str(expires).replace("Z", "+00:00")) < datetime.now(UTC):
        report.fail(name, f"{token_var} expired on {expires}", FIXES["TRELLO_TOKEN"])
        return False
    boards = [p for p in token.get("permissions", []) if p.get("modelType") == "board"]
    if not any(p.get("read") and p.get("write") for p in boards):
        report.fail(
            name, f"{token_var} may not write boards (its permissions: {boards})", FIXES["TRELLO_TOKEN"]
        )
        return False
    report.ok(
        name, f"{key_var} and {token_var} are valid; boards read and write; expires {expires or 'never'}"
    )
    return True


def _lists(report: _Report, apis: SetupApis, flow: FlowConfig, board_id: str) -> None:
    lists = apis.trello.lists(board_id)
    if flow.list_ids:
        ids = {str(x["id"]) for x in lists}
        absent = {s: i for s, i in flow.list_ids.items() if i not in ids}
        unmapped = [s for s in flow.statuses if s not in flow.list_ids]
        strangers = [s for s in flow.list_ids if s not in flow.statuses]
        if absent or unmapped or strangers:
            detail = "; ".join(
                [f"TRELLO_LIST_IDS names {i!r} for {s!r}, a list the board lacks" for s, i in absent.items()]
                + [f"TRELLO_LIST_IDS key {s!r} is no status" for s in strangers]
                + [f"status {s!r} has no list id" for s in unmapped]
            )
            report.fail("Trello lists", detail, FIXES["TRELLO_LIST_IDS"])
            return
        report.ok("Trello lists", "TRELLO_LIST_IDS: every id is a list of the board")
        return
    missing = missing_lists(lists, list(flow.statuses.values()))
    where = "[flow.statuses]" if flow.from_file else "LEADSYNC_STATUS_LIST_NAMES"
    if missing:
        report.fail(
            "Trello lists", f"the board has no list {', '.join(map(repr, missing))} (named in {where})",
            f"Run 'leadsync init' to create it, or correct the list name in {where}",
        )  # fmt: skip
        return
    report.ok("Trello lists", ", ".join(f"{o} -> {n!r}" for o, n in flow.statuses.items()))


def _labels(report: _Report, apis: SetupApis, board_id: str, resolved: ResolvedTable) -> None:
    info = resolved.roles["labels"]
    have = {str(x.get("name")) for x in apis.trello.labels(board_id)}
    missing = [c for c in info.choices if c not in have]
    if missing:
        report.ok(
            "Trello labels",
            f"{', '.join(map(repr, missing))} not on the board yet: leadsync creates each on first use",
        )
    else:
        report.ok("Trello labels", f"every option of {info.name!r} is a label of the board")


# ---- store, webhooks, clock -----------------------------------------------------------------------------


def _store_and_webhooks(
    report: _Report, apis: SetupApis, flow: FlowConfig, settings: Settings, board_id: str | None,
    resolved: ResolvedTable | None,
) -> None:  # fmt: skip
    try:
        store = Store.open(settings.LEADSYNC_DATABASE_URL)
    except (LeadsyncError, OSError) as exc:
        report.fail("state store", f"LEADSYNC_DATABASE_URL: can't be opened ({exc})", _STORE_FIX)
        return
    try:
        try:
            store.take_rate_slot("doctor:write-probe", 1_000_000, 1.0)  # a real write, as every cycle makes
        except LeadsyncError as exc:
            report.fail(
                "state store",
                f"LEADSYNC_DATABASE_URL: opened but not writable ({exc})",
                _STORE_FIX,
            )
            return
        report.ok("state store", f"{store.url} is reachable and writable")
        _webhooks(report, apis, flow, settings, store, resolved is not None, board_id is not None)
    finally:
        store.close()


def _webhooks(
    report: _Report, apis: SetupApis, flow: FlowConfig, settings: Settings, store: Store,
    airtable_ok: bool, trello_ok: bool,
) -> None:  # fmt: skip
    state = store.sync_state(flow.name)
    register = "Run 'leadsync webhooks register' (with LEADSYNC_PUBLIC_URL set)"
    if not state.airtable_webhook_id and not state.trello_webhook_id:
        if settings.LEADSYNC_PUBLIC_URL:
            report.fail("webhooks", "LEADSYNC_PUBLIC_URL is set but no webhook is registered", register)
        else:
            report.ok("webhooks", "none registered: 'sync' and 'poll' need none")
    else:
        gone = []
        if state.airtable_webhook_id and airtable_ok:
            ids = {str(h["id"]) for h in apis.airtable.webhooks(flow.base_id)}
            if state.airtable_webhook_id not in ids:
                gone.append(f"Airtable webhook {state.airtable_webhook_id}")
        if (
            state.trello_webhook_id
            and trello_ok
            and state.trello_webhook_id not in {str(h["id"]) for h in apis.trello.webhooks()}
        ):
            gone.append(f"Trello webhook {state.trello_webhook_id}")
        if gone:
            report.fail(
                "webhooks", f"{' and '.join(gone)} registered in the store no longer exist(s)", register
            )
        else:
            report.ok("webhooks", "every webhook the store registered exists")


def _public_url(report: _Report, url: str) -> None:
    fix = "Start 'leadsync serve' where that URL reaches it (a tunnel or a reverse proxy), or correct LEADSYNC_PUBLIC_URL"
    try:
        response = httpx.get(f"{url}/health", timeout=5.0)
    except httpx.HTTPError as exc:
        report.fail(
            "public URL", f"LEADSYNC_PUBLIC_URL: {url}/health can't be reached ({type(exc).__name__})", fix
        )
        return
    if response.status_code != 200:
        report.fail("public URL", f"LEADSYNC_PUBLIC_URL: {url}/health answered {response.status_code}", fix)
        return
    report.ok("public URL", f"{url}/health answers 200")


def _clock(report: _Report, apis: SetupApis) -> None:
    for api in ("airtable", "trello"):
        skew = apis.clock.skew(api)
        if skew is None:
            continue
        name = f"clock vs {api.capitalize()}"
        if abs(skew) > CLOCK_SKEW_WARN:
            side = "ahead of" if skew > 0 else "behind"
            report.warn(
                name,
                f"this machine's clock is {abs(skew):.0f} s {side} {api.capitalize()}'s",
                "Turn on time sync (e.g. timedatectl set-ntp true)",
            )
        else:
            report.ok(name, f"within {CLOCK_SKEW_WARN:.0f} s of {api.capitalize()}'s Date header")
