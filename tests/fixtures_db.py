"""Database fixtures (owned by the store work).

``db_url`` runs a test once per supported database:

- ``sqlite``: a fresh file in the test's ``tmp_path``;
- ``postgresql``: a fresh database ``leadsync_test_<hex>`` on the server named by
  ``LEADSYNC_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``),
  dropped at teardown; the test is skipped, with the command that starts the server, when the server
  is unreachable.

``store`` is a :class:`leadsync.store.Store` opened on ``db_url`` and closed afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError

from leadsync.store import Store

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
START_HINT = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def _admin_url() -> URL:
    return make_url(os.environ.get("LEADSYNC_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))


def _shown(url: URL) -> str:
    return url.set(password=None).render_as_string(hide_password=False)


def _execute_autocommit(url: URL, sql: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_admin_url() -> URL:
    """The maintenance URL of the test server; skips (once per session) if it can't be reached."""
    url = _admin_url()
    try:
        _execute_autocommit(url, "SELECT 1")
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        pytest.skip(f"PostgreSQL not reachable at {_shown(url)}: {reason}; start it with: {START_HINT}")
    return url


@pytest.fixture(
    params=[pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state' / 'leadsync.db'}"
        return
    admin: URL = request.getfixturevalue("postgres_admin_url")
    yield from _fresh_database(admin)


def _fresh_database(admin: URL) -> Iterator[str]:
    name = f"leadsync_test_{uuid.uuid4().hex[:16]}"
    _execute_autocommit(admin, f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        _execute_autocommit(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(postgres_admin_url: URL) -> Iterator[str]:
    """A URL of an empty PostgreSQL database (skips with a reason when no server answers)."""
    yield from _fresh_database(postgres_admin_url)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A store on a fresh database of each backend."""
    opened = Store.open(db_url)
    try:
        yield opened
    finally:
        opened.close()
