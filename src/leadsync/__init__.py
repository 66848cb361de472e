"""leadsync: two-way sync between an Airtable lead tracker and a Trello board.

The package root exports only the exception tree and ``__version__``: catching a leadsync error or
reading the version must not import the HTTP clients, the store's SQLAlchemy models, the server or the
sandbox. The working parts are imported from their own modules (``leadsync.engine``, ``leadsync.clients``,
``leadsync.store``, ``leadsync.sandbox``), which keeps ``import leadsync`` cheap for the command line.
"""

from leadsync.errors import (
    ApiError,
    BadRequest,
    ConfigError,
    LeadsyncError,
    LockBusy,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    ReadFailed,
    ServerError,
    StoreError,
    TransportFailed,
    Unauthorized,
    Unreachable,
)

__all__ = [
    "ApiError",
    "BadRequest",
    "ConfigError",
    "LeadsyncError",
    "LockBusy",
    "NotFound",
    "OutcomeUnknown",
    "RateLimited",
    "ReadFailed",
    "ServerError",
    "StoreError",
    "TransportFailed",
    "Unauthorized",
    "Unreachable",
    "__version__",
]

__version__ = "0.1.0"
"""The package's version, as declared in pyproject.toml."""
