"""Shared fixtures live in plugin modules so that each concern owns its file."""

pytest_plugins = ["tests.fixtures_db", "tests.fixtures_sandbox", "tests.fixtures_server"]
