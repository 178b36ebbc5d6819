"""Trades from fills, computed by hand: FIFO, buy-backs, fx, R-multiples, exit reasons, the summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from papishares.history.trades import (
    AUTOSELL,
    BROKER_STOP,
    MANUAL,
    Fill,
    fills_from_rows,
    round_trips,
    summary,
    with_exit_reasons,
    with_risk,
)

D = 86400.0


def f(oid: str, side: str, qty: float, price: float, at: float, fx: float = 1.0, ticker: str = "X",
      realised: float | None = None, currency: str = "GBP") -> Fill:
    return Fill(oid, ticker, at, side, qty, price, currency, qty * price * fx, realised)


def test_fifo_partial_sells_then_flat_is_one_trade() -> None:
    # buy 10 @ 100, buy 10 @ 110, sell 15 @ 120, sell 5 @ 90
    # FIFO: 10 x (120-100) + 5 x (120-110) = 250; then 5 x (90-110) = -100 -> 150
    trades = round_trips([f("1", "BUY", 10, 100, 0), f("2", "BUY", 10, 110, D), f("3", "SELL", 15, 120, 2 * D),
                          f("4", "SELL", 5, 90, 3 * D)])
    assert len(trades) == 1
    t = trades[0]
    assert t.quantity == 20
    assert t.entry_price == pytest.approx(105.0)
    assert t.exit_price == pytest.approx((15 * 120 + 5 * 90) / 20)  # 112.5
    assert t.realised_pnl == pytest.approx(150.0)
    assert t.holding_seconds == 3 * D
    assert t.exit_order_id == "4"


def test_buy_back_after_flat_starts_a_new_trade_and_open_remainder_is_not_a_trade() -> None:
    trades = round_trips([f("1", "BUY", 5, 10, 0), f("2", "SELL", 5, 12, D), f("3", "BUY", 4, 11, 2 * D),
                          f("4", "SELL", 4, 9, 3 * D), f("5", "BUY", 1, 9, 4 * D)])
    assert [(t.realised_pnl, t.opened_at, t.closed_at) for t in trades] == [(10.0, 0, D), (-8.0, 2 * D, 3 * D)]


def test_account_currency_through_fill_values_gbx_in_pence() -> None:
    # 200 shares bought at 500p and sold at 550p: fx 0.01 -> £100 gained
    t = round_trips([f("1", "BUY", 200, 500, 0, fx=0.01, currency="GBX"),
                     f("2", "SELL", 200, 550, D, fx=0.01, currency="GBX")])[0]
    assert (t.entry_price, t.exit_price, t.currency, t.realised_pnl) == (500, 550, "GBX", 100.0)


def test_broker_realised_pnl_wins_when_every_sell_has_it() -> None:
    t = round_trips([f("1", "BUY", 10, 100, 0, fx=0.8), f("2", "SELL", 10, 110, D, fx=0.78, realised=61.5)])[0]
    assert t.realised_pnl == 61.5  # not the FIFO 10 x 110 x 0.78 - 10 x 100 x 0.8 = 58


def test_sells_before_the_synced_history_are_ignored_and_tickers_apart() -> None:
    trades = round_trips([f("0", "SELL", 3, 50, 0), f("1", "BUY", 2, 10, D, ticker="Y"),
                          f("2", "SELL", 2, 11, 2 * D, ticker="Y")])
    assert [(t.ticker, t.realised_pnl) for t in trades] == [("Y", 2.0)]


def test_rows_to_fills_skip_unfilled_and_use_fx_when_no_net_value() -> None:
    rows = [{"id": 1, "ticker": "X", "side": "BUY", "status": "CANCELLED", "filled_quantity": 0, "price": 1.0,
             "filled_at": 1.0},
            {"id": 2, "ticker": "X", "side": "BUY", "status": "FILLED", "filled_quantity": 2, "price": 10.0,
             "filled_at": 2.0, "net_value": None, "fx_rate": 0.5, "currency": "USD"},
            {"id": 3, "ticker": None, "filled_quantity": 1, "price": 1.0, "filled_at": 1.0}]
    fills = fills_from_rows(rows)
    assert [(x.order_id, x.value) for x in fills] == [("2", 10.0)]


def test_r_multiple_from_the_initial_risk_recorded_while_open() -> None:
    trades = round_trips([f("1", "BUY", 10, 100, 10 * D), f("2", "SELL", 10, 90, 12 * D),
                          f("3", "BUY", 10, 100, 20 * D), f("4", "SELL", 10, 130, 25 * D)])
    risks = [{"ticker": "X", "opened_at": 10 * D + 60, "risk": 50.0},  # first trade: -100 / 50 = -2 R
             {"ticker": "X", "opened_at": 20 * D, "risk": 100.0},  # second: 300 / 100 = 3 R
             {"ticker": "X", "opened_at": 40 * D, "risk": 1.0}]  # a later position: matches neither
    a, b = with_risk(trades, risks)
    assert (a.initial_risk, a.r_multiple) == (50.0, -2.0)
    assert (b.initial_risk, b.r_multiple) == (100.0, 3.0)
    (none,) = with_risk(trades[:1], [{"ticker": "X", "opened_at": 10 * D, "risk": None}])
    assert none.r_multiple is None and none.initial_risk is None


def test_exit_reasons_by_order_id_then_loosely_by_ticker_and_time_else_manual() -> None:
    trades = round_trips([f("1", "BUY", 1, 10, 0), f("2", "SELL", 1, 9, D),
                          f("3", "BUY", 1, 10, 5 * D), f("4", "SELL", 1, 9, 6 * D),
                          f("5", "BUY", 1, 10, 10 * D), f("6", "SELL", 1, 9, 11 * D)])
    journal = [
        {"ts": 50 * D, "kind": "autosell", "ticker": "X", "action": "sold", "data": {"order_id": 2}},  # by id
        {"ts": 6 * D - 30, "kind": "brokerstop", "ticker": "X", "action": "filled", "data": {}},  # by time
        {"ts": 11 * D, "kind": "autosell", "ticker": "X", "action": "rejected", "data": {}},  # not a sale
        {"ts": 11 * D, "kind": "autosell", "ticker": "Z", "action": "sold", "data": {}},  # another ticker
    ]
    assert [t.exit_reason for t in with_exit_reasons(trades, journal)] == [AUTOSELL, BROKER_STOP, MANUAL]


def test_summary_by_hand() -> None:
    trades = round_trips([f("1", "BUY", 1, 100, 0), f("2", "SELL", 1, 130, D),  # +30
                          f("3", "BUY", 1, 100, 2 * D), f("4", "SELL", 1, 90, 3 * D),  # -10
                          f("5", "BUY", 1, 100, 4 * D), f("6", "SELL", 1, 80, 5 * D)])  # -20
    risks = [{"ticker": "X", "opened_at": 0, "risk": 10.0}, {"ticker": "X", "opened_at": 2 * D, "risk": 10.0},
             {"ticker": "X", "opened_at": 4 * D, "risk": 10.0}]
    s = summary(with_risk(trades, risks))
    assert s == {"count": 3, "win_rate": round(1 / 3, 4), "average_win": 30.0, "average_loss": -15.0,
                 "expectancy_r": 0.0, "largest_loss_r": -2.0, "trades_with_r": 3, "total_realised_pnl": 0.0}
    assert summary([])["count"] == 0 and summary([])["win_rate"] is None


def test_a_split_the_store_followed_joins_the_buy_and_the_sale(tmp_path: Path) -> None:
    # 400 RR bought at 420p (1,680.00), a 4:1 split seen by the store, 1,600 sold at 130p (2,080.00):
    # one trade of 1,600 at 105p -> 130p, realised 400.00 (FIFO on the account-currency values)
    from papishares.history import book
    from papishares.history.records import store_items
    from papishares.store.db import Store
    from tests.fakes.t212_history import order_item

    store = Store(tmp_path / "s.db")
    day = 86_400_000
    with store.transaction():
        store_items(store, "orders", [order_item(1, "RRl_EQ", "BUY", 400, 420.0, 1_750_000_000_000, "GBX", 0.01),
                                     order_item(2, "RRl_EQ", "SELL", 1600, 130.0, 1_750_000_000_000 + 30 * day,
                                                "GBX", 0.01)])
    assert book.trades(store) == [] or book.trades(store)[0].quantity != 1600  # the history alone cannot join them
    store.record_price("RRl_EQ", 400, 420.0, 450.0, now=1_750_000_000.0 + 86400)
    store.record_price("RRl_EQ", 1600, 105.0, 112.0, now=1_750_000_000.0 + 2 * 86400)  # the split, seen
    [trade] = book.trades(store)
    assert (trade.quantity, trade.entry_price, trade.exit_price) == (1600.0, 105.0, 130.0)
    assert trade.realised_pnl == pytest.approx(400.0)
