"""The ``leadsync`` command (Typer): sync, poll, conflicts, status, restore, sandbox, demo.

Exit codes: 0 success, 1 the cycle finished but some records failed, 2 configuration or usage
error, 3 a side could not be read and nothing was written. Every command turns errors into exit
codes through :func:`exits`, over the one table of :mod:`leadsync.exit_codes`.
"""

from __future__ import annotations

import json
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from leadsync import logs
from leadsync.cli_help import leadsync_version, top_help
from leadsync.engine import CycleResult, Engine
from leadsync.errors import ConfigError, LeadsyncError, LockBusy, ReadFailed, StoreError
from leadsync.executor import Progress as ProgressFn
from leadsync.exit_codes import READ_FAILED_HINT, ExitCode, StoreUnusable, error_exit
from leadsync.flow_choice import chosen_flows, single_flow
from leadsync.output import cycle_line, print_result
from leadsync.settings import Settings, load_settings
from leadsync.store import Store

__all__ = [
    "PROGRESS_THRESHOLD",
    "RECENT_CONFLICTS",
    "app",
    "demo",
    "exits",
    "main",
    "poll",
    "sandbox",
    "serve",
    "settings_line",
    "sync",
    "webhooks_list",
    "webhooks_register",
    "webhooks_unregister",
]

# Plain help (no Rich panels): Typer's Rich help shows every flag with a <bool> or <int> placeholder.
app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help=top_help())
conflicts_app = typer.Typer(
    help="Open conflicts first, then those a policy decided in the last 7 days; or resolve one.",
    invoke_without_command=True,
    rich_markup_mode=None,
)
app.add_typer(conflicts_app, name="conflicts")

# Piped output is read by programs and people alike: wide enough that ids are never cut.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True, width=None if sys.stderr.isatty() else 200)

PROGRESS_THRESHOLD = 20  # writes in one cycle before a progress bar is worth showing
RECENT_CONFLICTS = timedelta(days=7)  # how far back `leadsync conflicts` shows conflicts a policy decided

_verbosity = 0


def _print_version(wanted: bool) -> None:
    if wanted:
        print(f"leadsync {leadsync_version()}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _main(
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            show_default=False,
            help="More logs on stderr, before the command: -v each write (INFO), -vv every request (DEBUG).",
        ),
    ] = 0,
    _version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print leadsync's version and exit."
        ),
    ] = False,
) -> None:
    global _verbosity
    _verbosity = verbose
    logs.setup(verbose)


@contextmanager
def exits(*, as_json: bool = False) -> Iterator[None]:
    """Turn a leadsync error inside into its message on stderr and its exit code (one table for every
    command); with ``as_json``, a failed read is also told on stdout as JSON."""
    try:
        yield
    except LeadsyncError as exc:
        code, message = error_exit(exc)
        if as_json and isinstance(exc, ReadFailed):
            told = f"{exc}. {READ_FAILED_HINT}"
            out.print(json.dumps({"error": "read_failed", "side": exc.side, "message": told}), markup=False)
        elif as_json and isinstance(exc, ConfigError):
            told_json = {"error": "configuration", "variable": exc.variable, "message": str(exc)}
            out.print(json.dumps(told_json), markup=False)
        err.print(message)
        raise typer.Exit(code) from None


def _settings() -> Settings:
    with exits():
        settings = load_settings()
    logs.setup(_verbosity, settings.secrets())
    return settings


FlowsOption = Annotated[
    list[str] | None,
    typer.Option("--flow", metavar="NAME", help="Only this flow (repeatable; default: all)."),
]
FlowOption = Annotated[
    str | None,
    typer.Option("--flow", metavar="NAME", help="The flow (needed when leadsync.toml has several)."),
]


@contextmanager
def _engine(settings: Settings, flow: str | None = None) -> Iterator[Engine]:
    with exits():
        chosen = single_flow(settings, flow)
        try:
            engine = Engine(settings, flow=chosen)
        except StoreError as exc:
            raise StoreUnusable(str(exc)) from exc
    try:
        yield engine
    finally:
        engine.close()


@contextmanager
def _engines(settings: Settings, flows: list[str] | None) -> Iterator[list[Engine]]:
    """An engine per chosen flow, all on one store (one connection pool)."""
    with exits():
        chosen = chosen_flows(settings, flows)
        try:
            store = Store.open(settings.LEADSYNC_DATABASE_URL)
        except StoreError as exc:
            raise StoreUnusable(str(exc)) from exc
        engines = [Engine(settings, flow=flow, store=store) for flow in chosen]
    try:
        yield engines
    finally:
        for engine in engines:
            engine.close()


