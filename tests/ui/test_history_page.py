"""History page in AppTest: the demo's year (equity curve, risk, R distribution, trades, dividends,
downloads) offline, and a clear sentence when the broker cannot give history."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.t212_server import FakeTrading212
from tests.ui.conftest import open_page, page_text

PAGE = "pages/8_History.py"


def test_demo_history_page(ui_env: Path) -> None:
    at = open_page(PAGE)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Closed trades"]) >= 10
    assert metrics["Expectancy"].endswith(" R") and metrics["Win rate"].endswith("%")
    assert len(at.get("plotly_chart")) == 4  # equity + drawdown, risk, R distribution, dividends
    trades = at.dataframe[0].value
    assert {"ticker", "r_multiple", "exit_reason"} <= set(trades.columns) and "auto-sell" in set(trades["exit_reason"])
    text = page_text(at)
    for name in ("trades.csv", "dividends.csv", "transactions.csv", "daily.csv", "history.xlsx"):
        assert name in text
    at.button(key="history_sync").click().run()
    assert not at.exception


def test_history_unavailable_says_so(t212_env: FakeTrading212) -> None:
    t212_env.inject("GET", "/equity/history/orders", "status", status=503, times=10)
    at = open_page(PAGE)
    assert not at.exception
    at.button(key="history_sync").click().run()
    assert not at.exception
    assert any("orders" in w.value and "not synced" in w.value for w in at.warning)
    assert any("No closed trades" in i.value for i in at.info)
