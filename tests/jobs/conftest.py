"""Fixtures of the worker tests: a fresh PostgreSQL database (skipped with the reason when none runs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import URL

from tests.fixtures_db import _fresh_database


@pytest.fixture
def pg_url(postgres_admin_url: URL) -> Iterator[str]:
    """A URL of an empty PostgreSQL database, dropped afterwards."""
    yield from _fresh_database(postgres_admin_url)
