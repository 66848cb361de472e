"""The dashboard's pure parts: the password forms, the login limit, the chart's hourly counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadsync.dashboard.auth import LoginLimiter, Password, hash_password
from leadsync.dashboard.chart import HOURS, hourly_counts, svg
from leadsync.dashboard.views import direction
from leadsync.errors import ConfigError
from leadsync.settings import load_settings
from leadsync.store import CycleRecord

BASE = {"AIRTABLE_API_KEY": "patX.y", "AIRTABLE_BASE_ID": "appAAAAAAAAAAAAAA", "TRELLO_API_KEY": "k",
        "TRELLO_TOKEN": "t", "TRELLO_BOARD_ID": "abcdefgh"}  # fmt: skip


def test_a_plain_or_hashed_password_matches_only_itself() -> None:
    hashed = hash_password("open sesame", n=2**10)
    for setting in ("open sesame", hashed):
        password = Password(setting)
        assert password.matches("open sesame")
        assert not password.matches("open sesame ")
        assert not password.matches("")
    assert not Password(hashed).matches(hashed)  # the hash is not a password


def test_a_malformed_hash_is_a_configuration_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None, LEADSYNC_DASHBOARD_PASSWORD="scrypt$oops", **BASE)
    assert "LEADSYNC_DASHBOARD_PASSWORD" in str(caught.value)
    assert "scrypt$oops" not in str(caught.value)
    good = hash_password("pw", n=2**10)
    assert load_settings(env_file=None, LEADSYNC_DASHBOARD_PASSWORD=good, **BASE).secrets()[-1] == good


def test_the_login_limit_counts_per_client_address() -> None:
    limiter = LoginLimiter(attempts=2, window=60)
    assert limiter.allow("10.0.0.1") is None
    assert limiter.allow("10.0.0.1") is None
    wait = limiter.allow("10.0.0.1")
    assert wait is not None
    assert 0 < wait <= 60
    assert limiter.allow("10.0.0.2") is None


def test_the_chart_counts_each_hour_of_the_last_day() -> None:
    now = datetime(2026, 1, 2, 12, 30, tzinfo=UTC)
    cycles = [
        CycleRecord(1, "full", now - timedelta(minutes=10), now, True,
                    {"created": 2, "moved": 1, "rate_limited": {"trello": 3}, "errors": 0}),
        CycleRecord(2, "incremental", now - timedelta(hours=2), now, False, {"errors": 4}),
        CycleRecord(3, "incremental", now - timedelta(hours=30), now, True, {"created": 9}),
    ]  # fmt: skip
    counts = hourly_counts(cycles, now)
    assert (counts.cycles[-1], counts.writes[-1], counts.limited[-1]) == (1, 3, 3)
    assert (counts.cycles[HOURS - 3], counts.errors[HOURS - 3]) == (1, 4)
    assert sum(counts.cycles) == 2  # the one of 30 hours ago is off the chart
    drawing = svg(counts)
    assert drawing.startswith("<svg")
    assert "12:00 UTC: 1 cycles" in drawing


def test_each_kind_of_change_says_which_way_it_went() -> None:
    assert direction("status") == "Trello → Airtable"
    assert direction("moved+updated") == "Airtable → Trello"
    assert direction("created") == "Airtable → Trello"
    assert direction("conflict") == "both sides"
    assert direction("conflict resolved") == "a person decided"
    assert direction("webhook registered") == "leadsync"
