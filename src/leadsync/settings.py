"""Settings from the environment and ``.env`` (pydantic-settings), validated before any request."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from leadsync.core import DEFAULT_STATUSES, ConflictPolicy
from leadsync.errors import ConfigError

__all__ = ["FIXES", "Settings", "clean_secret", "load_settings", "setting_source"]

# How to get a right value, per variable: the "fix" half of every configuration error.
FIXES: dict[str, str] = {
    "AIRTABLE_API_KEY": "Create a personal access token at https://airtable.com/create/tokens with the scopes "
    "data.records:read, data.records:write, schema.bases:read (and webhook:manage for webhooks), "
    "and add the base to it",
    "AIRTABLE_BASE_ID": "Copy the id starting with 'app' from the base's URL (airtable.com/appXXXXXXXXXXXXXX/...)",
    "AIRTABLE_LEADS_TABLE_NAME": "Set it to the table's name or its 'tbl...' id (default: Leads)",
    "AIRTABLE_API_URL": "Leave it unset for https://api.airtable.com, or set the sandbox's URL "
    "(e.g. http://127.0.0.1:8787), without /v0",
    "TRELLO_API_KEY": "Copy the API key of your Power-Up at https://trello.com/power-ups/admin",
    "TRELLO_TOKEN": "Generate a token from the API key page (https://trello.com/1/authorize?...&scope=read,write)",
    "TRELLO_BOARD_ID": "Copy the board's short link from its URL (trello.com/b/<shortLink>/...) or its 24-hex id",
    "TRELLO_LIST_IDS": 'Give JSON like {"NEW":"<list id>","CONTACTED":"<list id>",...}, '
    "or unset it to find the lists on the board by name",
    "TRELLO_API_URL": "Leave it unset for https://api.trello.com, or set the sandbox's URL, without /1",
    "TRELLO_API_SECRET": "Copy the application secret shown under your API key (it signs webhook deliveries)",
    "LEADSYNC_DATABASE_URL": "Use sqlite:///path/to/file.db or postgresql://user@host/dbname",
    "LEADSYNC_CONFLICT_POLICY": "Use one of: latest, airtable, trello, manual",
    "LEADSYNC_CONFIG": "Give the path of the mapping file (default: leadsync.toml in the working directory)",
    "LEADSYNC_PUBLIC_URL": "Give the https:// base URL at which 'leadsync serve' is reachable",
    "LEADSYNC_STATUS_LIST_NAMES": 'Give JSON like {"NEW":"NEW","CONTACTED":"Contacted",...}',
    "LEADSYNC_SWEEP_INTERVAL": "Give the seconds between the server's healing sweeps (default 300, at least 1)",
    "LEADSYNC_FULL_SCAN_EVERY": "Give the seconds between full scans (default 3600; 0 = only on --full)",
    "LEADSYNC_MAX_RETRY_SECONDS": "Give the most seconds to spend retrying one request (default 180)",
    "LEADSYNC_RATE_LIMIT_SCALE": "Leave it unset (1) against the real APIs; a sandbox started with --rate-scale F prints the F to use",
    "WEBHOOK_SECRET": "Set any long random string, and send it in the X-Webhook-Secret header",
    "LEADSYNC_DASHBOARD_PASSWORD": "Set a long password to turn the dashboard on, or its scrypt hash "
    "(scrypt$...; see the README's Dashboard section); unset it to keep the dashboard off",
}

_SECRET_VARS = (
    "AIRTABLE_API_KEY",
    "TRELLO_API_KEY",
    "TRELLO_TOKEN",
    "TRELLO_API_SECRET",
    "WEBHOOK_SECRET",
    "LEADSYNC_DASHBOARD_PASSWORD",
)
_API_CREDENTIALS = ("AIRTABLE_API_KEY", "TRELLO_API_KEY", "TRELLO_TOKEN", "TRELLO_API_SECRET")


def clean_secret(value: Any, *, name: str, required: bool) -> Any:
    """A secret as pasted, less the surrounding whitespace a copy leaves; an empty one is not set.

    A control character inside (a line break mid-token) can't go into an HTTP header, and an API
    credential has no space: both are refused here, before any request, and never echoed.
    """
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str):
        return value
    value = value.strip()
    if not value:
        if required:
            raise ValueError("is empty")
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("holds a line break or another control character (a copy-paste slip?)")
    if name in _API_CREDENTIALS and any(ch.isspace() for ch in value):
        raise ValueError("holds a space (a copy-paste slip?)")
    return value


def _parse_json_object(value: Any, variable: str) -> dict[str, str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
    ):
        raise ValueError("must be a JSON object of non-empty strings")
    if not value:
        raise ValueError("must not be empty")
    return dict(value)


class Settings(BaseSettings):
    """Every setting leadsync reads (credentials, board and table, store, policies, server), from the
    environment and ``.env``; secrets are held as ``SecretStr`` and never shown."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=True)

    # The credentials, base and board are checked when the flow is built: a mapping file may name other
    # variables for them (leadsync.config.flows).
    AIRTABLE_API_KEY: SecretStr | None = None
    AIRTABLE_BASE_ID: str | None = None
    AIRTABLE_LEADS_TABLE_NAME: str = "Leads"
    AIRTABLE_API_URL: str = "https://api.airtable.com"
    TRELLO_API_KEY: SecretStr | None = None
    TRELLO_TOKEN: SecretStr | None = None
    TRELLO_BOARD_ID: str | None = None
    TRELLO_LIST_IDS: Annotated[dict[str, str] | None, NoDecode] = None
    TRELLO_API_URL: str = "https://api.trello.com"
    TRELLO_API_SECRET: SecretStr | None = None
    WEBHOOK_SECRET: SecretStr | None = None
    LEADSYNC_DASHBOARD_PASSWORD: SecretStr | None = None
    LEADSYNC_DATABASE_URL: str = "sqlite:///.leadsync/state.db"
    LEADSYNC_CONFLICT_POLICY: ConflictPolicy = ConflictPolicy.LATEST
    LEADSYNC_PUBLIC_URL: str | None = None
    LEADSYNC_CONFIG: str | None = None
    LEADSYNC_STATUS_LIST_NAMES: Annotated[dict[str, str] | None, NoDecode] = None
    LEADSYNC_MAX_RETRY_SECONDS: float = Field(default=180.0, ge=0)
    LEADSYNC_RATE_LIMIT_SCALE: float = Field(default=1.0, gt=0)
    LEADSYNC_FULL_SCAN_EVERY: int = Field(default=3600, ge=0)
    LEADSYNC_SWEEP_INTERVAL: int = Field(default=300, ge=1)

    @field_validator("AIRTABLE_API_KEY", "TRELLO_API_KEY", "TRELLO_TOKEN", mode="before")
    @classmethod
    def _credential(cls, v: Any, info: ValidationInfo) -> Any:
        return clean_secret(v, name=str(info.field_name), required=True)

    @field_validator("TRELLO_API_SECRET", "WEBHOOK_SECRET", "LEADSYNC_DASHBOARD_PASSWORD", mode="before")
    @classmethod
    def _optional_secret(cls, v: Any, info: ValidationInfo) -> Any:
        return clean_secret(v, name=str(info.field_name), required=False)

    @field_validator("LEADSYNC_DASHBOARD_PASSWORD")
    @classmethod
    def _dashboard_password(cls, v: SecretStr | None) -> SecretStr | None:
        value = v.get_secret_value() if v else ""
        if value.startswith("scrypt$"):
            parts = value.split("$")
            if len(parts) != 6 or not all(part.isdigit() for part in parts[1:4]) or not all(parts[4:]):
                raise ValueError("starts with scrypt$ but is not scrypt$<n>$<r>$<p>$<salt>$<hash>")
        return v

    @field_validator("AIRTABLE_BASE_ID")
    @classmethod
    def _base_id(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = v.strip()
        if not re.fullmatch(r"app[A-Za-z0-9]{14}", v):
            raise ValueError(f"'{v[:20]}' is not a base id ('app' followed by 14 letters or digits)")
        return v

    @field_validator("TRELLO_BOARD_ID")
    @classmethod
    def _board_id(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = v.strip()
        if not (re.fullmatch(r"[0-9a-fA-F]{24}", v) or re.fullmatch(r"[A-Za-z0-9]{8}", v)):
            raise ValueError(f"'{v[:30]}' is neither a 24-hex board id nor an 8-character short link")
        return v

    @field_validator("AIRTABLE_API_URL", "TRELLO_API_URL")
    @classmethod
    def _url(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        if not re.match(r"https?://[^/\s]+", v):
            raise ValueError(f"'{v}' is not an http(s) URL")
        if v.endswith(("/v0", "/1")):
            raise ValueError("must not end with the API version (/v0 or /1)")
        return v

    @field_validator("LEADSYNC_PUBLIC_URL")
    @classmethod
    def _public_url(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        v = v.strip().rstrip("/")
        if not re.match(r"https?://[^/\s]+", v):
            raise ValueError(f"'{v}' is not an http(s) URL")
        return v

    @field_validator("LEADSYNC_DATABASE_URL")
    @classmethod
    def _db_url(cls, v: str) -> str:
        v = v.strip()
        if v.startswith("postgres://"):
            v = "postgresql://" + v.removeprefix("postgres://")
        if not (v.startswith(("sqlite:", "postgresql"))):
            raise ValueError(f"scheme of '{v.split(':', 1)[0]}' is not supported (sqlite or postgresql)")
        if v.startswith("postgresql://"):
            v = "postgresql+psycopg://" + v.removeprefix("postgresql://")
        return v

    @field_validator("TRELLO_LIST_IDS", mode="before")
    @classmethod
    def _list_ids(cls, v: Any) -> dict[str, str] | None:
        return _parse_json_object(v, "TRELLO_LIST_IDS")

    @field_validator("LEADSYNC_STATUS_LIST_NAMES", mode="before")
    @classmethod
    def _list_names(cls, v: Any) -> dict[str, str] | None:
        return _parse_json_object(v, "LEADSYNC_STATUS_LIST_NAMES")

    @property
    def list_names(self) -> dict[str, str]:
        """Status -> list name used when TRELLO_LIST_IDS is absent (1:1 by default)."""
        return dict(self.LEADSYNC_STATUS_LIST_NAMES or {s: s for s in DEFAULT_STATUSES})

    def secrets(self) -> list[str]:
        """Every secret value, so output filters can redact them."""
        out: list[str] = []
        for name in _SECRET_VARS:
            value = getattr(self, name)
            if value is not None and value.get_secret_value():
                out.append(value.get_secret_value())
        return out


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Read and validate settings; raise :class:`ConfigError` naming the first bad variable."""
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        variable = str(err["loc"][0]) if err["loc"] else "settings"
        if err["type"] == "missing":
            problem = "is not set"
        elif variable in _SECRET_VARS and err["type"] != "value_error":
            problem = "is malformed"  # pydantic's own messages may quote the value
        else:
            problem = str(err["msg"]).removeprefix("Value error, ")
        for secret in _given_secrets(env_file, overrides):
            problem = problem.replace(secret, "***")  # a secret pasted into another variable
        raise ConfigError(variable, problem, FIXES.get(variable, "See the README's settings table")) from None


def _given_secrets(env_file: str | Path | None, overrides: Mapping[str, Any]) -> list[str]:
    """Every secret value given, from the arguments, the environment and the env file: what no error
    message may show, whichever variable it is about."""
    sources: list[Mapping[str, Any]] = [overrides, os.environ]
    if env_file is not None and Path(env_file).is_file():
        sources.append(dotenv_values(env_file))
    found: set[str] = set()
    for source in sources:
        for name in _SECRET_VARS:
            value = source.get(name)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if isinstance(value, str) and len(value.strip()) >= 6:
                found.update({value, value.strip()})
    return sorted(found, key=len, reverse=True)


def setting_source(variable: str, env_file: str | Path | None = ".env") -> str | None:
    """Where ``variable``'s value came from: ``"the environment"`` (which takes precedence over the env
    file), ``".env"`` (the env file's name), or None when neither sets it (its default applies)."""
    if variable in os.environ:
        return "the environment"
    if env_file is not None and Path(env_file).is_file() and variable in dotenv_values(env_file):
        return Path(env_file).name
    return None
