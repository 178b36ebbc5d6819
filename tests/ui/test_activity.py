"""Activity page: the journal, and positions held back from auto-sell with their Re-arm button."""

from __future__ import annotations

import time
from pathlib import Path

from papishares.store import intents
from papishares.store.db import Store
from tests.ui.conftest import open_page


def test_journal_and_rearm(ui_env: Path) -> None:
    store = Store(ui_env)
    store.journal("alert", "RRl_EQ", "stop_breached", "RR fell below its stop 590.00p")
    store.journal("autosell", "RRl_EQ", "unknown", "Sell of RR: outcome unknown")
    intents.hold(store, "RRl_EQ", "sale outcome unknown after a timeout", time.time())
    at = open_page("pages/5_Activity.py")
    assert not at.exception
    assert "RRl_EQ" in at.warning[0].value and "timeout" in at.warning[0].value
    journal = at.dataframe[0].value
    assert journal["message"].tolist()[:2] == ["Sell of RR: outcome unknown", "RR fell below its stop 590.00p"]
    at.selectbox(key="journal_kind").select("alert").run()
    assert at.dataframe[0].value["kind"].tolist() == ["alert"]
    at.button(key="rearm_RRl_EQ").click().run()
    assert not at.exception
    assert store.query("SELECT * FROM held_tickers") == []
    assert store.journal_entries(kind="autosell")[0]["action"] == "rearmed"
    assert not at.main.button  # no more Re-arm buttons


def test_empty_activity() -> None:
    at = open_page("pages/5_Activity.py")
    assert not at.exception
    assert any("None" in c.value for c in at.caption)
