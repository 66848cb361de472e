"""The seed project's webhook entry point, kept as a thin shim: ``uvicorn webhook_server:app --port 8000``."""

import sys

try:
    from leadsync.errors import ConfigError
    from leadsync.server import create_server
    from leadsync.settings import load_settings
except ModuleNotFoundError as missing:  # uvicorn run by a Python that has not got leadsync installed
    print(
        f"leadsync is not installed for this Python ({sys.executable}): module {missing.name!r} is missing.\n"
        "Install it from this directory with:  pip install .\n"
        "or run scripts/install, then:  .venv/bin/leadsync serve (or .venv/bin/uvicorn webhook_server:app)",
        file=sys.stderr,
    )
    raise SystemExit(2) from None

try:
    _settings = load_settings()
except ConfigError as exc:
    print(f"Configuration error: {exc}", file=sys.stderr)
    raise SystemExit(2) from None

app = create_server(_settings)
