"""Pure stop modes: where a long trade's stop stands on each daily bar, and where the trade exits.

The contract (INTERFACE.md, "Stop modes and backtests"): a trade entered at price E on bar 0 with
initial risk per share D (E - initial stop). The stop that applies on bar t is computed from bars
0 .. t-1 only and never moves down:

- ``risk``: max(E, highest close of bars 0..t-1) - D (today's live trailing stop)
- ``chandelier``: max(E - D, highest high of bars 0..t-1 - 3 x ATR(20) on bar t-1)
- ``breakeven``: E - D, raised to E once a close of bars 0..t-1 reached E + D
- ``turtle``: max(E - 2 x ATR(20) on bar 0, lowest low of bars t-10..t-1) (the channel from t >= 10)
- ``sma``: E - D, and an exit at the close of the first bar t >= 1 closing below SMA 17
- ``macd``: E - D, and an exit at the close of the first bar t >= 1 with a bearish MACD crossover

A stop is hit on bar t (t >= 1) when its low <= the stop; the fill is the stop, or the open when the
bar opened below it (a gap). On a bar with both a stop and a close signal, the stop comes first. A
trade not exited by the last bar exits at its close with reason ``open``. R = (exit - E) / D.

Indicators come from `papishares.core.indicators` over ALL the symbol's history (bars before the
entry too), so they are the live path's numbers. Every one of them is causal: a value on bar t uses
bars up to t only, which is what keeps a replay free of look-ahead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from papishares.core import indicators

RISK, CHANDELIER, BREAKEVEN, TURTLE, SMA, MACD = "risk", "chandelier", "breakeven", "turtle", "sma", "macd"
MODES: tuple[str, ...] = (RISK, CHANDELIER, BREAKEVEN, TURTLE, SMA, MACD)
STOP, SIGNAL, OPEN = "stop", "signal", "open"

ATR_BARS = 20
CHANDELIER_ATR = 3.0
TURTLE_ATR = 2.0
TURTLE_CHANNEL = 10
SMA_BARS = 17
PRICES = ("Open", "High", "Low", "Close")
PREPARED = (*PRICES, "atr", "sma", "bearish_cross")


def check_mode(mode: str) -> str:
    """The mode's canonical name, or ValueError naming the modes there are."""
    name = (mode or "").strip().lower()
    if name not in MODES:
        raise ValueError(f"unknown stop mode {mode!r}: one of {', '.join(MODES)}")
    return name


