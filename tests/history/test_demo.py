"""The demo's past year meets its live account at one seam: the last daily point and its cash agree
with the live account, and a position the demo sells later keeps its opening buy in the history."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from papishares.demo import history as demo
from papishares.demo.broker import DemoBroker
from papishares.history.t212_csv import report_csv
from papishares.store.db import Store


@pytest.fixture
def broker(tmp_path: Path) -> DemoBroker:
    return DemoBroker(Store(tmp_path / "d.db"), always_open=True)


def test_the_year_ends_at_the_live_account(broker: DemoBroker) -> None:
    live = broker.account_summary()
    demo.seed_records(broker.store, broker.seed)
    last = broker.store.query("SELECT * FROM daily_values WHERE source = 'demo' ORDER BY date DESC LIMIT 1")[0]
    assert last["total_value"] == pytest.approx(live.total_value, rel=0.02)  # one day of price moves at most
    assert last["cash"] == pytest.approx(live.cash, abs=0.05 * live.total_value)
    *deposits, (ago, kind, amount) = demo.flows(broker.seed, demo._anchor(broker.store))
    assert [k for _, k, _ in deposits] == ["DEPOSIT"] * 3 and ago == demo.LAST_FLOW_AGO and amount > 0


def test_a_position_sold_later_keeps_its_opening_buy(broker: DemoBroker) -> None:
    broker.place_market_order("AAPL_US_EQ", -10)
    items = demo.items(broker.store, broker.seed)
    rows = [r for r in csv.DictReader(io.StringIO(report_csv(items, "GBP"))) if r["Ticker"] == "AAPL_US_EQ"]
    assert [r["Action"] for r in rows if r["Action"].startswith("Market")] == ["Market buy", "Market sell"]
    opened = rows[0]["Time"]
    assert all(r["Time"] >= opened for r in rows)  # its dividends only while it was held
    assert rows[0]["No. of shares"] == rows[-1]["No. of shares"] == "10"
