"""Table formats: quote-currency prices (GBX in pence), stop status, markers, concentration."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from papishares.core.models import Account, Order, PositionView, Snapshot
from papishares.ui import tables


def view(**kw: object) -> PositionView:
    base = dict(ticker="RRl_EQ", short_name="RR", name="Rolls-Royce", currency="GBX", quantity=100,
                quantity_available=100, average_price=400.0, current_price=600.0, profit_pct=50.0, max_price=610.0,
                stop_loss_price=560.0, stop_loss_percentage=8.2, stop_loss_note=None, manual_stop_loss_price=None,
                manual_stop_loss_quantity=0.0, macd_signal="BULLISH", macd_crossover=None, sma_17=590.0,
                fx=0.01, market_value=600.0, risk=0.0, open_risk=40.0, distance_to_stop_pct=6.67,
                effective_stop=560.0)
    base.update(kw)
    return PositionView(**base)  # type: ignore[arg-type]


def snapshot(*positions: PositionView, orders: tuple[Order, ...] = ()) -> Snapshot:
    return Snapshot(datetime(2026, 11, 24, tzinfo=UTC), "demo-sim", Account("GBP", 10000.0, 1000.0), positions,
                    orders, 1.0, 7.0)


@pytest.mark.parametrize(("value", "currency", "text"), [
    (1350.0, "GBX", "1,350.00p"), (13.5, "GBP", "£13.50"), (155.8, "USD", "$155.80"), (12.3, "CHF", "12.30 CHF"),
    (None, "USD", "–"), (float("nan"), "USD", "–"), (9.5, "gbx", "9.50p"),
])
def test_price_text(value: float | None, currency: str, text: str) -> None:
    assert tables.price_text(value, currency) == text


def test_stop_status_and_counts() -> None:
    ok = view()
    near = view(ticker="A", distance_to_stop_pct=2.0)
    below = view(ticker="B", current_price=550.0, distance_to_stop_pct=-1.8, stop_breached=True)
    manual_below = view(ticker="C", stop_loss_price=None, effective_stop=580.0, distance_to_stop_pct=-3.4)
    none = view(ticker="D", stop_loss_price=None, effective_stop=None, distance_to_stop_pct=None)
    states = [tables.stop_status(p) for p in (ok, near, below, manual_below, none)]
    assert states == [tables.OK, tables.NEAR, tables.BELOW, tables.BELOW, tables.NO_STOP]
    assert tables.stop_counts(snapshot(ok, near, below, manual_below, none)) == (2, 1, 1)


def test_markers() -> None:
    assert tables.macd_marker(view(macd_crossover="BULLISH")) == "▲ Bullish, crossed up ↑"
    assert tables.macd_marker(view(macd_signal="BEARISH", macd_crossover="BEARISH")) == "▼ Bearish, crossed down ↓"
    assert tables.macd_marker(view(macd_signal=None)) == "– no data"
    assert tables.sma_marker(view()) == "▲ above"
    assert tables.sma_marker(view(sma_17=650.0)) == "▼ below"
    assert tables.sma_marker(view(sma_17=None)) == "– no data"


def test_markers_are_coloured() -> None:
    frame = tables.positions_frame(snapshot(view(), view(ticker="B", sma_17=650.0, macd_signal="BEARISH",
                                                         profit_pct=-3.0, effective_stop=None)))
    html = tables.styled_positions(frame).to_html()
    assert tables.CELL_STYLES[tables.NO_STOP].split(";")[0] in html
    assert tables.GREEN_TEXT in html and tables.RED_TEXT in html


def test_positions_frame_manual_cover_and_row_order() -> None:
    a = view(manual_stop_loss_price=570.0, manual_stop_loss_quantity=25.0)
    b = replace(view(), ticker="AAPL_US_EQ", short_name="AAPL", currency="USD")
    frame = tables.positions_frame(snapshot(a, b))
    assert frame["T212 ticker"].tolist() == ["RRl_EQ", "AAPL_US_EQ"]  # row i is snapshot.positions[i]
    assert frame.loc[0, "Manual stop"] == "570.00p" and frame.loc[0, "Manual covers %"] == 25.0
    assert frame.loc[1, "Price"] == "$600.00"


def test_orders_frame_side_from_sign_or_side() -> None:
    orders = (Order(1, "RRl_EQ", "STOP", "NEW", -10, stop_price=500.0),
              Order(2, "AAPL_US_EQ", "LIMIT", "NEW", 3, side="BUY", limit_price=150.0),
              Order(3, "AAPL_US_EQ", "STOP_LIMIT", "NEW", 3, side="SELL", stop_price=140.0, limit_price=139.0))
    frame = tables.orders_frame(orders, {"RRl_EQ": "GBX", "AAPL_US_EQ": "USD"})
    assert frame["Side"].tolist() == ["SELL", "BUY", "SELL"]
    assert frame["Stop"].tolist() == ["500.00p", "–", "$140.00"]
    assert frame["Qty"].tolist() == [10, 3, 3]


def test_concentration_merges_pence_into_pounds() -> None:
    snap = snapshot(view(market_value=3000.0), view(ticker="VUSAl_EQ", short_name="VUSA", currency="GBP",
                                                    market_value=1000.0),
                    view(ticker="AAPL_US_EQ", short_name="AAPL", currency="USD", market_value=2000.0))
    by_inst, by_ccy = tables.concentration(snap)
    assert by_inst["Instrument"].tolist() == ["RR", "AAPL", "VUSA"]
    assert dict(zip(by_ccy["Currency"], by_ccy["% of account"], strict=True)) == {"GBP": 40.0, "USD": 20.0}


def test_risk_frame_flags_positions_without_stop() -> None:
    snap = snapshot(view(risk=50.0), view(ticker="X", short_name="X", effective_stop=None, risk=200.0,
                                          stop_loss_note="Smaller than the risk budget"))
    frame = tables.risk_frame(snap)
    assert frame["Ticker"].tolist() == ["X", "RR"] and frame["No stop"].tolist() == [True, False]
    assert frame.loc[0, "% of account"] == 2.0