def prepare_wide(open_: pd.DataFrame, high: pd.DataFrame, low: pd.DataFrame, close: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The indicators the modes read, for many symbols at once (wide frames: dates x symbols, each
    column on its own bars): ``atr`` (ATR(20), Wilder), ``sma`` (SMA 17 of closes) and
    ``bearish_cross`` (the MACD 12/26/9 line crossed below its signal line on that bar)."""
    high = high.reindex_like(close).fillna(close)
    low = low.reindex_like(close).fillna(close)
    open_ = open_.reindex_like(close).fillna(close)
    line, signal, _ = indicators.macd(close)
    cross = indicators.crossovers(line, signal)
    return {"Open": open_, "High": high, "Low": low, "Close": close,
            "atr": indicators.atr(high, low, close, ATR_BARS), "sma": indicators.sma(close, SMA_BARS),
            "bearish_cross": (cross == indicators.BEARISH) & close.notna()}


def one_symbol(wide: dict[str, pd.DataFrame], symbol: str) -> pd.DataFrame:
    """One symbol's prepared frame (its own bars only) out of `prepare_wide`'s frames."""
    frame = pd.DataFrame({k: wide[k][symbol] for k in PREPARED})
    return frame[frame["Close"].notna()]


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """One symbol's daily OHLC frame (completed bars) with the indicators of `prepare_wide`."""
    bars = frame.loc[:, list(PRICES)].astype(float).dropna(subset=["Close"]).sort_index()
    wide = prepare_wide(*(bars[[c]].rename(columns={c: "x"}) for c in PRICES))
    return one_symbol(wide, "x")


@dataclass(frozen=True)
class Exit:
    bar: int  # t, counted from the entry bar (0)
    date: pd.Timestamp
    price: float
    reason: str  # stop / signal / open
    r_multiple: float

    def to_json(self) -> dict[str, object]:
        return {"exit_date": self.date.strftime("%Y-%m-%d"), "exit_price": round(self.price, 6),
                "r_multiple": round(self.r_multiple, 4), "reason": self.reason}


@dataclass(frozen=True)
class Replay:
    mode: str
    stops: np.ndarray  # stops[t] applies on bar t (t = 0 .. n): NaN on bar 0; stops[n] is the next bar's
    exit: Exit

    @property
    def stop_line(self) -> np.ndarray:
        """The stop of each bar up to and including the exit bar (NaN after it)."""
        out = self.stops[:-1].copy()
        out[self.exit.bar + 1:] = np.nan
        return out


Arrays = dict[str, np.ndarray]


def arrays(bars: pd.DataFrame) -> Arrays:
    """`prepare`'s frame as plain arrays (what the rules run on: slices of them are free views)."""
    return {k: bars[k].to_numpy(dtype=bool if k == "bearish_cross" else float) for k in PREPARED}


def _cut(cols: Arrays, start: int, stop: int | None = None) -> Arrays:
    return {k: v[start:stop] for k, v in cols.items()}


def stops(mode: str, bars: pd.DataFrame | Arrays, entry: float, risk: float) -> np.ndarray:
    """The stop per bar for a trade whose bar 0 is ``bars``'s first row: n + 1 values, value t
    applying on bar t (NaN on bar 0, value n being the stop for the bar after the last one).
    ``bars`` is `prepare`'s frame (or its `arrays`) from the entry bar on; the result never moves down."""
    mode = check_mode(mode)
    cols = arrays(bars) if isinstance(bars, pd.DataFrame) else bars
    if not (math.isfinite(entry) and math.isfinite(risk) and risk > 0):
        raise ValueError("a trade needs a finite entry price and a positive risk per share (entry - initial stop)")
    n = len(cols["Close"])
    out = np.full(n + 1, np.nan)
    if n == 0:
        return out
    floor = entry - risk
    if mode == RISK:
        raw = np.maximum(entry, np.maximum.accumulate(cols["Close"])) - risk
    elif mode == CHANDELIER:
        hh = np.maximum.accumulate(cols["High"])
        raw = np.fmax(floor, hh - CHANDELIER_ATR * cols["atr"])  # no ATR yet: the initial stop
    elif mode == BREAKEVEN:
        reached = np.logical_or.accumulate(cols["Close"] >= entry + risk)
        raw = np.where(reached, entry, floor)
    elif mode == TURTLE:
        atr0 = cols["atr"][0]
        base = entry - TURTLE_ATR * atr0 if math.isfinite(atr0) else floor  # no ATR yet: the initial stop
        raw = np.full(n, base)
        if n >= TURTLE_CHANNEL:
            # raw[k] = stop for bar k + 1: the lowest low of bars k-9 .. k, defined once k + 1 >= 10
            channel = sliding_window_view(cols["Low"], TURTLE_CHANNEL).min(axis=-1)
            raw[TURTLE_CHANNEL - 1:] = np.fmax(base, channel)
    else:  # sma, macd: the initial stop stays; their exits are close signals
        raw = np.full(n, floor)
    out[1:] = np.maximum.accumulate(raw)  # the ratchet: never down
    return out


def signals(mode: str, bars: pd.DataFrame | Arrays) -> np.ndarray:
    """Close signals per bar (bool, bar 0 never): ``sma`` a close below SMA 17, ``macd`` a bearish
    MACD crossover on the bar; the stop-only modes none."""
    mode = check_mode(mode)
    cols = arrays(bars) if isinstance(bars, pd.DataFrame) else bars
    n = len(cols["Close"])
    if mode == SMA:
        with np.errstate(invalid="ignore"):
            sig = cols["Close"] < cols["sma"]  # NaN (too few bars) compares False
    elif mode == MACD:
        sig = cols["bearish_cross"].astype(bool)
    else:
        sig = np.zeros(n, dtype=bool)
    sig = sig.copy()
    if n:
        sig[0] = False
    return sig


FIRST_WINDOW = 64  # most trades end within weeks: replay a prefix first, double it while still open


def replay(mode: str, bars: pd.DataFrame, entry: float, risk: float) -> Replay:
    """The trade from its entry bar (``bars``'s first row, `prepare`'s frame) under ``mode``."""
    if len(bars) == 0:
        raise ValueError("a trade needs at least its entry bar")
    return replay_arrays(mode, arrays(bars), pd.DatetimeIndex(bars.index), entry, risk)


def replay_arrays(mode: str, cols: Arrays, dates: pd.DatetimeIndex, entry: float, risk: float,
                  full_line: bool = True) -> Replay:
    """`replay` over `arrays` (bar 0 first). Every rule is causal, so a prefix of the bars gives the
    same stops as the whole: the exit is searched in growing prefixes. With ``full_line`` the
    stops are then computed over every bar (the chart's line); without, only up to the exit."""
    n = len(cols["Close"])
    if n == 0:
        raise ValueError("a trade needs at least its entry bar")
    size = min(n, FIRST_WINDOW)
    while True:
        part = _cut(cols, 0, size)
        line = stops(mode, part, entry, risk)
        with np.errstate(invalid="ignore"):
            hit = part["Low"] <= line[:size]  # NaN stop on bar 0 compares False
        events = np.flatnonzero(hit | signals(mode, part))
        if events.size or size == n:
            break
        size = min(n, size * 4)
    if events.size == 0:
        t, price, reason = n - 1, float(cols["Close"][-1]), OPEN
    else:
        t = int(events[0])
        if hit[t]:  # the stop comes first on a bar where both happen
            price, reason = float(min(line[t], cols["Open"][t])), STOP
        else:
            price, reason = float(cols["Close"][t]), SIGNAL
    if full_line and size < n:
        line = stops(mode, cols, entry, risk)
    return Replay(check_mode(mode), line, Exit(t, dates[t], price, reason, (price - entry) / risk))


def entry_bar(index: pd.DatetimeIndex, day: pd.Timestamp) -> int | None:
    """Position of the entry bar: the bar dated ``day``, else the first bar after it; None when
    every bar is earlier."""
    pos = int(index.searchsorted(pd.Timestamp(day).normalize(), side="left"))
    return pos if pos < len(index) else None


def live_stop(mode: str, ohlc: pd.DataFrame, opened: object, entry: float, risk: float) -> float | None:
    """The stop a held position has under ``mode`` for the next bar: the mode's rule over the
    symbol's completed bars (``ohlc``, the whole history for the indicators), the position's entry
    bar being the bar of the day it was opened. None when it cannot be said (no bars since the
    opening, no positive risk, a stop at or below zero)."""
    if ohlc.empty or not (math.isfinite(entry) and math.isfinite(risk) and risk > 0):
        return None
    prepared = prepare(ohlc)
    day = pd.Timestamp(opened)
    day = day.tz_convert(None) if day.tzinfo is not None else day
    start = entry_bar(pd.DatetimeIndex(prepared.index), day.normalize())
    if start is None:
        return None
    value = float(stops(mode, prepared.iloc[start:], entry, risk)[-1])
    return value if math.isfinite(value) and value > 0 else None
