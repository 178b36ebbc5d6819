"""Broker down, key rejected, garbage, bad configuration: a banner and the last good data, never an exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from papishares.store.db import Store
from tests.fakes.t212_server import FakeTrading212
from tests.ui.conftest import PAGES, clear_caches, messages, open_page, page_text


def forget_broker_answers(db: Path, server: FakeTrading212) -> None:
    """Make the next page run ask the server again (as if the rate periods had passed)."""
    store = Store(db)
    store.execute("DELETE FROM http_cache")
    store.execute("DELETE FROM rate_log")
    store.execute("DELETE FROM rate_block")
    store.close()
    server.reset_counters()  # the fake's own windows restart too: no false violation
    clear_caches()


def test_server_error_with_nothing_stored_says_so(t212_env: FakeTrading212) -> None:
    t212_env.inject("GET", "/equity/positions", "status", status=500, times=3)
    at = open_page("pages/1_Positions.py")
    assert not at.exception
    assert any("cannot be reached" in m for m in messages(at, "error"))
    assert not at.dataframe  # nothing to show, and nothing invented


def test_server_error_shows_last_good_data_with_its_age(t212_env: FakeTrading212, ui_env: Path) -> None:
    at = open_page("pages/1_Positions.py")
    assert "AAPL" in at.dataframe[0].value["Ticker"].tolist()
    forget_broker_answers(ui_env, t212_env)
    t212_env.inject("GET", "/equity/positions", "status", status=500, times=1000)  # down while every page opens, however slow the machine
    for page in PAGES:
        at = open_page(page)
        assert not at.exception, page
        if page not in ("pages/5_Activity.py", "pages/6_Settings.py"):
            notes = " ".join(messages(at, "warning"))
            assert "unreachable" in notes and "ago" in notes, page
    at = open_page("pages/1_Positions.py")
    assert "AAPL" in at.dataframe[0].value["Ticker"].tolist()
    assert "stale" in at.sidebar.caption[0].value


def test_rejected_key_names_the_variables_to_check(t212_env: FakeTrading212,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T212_API_KEY", "wrong-key-0000")
    for page in PAGES:
        at = open_page(page)
        assert not at.exception, page
        errors = " ".join(messages(at, "error"))
        assert "T212_API_KEY" in errors and "T212_SECRET_KEY" in errors and "T212_ENV" in errors, page
        assert "wrong-key-0000" not in page_text(at)


def test_garbage_answer_is_a_banner(t212_env: FakeTrading212) -> None:
    t212_env.inject("GET", "/equity/account/summary", "garbage", times=3)
    at = open_page("Home.py")
    assert not at.exception
    assert messages(at, "error")
    assert not at.metric


def test_configuration_error_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISK_PERCENTAGE", "lots")
    for page in PAGES:
        at = open_page(page)
        assert not at.exception
        (error,) = messages(at, "error")
        assert "RISK_PERCENTAGE" in error and "\n" not in error


def test_secret_in_a_bad_value_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T212_API_KEY", "bad key with spaces")
    at = open_page()
    assert not at.exception
    assert "T212_API_KEY" in messages(at, "error")[0]
    assert "bad key with spaces" not in page_text(at)


def test_market_data_note_is_shown(t212_env: FakeTrading212, monkeypatch: pytest.MonkeyPatch,
                                   tmp_path: Path) -> None:
    empty = tmp_path / "bars"
    empty.mkdir()
    monkeypatch.setenv("PAPISHARES_MARKET_DATA", f"csv:{empty}")
    at = open_page("pages/1_Positions.py")
    assert not at.exception
    assert any("Market data" in m for m in messages(at, "info"))
    assert (at.dataframe[0].value["MACD"] == "– no data").all()
