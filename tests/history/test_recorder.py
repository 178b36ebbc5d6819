"""The snapshot hook: the day's account point and each position's initial risk at its first look,
then a closed trade's R from that risk (hand-computed account of tests/test_service.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from papishares.history import book
from papishares.history.sync import sync
from tests.fakes.t212_history import history_of, order_item
from tests.fakes.t212_server import FakeTrading212
from tests.snapshot.test_service import ManualClock, _hand_made_account, _service


def test_daily_point_and_first_risk_kept_then_r_of_the_closed_trade(t212_server: FakeTrading212,
                                                                     tmp_path: Path) -> None:
    _hand_made_account(t212_server)
    clock = ManualClock(t212_server)
    service = _service(t212_server, tmp_path, clock)
    snap = service.snapshot()
    store = service.store
    (day,) = store.query("SELECT * FROM daily_values")
    assert day["date"] == snap.generated_at.date().isoformat()
    assert day["total_value"] == pytest.approx(10000.0) and day["cash"] == pytest.approx(6112.6)
    assert day["invested"] == pytest.approx(3887.4) and day["total_risk_pct"] == pytest.approx(1.121, abs=1e-3)

    risks = {r["ticker"]: r for r in store.query("SELECT * FROM initial_risk")}
    # AAPL: (105 - 97.139240) x 10 x 0.79 = 62.10; LLOY without a stop: its whole value 50;
    # RR's first stop (565p) is above its average (500p): no initial risk, so no R later
    assert risks["AAPL_US_EQ"]["risk"] == pytest.approx(62.10, abs=1e-3)
    assert risks["AAPL_US_EQ"]["stop"] == pytest.approx(97.139240, abs=1e-5)
    assert risks["LLOYl_EQ"]["risk"] == pytest.approx(50.0)
    assert risks["RRl_EQ"]["risk"] is None

    t212_server.set_price("AAPL_US_EQ", 120.0)  # the stop ratchets up: the initial risk stays
    clock.sleep(6)
    service.snapshot()
    assert store.query("SELECT risk FROM initial_risk WHERE ticker = 'AAPL_US_EQ'")[0]["risk"] == pytest.approx(62.10,
                                                                                                              abs=1e-3)
    assert len(store.query("SELECT * FROM daily_values")) == 1  # one point per day, the latest look

    opened_ms = int(float(risks["AAPL_US_EQ"]["opened_at"]) * 1000)
    h = history_of(t212_server)
    h.orders += [order_item(1, "AAPL_US_EQ", "BUY", 10, 105.0, opened_ms, fx=0.79),
                 order_item(2, "AAPL_US_EQ", "SELL", 10, 120.0, opened_ms + 86_400_000, fx=0.79, realised=118.5)]
    sync(store, service.broker, kinds=["orders"])
    (trade,) = book.trades_json(store)["trades"]
    # 10 x (120 - 105) x 0.79 = 118.50 realised; R = 118.50 / 62.10 = 1.908
    assert trade["realised_pnl"] == 118.5 and trade["r_multiple"] == pytest.approx(1.908, abs=1e-3)
    assert trade["exit_reason"] == "manual"
