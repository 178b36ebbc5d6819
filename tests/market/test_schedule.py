"""Market hours from T212-shaped working schedules, with a logged weekday fallback."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from papishares.core.models import Exchange, Instrument, TimeEvent
from papishares.demo import simulation as sim
from papishares.market import schedule
from papishares.market.schedule import is_open, last_bar_completed, last_close, next_open

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
EXCHANGES = sim.exchanges(NOW.timestamp())  # T212-shaped: 7 days back to 14 ahead
META = sim.instruments()
AAPL, RR, SAP = META["AAPL_US_EQ"], META["RRl_EQ"], META["SAPd_EQ"]


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("instrument", "moment", "expected"),
    [
        (AAPL, at(2026, 11, 24, 15, 0), True),
        (AAPL, at(2026, 11, 24, 14, 29), False),  # 09:29 New York
        (AAPL, at(2026, 11, 24, 21, 0), False),  # the close itself is closed
        (AAPL, at(2026, 11, 26, 15, 0), False),  # Thanksgiving
        (RR, at(2026, 11, 26, 15, 0), True),  # London trades on Thanksgiving
        (AAPL, at(2026, 11, 27, 18, 30), False),  # early close at 13:00 New York
        (RR, at(2026, 11, 28, 10, 0), False),  # Saturday
        (SAP, at(2026, 11, 24, 16, 29), True),  # 17:29 Berlin
        (SAP, at(2026, 11, 24, 16, 31), False),
    ],
)
def test_is_open_by_working_schedule(instrument: Instrument, moment: datetime, expected: bool) -> None:
    assert is_open(instrument, EXCHANGES, moment) is expected


def test_naive_datetimes_are_utc() -> None:
    assert is_open(AAPL, EXCHANGES, datetime(2026, 11, 24, 15, 0))


def test_breaks_and_after_hours_are_not_regular_trading() -> None:
    events = (TimeEvent(at(2026, 11, 24, 1, 0), "OPEN"), TimeEvent(at(2026, 11, 24, 3, 30), "BREAK_START"),
              TimeEvent(at(2026, 11, 24, 4, 30), "BREAK_END"), TimeEvent(at(2026, 11, 24, 6, 0), "CLOSE"),
              TimeEvent(at(2026, 11, 24, 6, 0), "AFTER_HOURS_OPEN"),
              TimeEvent(at(2026, 11, 24, 9, 0), "AFTER_HOURS_CLOSE"))
    tokyo = Instrument("7203_JP_EQ", "Toyota", "7203", "JPY", working_schedule_id=9)
    exchanges = [Exchange(9, "Tokyo", {9: tuple(reversed(events))})]  # order must not matter
    assert is_open(tokyo, exchanges, at(2026, 11, 24, 2, 0))
    assert not is_open(tokyo, exchanges, at(2026, 11, 24, 4, 0))
    assert is_open(tokyo, exchanges, at(2026, 11, 24, 5, 0))
    assert not is_open(tokyo, exchanges, at(2026, 11, 24, 7, 0))


def test_next_open_and_last_close() -> None:
    wed_evening = at(2026, 11, 25, 22, 0)
    assert next_open(AAPL, EXCHANGES, wed_evening) == at(2026, 11, 27, 14, 30)  # skips Thanksgiving
    assert last_close(AAPL, EXCHANGES, wed_evening) == at(2026, 11, 25, 21, 0)
    assert last_close(RR, EXCHANGES, at(2026, 11, 28, 12, 0)) == at(2026, 11, 27, 16, 30)


def test_fallback_without_a_schedule_logs_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    schedule._warned.clear()
    bare = Instrument("RRl_EQ", "Rolls-Royce", "RR", "GBX")  # no workingScheduleId
    with caplog.at_level(logging.WARNING, logger="papishares.market.schedule"):
        assert is_open(bare, [], at(2026, 11, 26, 10, 0))  # weekday hours: holidays unknown
        assert not is_open(bare, [], at(2026, 11, 28, 10, 0))  # Saturday
        assert not is_open(bare, [], at(2026, 11, 26, 17, 0))  # after 16:30 London
        us = Instrument("AAPL_US_EQ", "Apple", "AAPL", "USD", working_schedule_id=404)  # unknown id
        assert is_open(us, EXCHANGES, at(2026, 11, 26, 15, 0))
        assert next_open(us, EXCHANGES, at(2026, 11, 27, 22, 0)) == at(2026, 11, 30, 14, 30)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2  # once per ticker, not once per call
    assert "RRl_EQ" in warnings[0] and "assuming weekday hours" in warnings[0]


def test_a_schedule_that_no_longer_covers_now_falls_back() -> None:
    schedule._warned.clear()
    far_future = at(2027, 2, 2, 15, 0)  # past the schedule's 14 days ahead
    assert is_open(AAPL, EXCHANGES, far_future)


@pytest.mark.parametrize(
    ("bar", "moment", "expected"),
    [
        (date(2026, 11, 23), at(2026, 11, 24, 15, 0), True),  # before today (UTC)
        (date(2026, 11, 24), at(2026, 11, 24, 15, 0), False),  # today, session running
        (date(2026, 11, 24), at(2026, 11, 24, 21, 5), True),  # today, after the close
        (pd.Timestamp("2026-11-24"), at(2026, 11, 24, 13, 0), False),  # today, not yet opened
        ("2026-11-25", at(2026, 11, 24, 22, 0), False),  # a future date
    ],
)
def test_last_bar_completed(bar: object, moment: datetime, expected: bool) -> None:
    assert last_bar_completed(bar, AAPL, EXCHANGES, moment) is expected


def test_incomplete_last_bars_of_a_wide_frame() -> None:
    """One rule for the snapshot and the entries scanner: today's bar counts once its exchange closed."""
    days = pd.to_datetime(["2026-11-23", "2026-11-24"])
    close = pd.DataFrame({"AAPL": [1.0, 2.0], "RR.L": [1.0, 2.0], "OLD": [1.0, float("nan")],
                          "NOMETA": [1.0, 2.0], "EMPTY": [float("nan")] * 2, "OTHER": [1.0, 2.0]}, index=days)
    instruments = {"AAPL": AAPL, "RR.L": RR, "OLD": AAPL, "NOMETA": None, "EMPTY": AAPL}
    during = schedule.incomplete_last_bars(close, instruments, EXCHANGES, at(2026, 11, 24, 15, 0))
    assert during == {"AAPL": True, "RR.L": True, "NOMETA": True}  # OLD's last bar is yesterday's
    after_london = schedule.incomplete_last_bars(close, instruments, EXCHANGES, at(2026, 11, 24, 17, 0))
    assert after_london == {"AAPL": True, "RR.L": False, "NOMETA": True}
    after_all = schedule.incomplete_last_bars(close, instruments, EXCHANGES, at(2026, 11, 24, 21, 5))
    assert after_all == {"AAPL": False, "RR.L": False, "NOMETA": True}  # unknown hours: the UTC day must end
    next_day = schedule.incomplete_last_bars(close, instruments, EXCHANGES, at(2026, 11, 25, 0, 1))
    assert next_day == {}
    for symbol, drop in during.items():  # the same answer as the one-bar rule
        inst = instruments[symbol]
        assert drop is (inst is None or not last_bar_completed(date(2026, 11, 24), inst, EXCHANGES,
                                                               at(2026, 11, 24, 15, 0)))
    assert schedule.incomplete_last_bars(close.iloc[:0], instruments, EXCHANGES, at(2026, 11, 24, 15, 0)) == {}


def test_last_bar_completed_on_a_holiday_is_conservative() -> None:
    assert not last_bar_completed(date(2026, 11, 26), AAPL, EXCHANGES, at(2026, 11, 26, 22, 0))
    assert last_bar_completed(date(2026, 11, 26), RR, EXCHANGES, at(2026, 11, 26, 17, 0))


def test_hours_are_unknown_without_a_schedule_or_a_known_ticker_shape() -> None:
    from datetime import UTC, datetime

    from papishares.core.models import Instrument
    from papishares.market.schedule import hours_known

    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert hours_known(Instrument("RRl_EQ", "Rolls", "RR", "GBX"), [], now)  # London weekday fallback
    assert hours_known(Instrument("AAPL_US_EQ", "Apple", "AAPL", "USD"), [], now)
    assert not hours_known(Instrument("ODDz_EQ", "Odd", "ODD", "EUR"), [], now)
