"""History page in AppTest: the demo's year (equity curve, risk, R distribution, trades, dividends,
downloads, UK capital gains) offline, and a clear sentence when the broker cannot give history."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from papishares.store.db import Store
from tests.fakes.cgt import INVEST_2024, needs_cgt, offline_rates
from tests.fakes.t212_history import history_of
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


@needs_cgt
def test_demo_uk_capital_gains_on_the_page(ui_env: Path) -> None:
    at = open_page(PAGE)
    assert any("Not computed yet" in c.value for c in at.caption)
    at.button(key="tax_compute").click().run()
    assert not at.exception and not at.warning
    table = next(d.value for d in at.dataframe if "Tax year" in d.value.columns)
    assert list(table["Tax year"]) and all("/" in y for y in table["Tax year"])
    assert {"Disposals", "Gains £", "Losses £", "Net gain £"} <= set(table.columns)
    assert any("demo account's history" in c.value and "not tax advice" in c.value for c in at.caption)


def test_isa_page_says_gains_are_tax_free(ui_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPISHARES_ACCOUNT_TYPE", "isa")
    at = open_page(PAGE)
    assert not at.exception
    assert any("free of UK capital gains tax" in i.value for i in at.info)
    assert all(b.key != "tax_compute" for b in at.button)


@needs_cgt
def test_trading_212_report_on_the_page_queued_then_computed(t212_env: FakeTrading212, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    history = history_of(t212_env)
    history.csv_text = INVEST_2024.read_text()
    history.polls_until_ready = 5  # longer than the page polls: it says so and keeps the report pending
    monkeypatch.setenv("PAPISHARES_CGT_RATES", str(offline_rates(tmp_path / "rates.csv")))
    at = open_page(PAGE)
    at.button(key="tax_compute").click().run()
    assert not at.exception
    assert any("still Queued" in w.value and "ask again in a minute" in w.value for w in at.warning), \
        [w.value for w in at.warning]
    history.polls_until_ready = 0
    # a minute passes, for the emulator's windows and the client's shared budget (both in the past)
    t212_env.advance(70.0)
    store = Store(os.environ["DB_PATH"])
    store.execute("UPDATE rate_log SET ts = ts - 70")
    store.execute("UPDATE rate_block SET until = until - 70")
    at.button(key="tax_compute").click().run()
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    table = next(d.value for d in at.dataframe if "Tax year" in d.value.columns)
    assert list(table["Tax year"]) == ["2024/25", "2025/26"] and list(table["Net gain £"]) == ["527.92", "284.00"]
    assert t212_env.count("POST", "/equity/history/exports") == 1  # the pending report, polled again
