"""The data layer: one Service per configuration, one snapshot shared by every session."""

from __future__ import annotations

from pathlib import Path

from papishares.config import Secret, Settings
from papishares.ui import data
from tests.fakes.t212_server import FakeTrading212
from tests.ui.conftest import open_page


def test_settings_key_follows_secrets_without_holding_them(tmp_path: Path) -> None:
    a = Settings(t212_api_key=Secret("key-one-1234"), broker="t212", db_path=tmp_path / "a.db")
    b = Settings(t212_api_key=Secret("key-two-5678"), broker="t212", db_path=tmp_path / "a.db")
    assert a == b  # the dataclass cannot tell them apart (secrets compare masked) ...
    assert data.settings_key(a) != data.settings_key(b)  # ... the cache key can
    assert data.settings_key(a) == data.settings_key(Settings(t212_api_key=Secret("key-one-1234"), broker="t212",
                                                              db_path=tmp_path / "a.db"))
    assert "key-one" not in data.settings_key(a)


def test_sessions_share_one_snapshot(t212_env: FakeTrading212) -> None:
    sessions = [open_page(page) for page in ("Home.py", "pages/1_Positions.py", "pages/2_Risk.py")]
    assert all(not at.exception for at in sessions)
    assert t212_env.count("GET", "/equity/account/summary") == 1
    assert t212_env.count("GET", "/equity/positions") == 1
    for at in sessions:  # reruns inside the TTL (auto-refresh, clicks) cost nothing either
        at.run()
    assert t212_env.count("GET", "/equity/positions") == 1


def test_refresh_asks_again_within_the_rate_budget(t212_env: FakeTrading212) -> None:
    at = open_page()
    data.refresh()
    at.run()
    assert not at.exception
    # Inside the 5 s period of the summary endpoint the broker client answers from its stored copy.
    assert t212_env.count("GET", "/equity/account/summary") == 1


def test_age_words() -> None:
    assert data.age_words(None) == "unknown"
    assert data.age_words(12) == "12 s"
    assert data.age_words(600) == "10 min"
    assert data.age_words(3 * 86400) == "3 days"
