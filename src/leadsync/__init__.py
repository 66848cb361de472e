"""leadsync: two-way sync between an Airtable lead tracker and a Trello board."""

from leadsync.errors import (
    ApiError,
    BadRequest,
    ConfigError,
    LeadsyncError,
    NotFound,
    RateLimited,
    ReadFailed,
    ServerError,
    TransportFailed,
    Unauthorized,
)

__all__ = [
    "ApiError",
    "BadRequest",
    "ConfigError",
    "LeadsyncError",
    "NotFound",
    "RateLimited",
    "ReadFailed",
    "ServerError",
    "TransportFailed",
    "Unauthorized",
]

__version__ = "0.1.0"
