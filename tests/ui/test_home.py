"""Home page: account figures, the risk gauge, stop counts, worker status and the latest events."""

from __future__ import annotations

import json
import time
from pathlib import Path

from papishares.store import Store
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
