"""The procrastinate app on the store's PostgreSQL database, and its schema applied once.

procrastinate (https://procrastinate.readthedocs.io) keeps its jobs in the database leadsync already
uses, so workers need no broker. Its ``PsycopgConnector`` is asynchronous (psycopg 3, its own pool):
workers need one. Its schema is applied by :func:`ensure_schema` when a worker starts: procrastinate's
own ``schema --apply`` fails on a database that has it already, so the tables are checked first, under
a transaction-level advisory lock that serialises workers starting together.
"""

from __future__ import annotations

import procrastinate
import psycopg
from sqlalchemy.engine import make_url

from leadsync.errors import ConfigError
from leadsync.store.connection import advisory_key

__all__ = ["JOB_QUEUE", "build_app", "conninfo", "ensure_schema"]

JOB_QUEUE = "leadsync"
"""The queue of every leadsync job."""


def conninfo(database_url: str) -> str:
    """libpq's form of a store URL (``postgresql+psycopg://`` -> ``postgresql://``)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ConfigError(
            "LEADSYNC_DATABASE_URL",
            "is not a PostgreSQL URL: workers share their jobs through PostgreSQL",
            "Set it to postgresql+psycopg://user:password@host:5432/db, or run 'leadsync poll' or "
            "'leadsync serve' with SQLite",
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def build_app(database_url: str, *, pool_size: int = 4) -> procrastinate.App:
    """A procrastinate app on the store's database with every leadsync task registered."""
    from leadsync.jobs.tasks import register_tasks  # the tasks close over the app they belong to

    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo(database_url), min_size=1, max_size=max(2, pool_size)
    )
    app = procrastinate.App(connector=connector, periodic_defaults={"max_delay": 120})
    register_tasks(app)
    return app


async def ensure_schema(app: procrastinate.App, database_url: str) -> bool:
    """Apply procrastinate's schema unless the database has it; True when it was applied now."""
    key = advisory_key("procrastinate-schema")
    async with await psycopg.AsyncConnection.connect(conninfo(database_url), autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            cursor = await conn.execute("SELECT to_regclass('procrastinate_jobs')")
            row = await cursor.fetchone()
            if row is not None and row[0] is not None:
                return False
            async with conn.transaction():  # no parameters: psycopg runs the many statements as one script
                await conn.execute(app.schema_manager.get_schema().encode())
            return True
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
