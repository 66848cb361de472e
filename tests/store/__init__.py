"""Promises of the state store, on SQLite and on PostgreSQL (see tests/fixtures_db.py)."""
