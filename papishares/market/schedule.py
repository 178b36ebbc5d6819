"""Market hours from Trading 212's working schedules (holidays included).

Join instrument -> `workingScheduleId` -> the exchange's schedule of OPEN/CLOSE events. Only the
regular session counts as open (auto-sell sends `extendedHours: false`). When no schedule covers
the moment asked about, a weekday fallback with the usual hours for the ticker's shape is used,
and a warning is logged (once per ticker and process) because holidays are then unknown.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from papishares.core.models import Exchange, Instrument, TimeEvent

log = logging.getLogger(__name__)

OPENING = {"OPEN", "BREAK_END"}
CLOSING = {"CLOSE", "BREAK_START", "AFTER_HOURS_OPEN", "AFTER_HOURS_CLOSE", "OVERNIGHT_OPEN",
           "PRE_MARKET_OPEN"}
# (zone, open, close) of the regular session by ticker shape, for the fallback only.
FALLBACK_HOURS = {
    "_US_EQ": ("America/New_York", time(9, 30), time(16)),
    "l_EQ": ("Europe/London", time(8), time(16, 30)),
    "d_EQ": ("Europe/Berlin", time(9), time(17, 30)),
    "a_EQ": ("Europe/Amsterdam", time(9), time(17, 30)),
    "p_EQ": ("Europe/Paris", time(9), time(17, 30)),
    "_CA_EQ": ("America/Toronto", time(9, 30), time(16)),
}
DEFAULT_HOURS = ("UTC", time(0), time(23, 59, 59))
_warned: set[str] = set()


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def schedule_events(instrument: Instrument, exchanges: Iterable[Exchange]) -> tuple[TimeEvent, ...] | None:
    """The instrument's working schedule, sorted by time; None when none is known."""
    sid = instrument.working_schedule_id
    if sid is None:
        return None
    for exchange in exchanges:
        events = exchange.schedules.get(sid)
        if events:
            return tuple(sorted(events, key=lambda e: _utc(e.date)))
    return None


def _covers(events: Sequence[TimeEvent], now: datetime) -> bool:
    """A schedule speaks for `now` only between its first and last event."""
    return bool(events) and _utc(events[0].date) <= now <= _utc(events[-1].date)


def _state_at(events: Sequence[TimeEvent], now: datetime) -> bool:
    state = False
    for event in events:
        if _utc(event.date) > now:
            break
        if event.type in OPENING:
            state = True
        elif event.type in CLOSING:
            state = False
    return state


def _fallback_hours(ticker: str) -> tuple[str, time, time]:
    for suffix, hours in FALLBACK_HOURS.items():
        if ticker.endswith(suffix):
            return hours
    return DEFAULT_HOURS


def _warn(instrument: Instrument) -> None:
    if instrument.ticker not in _warned:
        _warned.add(instrument.ticker)
        log.warning("No Trading 212 working schedule for %s: assuming weekday hours (holidays unknown)",
                    instrument.ticker)


def _fallback_sessions(ticker: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    zone_name, opens, closes = _fallback_hours(ticker)
    zone = ZoneInfo(zone_name)
    out = []
    day = start.astimezone(zone).date() - timedelta(days=1)
    while day <= end.astimezone(zone).date() + timedelta(days=1):
        if day.weekday() < 5:
            out.append((datetime.combine(day, opens, zone).astimezone(UTC),
                        datetime.combine(day, closes, zone).astimezone(UTC)))
        day += timedelta(days=1)
    return out


def hours_known(instrument: Instrument, exchanges: Iterable[Exchange], now: datetime) -> bool:
    """Whether a working schedule covers `now`, or the ticker's shape names an exchange whose weekday
    hours stand in (the logged fallback). False: nobody knows if its market is open."""
    events = schedule_events(instrument, exchanges)
    if events and _covers(events, _utc(now)):
        return True
    return any(instrument.ticker.endswith(suffix) for suffix in FALLBACK_HOURS)


def is_open(instrument: Instrument, exchanges: Iterable[Exchange], now: datetime) -> bool:
    """Whether the instrument's regular session is open at `now`, by its working schedule."""
    now = _utc(now)
    events = schedule_events(instrument, exchanges)
    if events and _covers(events, now):
        return _state_at(events, now)
    _warn(instrument)
    return any(o <= now < c for o, c in _fallback_sessions(instrument.ticker, now, now))


def next_open(instrument: Instrument, exchanges: Iterable[Exchange], now: datetime) -> datetime | None:
    """The next OPEN strictly after `now` (None when the schedule holds none and no fallback applies)."""
    now = _utc(now)
    events = schedule_events(instrument, exchanges)
    if events and _covers(events, now):
        for event in events:
            if _utc(event.date) > now and event.type in OPENING:
                return _utc(event.date)
        return None
    _warn(instrument)
    later = [o for o, _ in _fallback_sessions(instrument.ticker, now, now + timedelta(days=7)) if o > now]
    return later[0] if later else None


def last_close(instrument: Instrument, exchanges: Iterable[Exchange], now: datetime) -> datetime | None:
    """The latest regular CLOSE at or before `now`."""
    now = _utc(now)
    events = schedule_events(instrument, exchanges)
    if events and _covers(events, now):
        closes = [_utc(e.date) for e in events if e.type == "CLOSE" and _utc(e.date) <= now]
        return closes[-1] if closes else None
    _warn(instrument)
    earlier = [c for _, c in _fallback_sessions(instrument.ticker, now - timedelta(days=7), now) if c <= now]
    return earlier[-1] if earlier else None


def _as_date(value: date | datetime | pd.Timestamp | str) -> date:
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, datetime):
        return value.date()
    return value


def last_bar_completed(bar_date: date | datetime | pd.Timestamp | str, instrument: Instrument,
                       exchanges: Iterable[Exchange], now: datetime) -> bool:
    """INTERFACE.md: a bar dated before today (UTC) is completed; today's only once its exchange closed."""
    now = _utc(now)
    day = _as_date(bar_date)
    today = now.date()
    if day < today:
        return True
    if day > today:
        return False
    exchanges = list(exchanges)
    if is_open(instrument, exchanges, now):
        return False
    closed = last_close(instrument, exchanges, now)
    return closed is not None and closed.date() == today


def incomplete_last_bars(close: pd.DataFrame, instruments: Mapping[str, Instrument | None],
                         exchanges: Iterable[Exchange], now: datetime) -> dict[str, bool]:
    """The symbols (of `instruments`) whose last bar is not complete yet: dated today and its exchange
    not closed (`last_bar_completed`). Without an instrument (None) its hours are unknown, so today's
    bar waits until the UTC day ends. Symbols absent from the answer have a completed last bar."""
    if close.empty:
        return {}
    valid = close.notna().to_numpy()
    has = valid.any(axis=0)
    last_pos = valid.shape[0] - 1 - np.argmax(valid[::-1], axis=0)
    dates = pd.DatetimeIndex(close.index)
    today = _utc(now).date()
    exchanges = list(exchanges)
    drop: dict[str, bool] = {}
    for col, ok, pos in zip(close.columns, has, last_pos, strict=True):
        symbol = str(col)
        if not ok or symbol not in instruments:
            continue
        day: date = dates[pos].date()
        if day < today:  # only bars dated today need a look
            continue
        inst = instruments[symbol]
        drop[symbol] = True if inst is None else not last_bar_completed(day, inst, exchanges, now)
    return drop
