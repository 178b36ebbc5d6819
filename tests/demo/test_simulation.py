"""The demo universe and its deterministic price simulation."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from papishares.demo import simulation as sim

TUE_OPEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC).timestamp()  # NASDAQ and LSE both open


def test_price_is_deterministic_and_vectorised() -> None:
    times = np.arange(TUE_OPEN, TUE_OPEN + 3600, 7.0)
    vector = sim.prices("AAPL_US_EQ", times, 212)
    assert [sim.price("AAPL_US_EQ", float(t), 212) for t in times[:50]] == list(vector[:50])
    assert np.array_equal(vector, sim.prices("AAPL_US_EQ", times, 212))
    assert not np.array_equal(vector, sim.prices("AAPL_US_EQ", times, 7))  # the seed matters


def test_prices_move_over_minutes_and_days() -> None:
    p = sim.prices("RRl_EQ", [TUE_OPEN, TUE_OPEN + 300, TUE_OPEN + 5 * 86400], 212)
    assert len(set(p.tolist())) == 3


def test_price_levels_are_in_quote_currency_and_scale() -> None:
    times = np.linspace(TUE_OPEN - 300 * 86400, TUE_OPEN, 500)
    rr, lloy, vusa = (sim.prices(t, times, 212) for t in ("RRl_EQ", "LLOYl_EQ", "VUSAl_EQ"))
    assert rr.min() > 400 and rr.max() < 800  # pence
    assert lloy.min() > 35 and lloy.max() < 75  # pence
    assert vusa.min() > 60 and vusa.max() < 120  # pounds
    assert (sim.prices("UNKNOWN_US_EQ", times, 212) > 0).all()


def test_universe_shape() -> None:
    held = sim.held()
    assert 7 <= len(held) <= 9
    assert len(sim.UNIVERSE) - len(held) >= 15
    meta = sim.instruments()
    assert meta["FB_US_EQ"].short_name == "META"
    assert {meta[t].currency for t in ("RRl_EQ", "LLOYl_EQ", "VUSAl_EQ", "SAPd_EQ", "AAPL_US_EQ")} == {
        "GBX", "GBP", "EUR", "USD"}
    assert any("S&P" in i.name for i in meta.values())
    assert all(i.working_schedule_id for i in meta.values())
    value = sum(i.held_quantity * sim.price(i.ticker, TUE_OPEN, 212) * i.fx for i in held)
    assert 11_000 < value < 15_000


def test_one_position_is_worth_less_than_the_risk_budget() -> None:
    budget = 0.007 * sim.START_VALUE
    small = [i for i in sim.held() if i.held_quantity * sim.price(i.ticker, TUE_OPEN, 212) * i.fx < budget]
    assert [i.ticker for i in small] == ["LLOYl_EQ"]


@pytest.mark.parametrize("hours", [0, 3, 7, 11, 19, 30])
def test_the_swinging_position_crosses_its_trailing_stop_within_the_hour_or_so(hours: int) -> None:
    inst = sim.UNIVERSE["NVDA_US_EQ"]
    start = TUE_OPEN + hours * 3600
    avg = sim.price(inst.ticker, start - inst.held_weeks * 7 * 86400, 212) * inst.avg_factor
    times = np.arange(start, start + 75 * 60, 30.0)
    path = sim.prices(inst.ticker, times, 212)
    account = sim.START_VALUE
    high = np.maximum.accumulate(np.maximum(path, avg))
    stop = high - 0.007 * account / inst.fx / inst.held_quantity
    assert (path <= stop).any(), "the demo must show a stop breach within about an hour"


def test_sessions_follow_local_hours_holidays_and_dst() -> None:
    nyse, lse, xetra = sim.MARKETS["NYSE"], sim.MARKETS["LSE"], sim.MARKETS["XETRA"]
    assert nyse.session(date(2026, 11, 26)) is None  # Thanksgiving
    assert nyse.session(date(2026, 11, 28)) is None  # Saturday
    opens, closes = nyse.session(date(2026, 11, 27))  # early close
    assert (opens.hour, opens.minute, closes.hour) == (14, 30, 18)
    assert nyse.session(date(2026, 7, 15))[0].hour == 13  # EDT
    assert lse.session(date(2026, 12, 28)) is None  # Boxing Day observed
    assert lse.session(date(2026, 11, 26))[0].hour == 8
    assert xetra.session(date(2026, 11, 24))[0].hour == 8  # 09:00 Berlin = 08:00 UTC


def test_open_mask_agrees_with_is_session_open() -> None:
    market = sim.MARKETS["NASDAQ"]
    times = np.arange(TUE_OPEN - 2 * 86400, TUE_OPEN + 3 * 86400, 1800.0)
    mask = sim.open_mask(market, times)
    assert mask.any() and not mask.all()
    assert mask.tolist() == [sim.is_session_open(market, float(t)) for t in times]


def test_prices_rest_while_the_market_is_closed() -> None:
    saturday = datetime(2026, 11, 28, 12, tzinfo=UTC).timestamp()
    friday_close = datetime(2026, 11, 27, 18, tzinfo=UTC).timestamp()  # NYSE early close
    assert sim.quote_time("AAPL_US_EQ", saturday) == friday_close
    assert sim.current_price("AAPL_US_EQ", saturday, 212) == sim.price("AAPL_US_EQ", friday_close, 212)
    assert sim.quote_time("AAPL_US_EQ", saturday, always_open=True) == saturday


def test_working_schedules_are_t212_shaped() -> None:
    exchanges = sim.exchanges(TUE_OPEN)
    by_id = {sid: events for e in exchanges for sid, events in e.schedules.items()}
    nasdaq = by_id[sim.MARKETS["NASDAQ"].schedule_id]
    assert {e.type for e in nasdaq} == {"OPEN", "CLOSE"}
    days = {e.date.date() for e in nasdaq}
    assert date(2026, 11, 26) not in days and date(2026, 11, 25) in days
    assert min(days) <= date(2026, 11, 18) and max(days) >= date(2026, 12, 7)
    always = sim.exchanges(datetime(2026, 11, 28, tzinfo=UTC).timestamp(), always_open=True)
    assert all(len(events) == 2 for e in always for events in e.schedules.values())


def test_books_split_the_holdings_with_one_ticker_in_every_book() -> None:
    everything = {i.ticker for i in sim.held()}
    first, second = ({i.ticker: i for i in sim.held(b)} for b in (0, 1))
    assert set(first) & set(second) == {sim.SHARED_TICKER}
    assert set(first) | set(second) == everything
    assert first[sim.SHARED_TICKER].held_quantity != second[sim.SHARED_TICKER].held_quantity
    assert {i.ticker for i in sim.held(2)} == set(first)  # later books alternate
    assert sim.start_value(None) == sim.START_VALUE and sim.start_value(1) < sim.START_VALUE
