"""Home page: account figures, the risk gauge, stop counts, worker status and the latest events."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from papishares.store.db import Store
from papishares.ui import data, tables
from tests.fakes.t212_server import FakeTrading212
from tests.ui.conftest import open_page


def test_account_figures_from_trading212(t212_env: FakeTrading212) -> None:
    at = open_page()
    assert not at.exception
    snap = data.load_snapshot(data.current_settings()).snapshot
    assert snap is not None
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Account value"] == tables.price_text(snap.account.total_value, "GBP")
    assert metrics["Cash"] == "£1,000.00"
    assert metrics["Open positions"] == "8"
    below, near, no_stop = tables.stop_counts(snap)
    assert metrics["At or below stop"] == str(below) and metrics["Without any stop"] == str(no_stop)
    gauge = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert gauge["value"] == snap.total_risk_pct and gauge["gauge"]["threshold"]["value"] == 7.0
    assert metrics["Auto-sell"] == "off"


def test_breached_position_is_counted(t212_env: FakeTrading212) -> None:
    t212_env.set_price("TSLA_US_EQ", 100.0)  # far below any stop (issue 9: 1.0 would be 250x off: units in doubt)
    at = open_page()
    assert dict((m.label, m.value) for m in at.metric)["At or below stop"] == "1"


def test_worker_status_and_latest_events(ui_env: Path) -> None:
    at = open_page()
    assert any("No worker has run" in w.value for w in at.warning)
    store = Store(ui_env)
    now = time.time()
    store.execute("INSERT INTO lease (name, owner, acquired_at, expires_at, heartbeat_at, info) "
                  "VALUES ('worker', 'host:1:abc', ?, ?, ?, '{}')", (now - 100, now + 20, now - 3))
    store.journal("alert", "AAPL_US_EQ", "stop_breached", "AAPL fell below its stop $180.00")
    at.run()
    assert not at.exception
    assert any("Running" in s.value for s in at.success), [w.value for w in at.warning + at.error]
    events = at.dataframe[0].value
    assert events["message"].iloc[0] == "AAPL fell below its stop $180.00"
    store.execute("UPDATE lease SET heartbeat_at = ?, expires_at = ?", (now - 600, now - 580))
    at.run()
    assert any("Not running" in e.value for e in at.error)


def test_check_my_setup_runs_the_doctor_on_request(t212_env: FakeTrading212) -> None:
    at = open_page()
    assert not at.exception
    at.button(key="setup_check_run").click().run()
    assert not at.exception
    shown = [s.value for s in at.success] + [e.value for e in at.error] + [i.value for i in at.info]
    assert any(v.startswith("**authentication**") and "account in GBP" in v for v in shown), shown
    assert any("orders:execute" in v and "not checked without an order" in v for v in shown)
    assert t212_env.order_posts == [] and not [k for k in t212_env.counts if k.startswith(("POST", "DELETE"))]
    history = t212_env.counts["GET /equity/history/orders"]
    at.button(key="setup_check_run").click().run()  # again within a minute: the cached report
    assert t212_env.counts["GET /equity/history/orders"] == history


def test_a_telegram_supergroup_upgrade_shows_on_the_page(ui_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from papishares.notify import migration

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:ABC")
    monkeypatch.setenv("TELEGRAM_CHAT_ID", "-4242")
    monkeypatch.setenv("TELEGRAM_API_BASE", "http://127.0.0.1:9")
    migration.record(Store(ui_env), "-4242", "-4242", "-1004242")
    at = open_page()
    assert any("TELEGRAM_CHAT_ID=-1004242" in e.value for e in at.error)