def _progress_factory(enabled: bool) -> Callable[[int], ProgressFn] | None:
    if not enabled:
        return None

    def factory(total: int) -> ProgressFn:
        if total < PROGRESS_THRESHOLD:
            return lambda _: None
        bar = Progress(
            TextColumn("writing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        )
        task = bar.add_task("writes", total=total)
        bar.start()
        lock = threading.Lock()
        done = [0]

        def advance(n: int) -> None:
            with lock:
                done[0] += n
                bar.update(task, advance=n)
                if done[0] >= total:
                    bar.stop()

        return advance

    return factory


def _absent_sqlite_store(settings: Settings) -> Path | None:
    """The SQLite store's file when it does not exist yet, else None (it exists, or is PostgreSQL)."""
    url = settings.LEADSYNC_DATABASE_URL
    if not url.startswith("sqlite:///"):
        return None
    path = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
    return None if path.exists() else path


def _run_one(engine: Engine, *, full: bool, dry_run: bool, as_json: bool) -> CycleResult:
    with exits(as_json=as_json):
        return engine.run_cycle(full=full, dry_run=dry_run, progress=_progress_factory(not as_json))


@app.command()
def sync(
    full: Annotated[
        bool, typer.Option("--full", help="Read both sides in full (detects deleted leads).")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")] = False,
    flow: FlowsOption = None,
) -> None:
    """Run one two-way sync cycle (of each flow), then exit."""
    settings = _settings()
    code = ExitCode.OK
    with ExitStack() as stack:
        if dry_run and (absent := _absent_sqlite_store(settings)) is not None:
            # A dry run creates no file: without a store yet, it plans against an empty one made aside.
            aside = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="leadsync-dry-run-")))
            settings = settings.model_copy(
                update={"LEADSYNC_DATABASE_URL": f"sqlite:///{aside / absent.name}"}
            )
        engines = stack.enter_context(_engines(settings, flow))
        several = len(engines) > 1
        for engine in engines:
            if several and not as_json:
                out.print(f"[bold]flow {escape(engine.flow.name)}[/]")
            result = _run_one(engine, full=full, dry_run=dry_run, as_json=as_json)
            summary = {"flow": engine.flow.name, **result.as_json()} if several else result.as_json()
            if as_json:
                out.print(json.dumps(summary), markup=False)
            else:
                print_result(out, result)
            code = ExitCode.RECORD_ERRORS if result.outcome.errors else code
    raise typer.Exit(code)


@app.command()
def poll(
    interval: Annotated[float, typer.Option("--interval", min=1.0, help="Seconds between cycles.")] = 60.0,
    full: Annotated[bool, typer.Option("--full", help="Every cycle reads both sides in full.")] = False,
    flow: FlowsOption = None,
) -> None:
    """Run sync cycles (of every flow, in turn) forever, until Ctrl+C (or SIGTERM), then exit cleanly."""
    settings = _settings()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with _engines(settings, flow) as engines, exits():
        try:
            while not stop.is_set():
                for engine in engines:
                    _poll_once(engine, full=full)
                stop.wait(interval)
        except KeyboardInterrupt:
            pass
    err.print("stopped")


def _poll_once(engine: Engine, *, full: bool) -> None:
    """One flow's cycle of ``poll``. A failed read or a busy lock passes with the next cycle; any other
    error (a mapped list the board lacks...) would not, and ends the loop with its exit code."""
    try:
        result = engine.run_cycle(full=full, progress=_progress_factory(True))
        out.print(cycle_line(result, datetime.now(UTC)), markup=False)
        if result.plan.writes or result.outcome.reports or result.outcome.failures:
            print_result(out, result)  # the table and the lines only when something changed
    except ReadFailed as exc:
        err.print(
            f"[bold red]Read failed[/] ({escape(engine.flow.name)}): {escape(str(exc))}. "
            "Nothing was written; retrying next cycle."
        )
    except LockBusy:
        err.print("[yellow]another process is running a cycle; skipping this one[/]")


