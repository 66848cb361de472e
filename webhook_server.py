"""The seed project's webhook entry point, kept as a thin shim: ``uvicorn webhook_server:app --port 8000``."""

import sys

from leadsync.errors import ConfigError
from leadsync.server import create_server
from leadsync.settings import load_settings

try:
    _settings = load_settings()
except ConfigError as exc:
    print(f"Configuration error: {exc}", file=sys.stderr)
    raise SystemExit(2) from None

app = create_server(_settings)
