"""Logging to stderr with every secret redacted, whatever the verbosity."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

__all__ = ["REDACTED", "RedactSecrets", "setup"]

REDACTED = "***"


class RedactSecrets(logging.Filter):
    """Replaces each known secret in a record's final message (and drops its args) before output."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every known secret replaced by ``REDACTED`` (longest secrets first)."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record's message and traceback in place; always keeps the record."""
        message = self.redact(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def setup(verbosity: int, secrets: Iterable[str] = ()) -> RedactSecrets:
    """Send logs to stderr (WARNING, or INFO with -v, DEBUG with -vv), redacting ``secrets``."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    redactor = RedactSecrets(secrets)
    handler.addFilter(redactor)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING if verbosity < 2 else logging.INFO)
    return redactor
