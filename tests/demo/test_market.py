"""Synthetic demo history, consistent with the demo broker."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from papishares.core.models import SymbolRequest
from papishares.demo import simulation as sim
from papishares.demo.broker import DemoBroker
from papishares.demo.market import DemoMarketData
from papishares.store.db import Store

TUE_OPEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC).timestamp()
TUE_NIGHT = datetime(2026, 11, 24, 22, 0, tzinfo=UTC).timestamp()
TUE_EARLY = datetime(2026, 11, 24, 6, 0, tzinfo=UTC).timestamp()  # before any open
SATURDAY = datetime(2026, 11, 28, 12, 0, tzinfo=UTC).timestamp()
HELD = [SymbolRequest(t, sim.YAHOO_SYMBOLS[t], sim.UNIVERSE[t].currency) for t in
        ("AAPL_US_EQ", "RRl_EQ", "LLOYl_EQ", "VUSAl_EQ", "SAPd_EQ", "NVDA_US_EQ")]


@pytest.mark.parametrize("now", [TUE_OPEN, TUE_NIGHT, TUE_EARLY, SATURDAY])
def test_last_close_is_the_price_the_broker_quotes_now(tmp_path: Path, now: float) -> None:
    broker = DemoBroker(Store(tmp_path / "d.db"), clock=lambda: now)
    prices = {p.ticker: p.current_price for p in broker.positions()}
    bars = DemoMarketData(clock=lambda: now).daily_bars(HELD, 260)
    for r in HELD:
        frame = bars.for_symbol(r.symbol)
        assert len(frame) == 260
        assert frame["Close"].iloc[-1] == prices[r.ticker], r.ticker
        assert (frame["High"] >= frame[["Open", "Close"]].max(axis=1)).all()
        assert (frame["Low"] <= frame[["Open", "Close"]].min(axis=1)).all()


def test_bar_dates_follow_the_exchange_calendar() -> None:
    thanksgiving_evening = datetime(2026, 11, 26, 22, 0, tzinfo=UTC).timestamp()
    bars = DemoMarketData(clock=lambda: thanksgiving_evening).daily_bars(HELD[:2], 300)
    aapl, rr = bars.for_symbol("AAPL").index, bars.for_symbol("RR.L").index
    assert aapl[-1].date() == date(2026, 11, 25) and rr[-1].date() == date(2026, 11, 26)
    assert bars.close.index.name == "Date" and bars.close.index.tz is None
    assert all(d.weekday() < 5 for d in aapl)
    early = DemoMarketData(clock=lambda: TUE_EARLY).daily_bars(HELD[:1], 50)
    assert early.for_symbol("AAPL").index[-1].date() == date(2026, 11, 23)  # today's bar not begun


def test_gbx_history_is_in_pence_and_requests_by_symbol_work() -> None:
    bars = DemoMarketData(clock=lambda: TUE_OPEN).daily_bars([SymbolRequest("", "RR.L", "GBX")], 30)
    assert 400 < bars.for_symbol("RR.L")["Close"].iloc[-1] < 800


def test_unknown_symbols_get_a_deterministic_random_walk() -> None:
    requests = [SymbolRequest("", "ZZZ.L", "GBX"), SymbolRequest("", "QQQQ", "USD")]
    a = DemoMarketData(clock=lambda: TUE_OPEN).daily_bars(requests, 260)
    b = DemoMarketData(clock=lambda: TUE_OPEN + 86400).daily_bars(requests, 260)
    assert len(a.for_symbol("QQQQ")) == 260
    assert (a.close > 0).all().all()
    common = a.close.index.intersection(b.close.index)
    assert a.close.loc[common].equals(b.close.loc[common])  # past bars never change
    assert not a.close["ZZZ.L"].equals(a.close["QQQQ"])


def test_always_open_has_a_bar_for_today_closing_at_now(tmp_path: Path) -> None:
    broker = DemoBroker(Store(tmp_path / "d.db"), always_open=True, clock=lambda: SATURDAY)
    price = {p.ticker: p.current_price for p in broker.positions()}["AAPL_US_EQ"]
    bars = DemoMarketData(always_open=True, clock=lambda: SATURDAY).daily_bars(HELD[:1], 60)
    frame = bars.for_symbol("AAPL")
    assert frame.index[-1].date() == date(2026, 11, 28) and frame["Close"].iloc[-1] == price