def settings_line(key: str, value: str) -> str:
    """``KEY='VALUE'``: single quotes keep a JSON value whole both for a shell's ``set -a; . ./file``
    (which would strip its double quotes) and for ``.env`` (python-dotenv reads it literally)."""
    if "'" in value:  # no printed setting holds one; a shell could not read it inside single quotes
        raise ValueError(f"{key} holds a single quote")
    return f"{key}='{value}'"


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 8787,
    rate_scale: Annotated[
        float,
        typer.Option(
            "--rate-scale", min=0.0, help="1 = documented limits, 2 doubles them, 0 turns them off."
        ),
    ] = 1.0,
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", min=0.0, help="Delay added to every response.")
    ] = 0.0,
    seed: Annotated[int | None, typer.Option(help="Fixed seed for ids and credentials.")] = None,
    flows: Annotated[
        int,
        typer.Option(
            "--flows", min=0, help="Also N flows (a base and a board each); writes ./leadsync.toml."
        ),
    ] = 0,
) -> None:
    """Serve the local emulator of both APIs in the foreground; prints the settings leadsync needs."""
    import uvicorn

    from leadsync.sandbox import SandboxState, create_app

    state = SandboxState(seed=seed, rate_scale=rate_scale, latency_ms=latency_ms)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        err.print(f"[bold red]Cannot listen on {host}:{port}[/]: {exc.strerror}. Pick another --port.")
        raise typer.Exit(ExitCode.CONFIG) from None
    sock.listen(128)  # connections made as soon as the settings are printed wait for the server, not fail
    bound_host, bound_port = sock.getsockname()[:2]
    state.base_url = f"http://{bound_host}:{bound_port}"
    printed = state.settings()
    if flows:
        from leadsync.sandbox.flows import provision_flows

        made = provision_flows(state, flows)
        Path("leadsync.toml").write_text(made.toml)
        printed.update(made.variables)
        err.print(f"wrote leadsync.toml: {flows} flows ({len({f.group for f in made.flows})} Trello tokens)")
    for key, value in printed.items():
        print(settings_line(key, value), flush=True)
    err.print(f"sandbox serving Airtable (/v0) and Trello (/1) on {state.base_url}; Ctrl+C to stop")
    server = uvicorn.Server(uvicorn.Config(create_app(state), log_level="warning", lifespan="on"))
    server.run(sockets=[sock])


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    flow: FlowsOption = None,
    queue: Annotated[
        bool,
        typer.Option("--queue", help="Defer jobs to 'leadsync worker' (PostgreSQL; default: once one ran)."),
    ] = False,
) -> None:
    """Serve the webhook server: changes on either side reach the other within about a second."""
    import uvicorn

    from leadsync.flow_server import create_flows_server, queue_ready
    from leadsync.server import create_server

    settings = _settings()
    if not settings.TRELLO_API_SECRET:
        err.print("[yellow]TRELLO_API_SECRET is not set: Trello deliveries can't be verified and get 401.[/]")
    with exits():
        chosen = chosen_flows(settings, flow)
        jobs = queue or queue_ready(settings)  # a PostgreSQL store whose queue a worker prepared
        if jobs:
            from leadsync.jobs.app import conninfo

            conninfo(settings.LEADSYNC_DATABASE_URL)  # --queue on SQLite: exit 2 naming the variable
    # The seed's server for its one flow running its own cycles; many flows, or jobs, here.
    one = not jobs and len(chosen) == 1 and chosen[0].name == "default"
    app_ = create_server(settings) if one else create_flows_server(settings, chosen, queue=jobs)
    err.print(f"leadsync serving webhooks on http://{host}:{port} (GET /health); Ctrl+C to stop")
    uvicorn.run(app_, host=host, port=port, log_level="warning")


webhooks_app = typer.Typer(
    help="Register, list or unregister both APIs' webhooks for LEADSYNC_PUBLIC_URL.", rich_markup_mode=None
)
app.add_typer(webhooks_app, name="webhooks")


def _webhook_call(fn_name: str, flow: str | None) -> None:
    from leadsync import webhooks as wh

    settings = _settings()
    with _engine(settings, flow) as engine, exits():
        result = getattr(wh, fn_name)(engine)
    out.print(json.dumps(result, indent=2), markup=False)


@webhooks_app.command("register")
def webhooks_register(flow: FlowOption = None) -> None:
    """Create the Airtable (Leads table) and Trello (board) webhooks; needs 'leadsync serve' reachable."""
    _webhook_call("register", flow)


@webhooks_app.command("list")
def webhooks_list(flow: FlowOption = None) -> None:
    """Both APIs' webhooks, as they report them."""
    _webhook_call("listing", flow)


@webhooks_app.command("unregister")
def webhooks_unregister(flow: FlowOption = None) -> None:
    """Delete both webhooks and forget them."""
    _webhook_call("unregister", flow)


@app.command()
def demo() -> None:
    """Start a sandbox in-process and walk the whole story end to end (no account, no network)."""
    from leadsync.demo import run_demo

    raise typer.Exit(run_demo(out))


from leadsync import cli_state  # noqa: E402, F401 (its commands register on app: conflicts, status, restore)
from leadsync.jobs.command import register as _register_worker  # noqa: E402 (after the helpers it takes)
from leadsync.setup import commands as setup_commands  # noqa: E402 (the setup commands: leadsync.setup)

app.command("init")(setup_commands.init)
app.command("doctor")(setup_commands.doctor)
_register_worker(app, settings=_settings, flows=chosen_flows, exits=exits, err=err)


def main() -> None:
    """The console script ``leadsync``: run the Typer app."""
    app()
