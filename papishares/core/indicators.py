"""Pure, vectorised technical indicators over wide frames (index: dates, columns: symbols).

Symbols trade on different days, so a wide frame has NaN holes. Every function here treats each
column as that symbol ALONE on its own non-NaN bars: the valid values of every column are first
right-aligned (row -1 is each symbol's last bar, missing history becomes leading NaN), the maths
runs over the aligned 2-D array row by row - vectorised across symbols - and results are put back
at the original dates. No clock, no I/O: pandas and numpy only.

Conventions (see docs/indicators-and-risk.md):
- ema: ``ewm(span, adjust=False)`` seeded with the first value, over all history given.
- atr: Wilder smoothing, seed = mean of the first n true ranges; the first bar has no true range
  (no previous close), exactly as TA-Lib.
- donchian_high/low(n): extreme of the PREVIOUS n bars, the current bar excluded.
- Anything needing more bars than a symbol has is NaN (never raises).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from papishares.core.models import Bars

BULLISH = "BULLISH"
BEARISH = "BEARISH"
NEUTRAL = "NEUTRAL"

Frame: TypeAlias = pd.DataFrame | pd.Series
_NONE = np.array(None, dtype=object)  # None as an array element, for np.where

SUMMARY_COLUMNS = [
    "last_date", "close", "sma_17", "macd", "macd_signal_line", "macd_hist", "macd_state",
    "macd_crossover", "atr_20", "donchian_high_20", "donchian_high_55", "donchian_low_20",
    "donchian_low_10", "change_3m_pct", "prev_close", "prev_donchian_high_20",
    "prev_donchian_high_55", "bars",
]


# -- right alignment ----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Alignment:
    """Where each valid value of a (T, N) array goes in a right-aligned (L, N) array."""

    mask: np.ndarray  # (T, N) bool: the valid input cells
    rows: np.ndarray  # aligned row of every valid cell, in np.nonzero(mask) order
    cols: np.ndarray
    counts: np.ndarray  # (N,) valid bars per column
    length: int  # L = the longest history

    @staticmethod
    def of(mask: np.ndarray) -> _Alignment:
        counts = mask.sum(axis=0)
        length = int(counts.max()) if counts.size else 0
        r, c = np.nonzero(mask)
        rank = np.cumsum(mask, axis=0)[r, c] - 1  # position of the value in its own history
        rows = (length - counts)[c] + rank
        return _Alignment(mask, rows, c, counts, length)

    def align(self, values: np.ndarray) -> np.ndarray:
        out = np.full((self.length, self.mask.shape[1]), np.nan)
        out[self.rows, self.cols] = values[self.mask]
        return out

    def restore(self, aligned: np.ndarray) -> np.ndarray:
        out = np.full(self.mask.shape, np.nan)
        out[self.mask] = aligned[self.rows, self.cols]
        return out


def _as_frame(x: Frame) -> pd.DataFrame:
    return x.to_frame() if isinstance(x, pd.Series) else x


def _like(x: Frame, values: np.ndarray) -> Frame:
    """Wrap a (T, N) result in the shape and labels of the input."""
    if isinstance(x, pd.Series):
        return pd.Series(values[:, 0], index=x.index, name=x.name)
    return pd.DataFrame(values, index=x.index, columns=x.columns)


def _values(x: Frame) -> np.ndarray:
    values: np.ndarray = _as_frame(x).to_numpy(dtype=float, na_value=np.nan)
    return values


def _apply(x: Frame, kernel, *args) -> Frame:  # type: ignore[no-untyped-def]
    """Run an aligned-array kernel per column on its own valid bars; results at the input's dates."""
    values = _values(x)
    if values.size == 0:
        return _like(x, values)
    al = _Alignment.of(~np.isnan(values))
    return _like(x, al.restore(kernel(al.align(values), *args)))


# -- kernels over right-aligned arrays (leading NaN only) ---------------------------------------
def _ema(a: np.ndarray, alpha: float) -> np.ndarray:
    """y_t = (1 - alpha) * y_{t-1} + alpha * x_t, seeded with each column's first value."""
    out = np.empty_like(a)
    prev = np.full(a.shape[1], np.nan)
    keep = 1.0 - alpha
    for t in range(a.shape[0]):  # loop over time, vectorised over symbols
        x = a[t]
        prev = np.where(np.isnan(prev), x, keep * prev + alpha * x)
        out[t] = prev
    return out


def _window(a: np.ndarray, n: int) -> np.ndarray:
    """(L - n + 1, N, n) view of trailing windows; a window with any NaN yields NaN downstream."""
    return sliding_window_view(a, n, axis=0)


def _pad_front(a: np.ndarray, rows: int) -> np.ndarray:
    return np.concatenate([np.full((rows, a.shape[1]), np.nan), a], axis=0)


def _sma(a: np.ndarray, n: int) -> np.ndarray:
    if n < 1 or a.shape[0] < n:
        return np.full_like(a, np.nan)
    return _pad_front(_window(a, n).mean(axis=-1), n - 1)


def _rolling_extreme(a: np.ndarray, n: int, highest: bool) -> np.ndarray:
    if n < 1 or a.shape[0] < n:
        return np.full_like(a, np.nan)
    win = _window(a, n)
    return _pad_front(win.max(axis=-1) if highest else win.min(axis=-1), n - 1)


def _shift(a: np.ndarray, k: int) -> np.ndarray:
    """Move values k rows later (earlier rows become NaN)."""
    if k <= 0:
        return a
    if k >= a.shape[0]:
        return np.full_like(a, np.nan)
    return _pad_front(a[:-k], k)


def _donchian(a: np.ndarray, n: int, highest: bool) -> np.ndarray:
    return _shift(_rolling_extreme(a, n, highest), 1)  # previous n bars: today excluded


def _true_range(h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> np.ndarray:
    pc = _shift(c, 1)
    # np.maximum propagates NaN: the first bar of each symbol has no previous close, so no TR
    tr: np.ndarray = np.maximum(h - lo, np.maximum(np.abs(h - pc), np.abs(lo - pc)))
    return tr


def _wilder(tr: np.ndarray, n: int) -> np.ndarray:
    """Wilder's average: seed = mean of the first n values, then (prev * (n - 1) + x) / n."""
    seed = _sma(tr, n)  # first non-NaN per column is exactly the seed
    out = np.empty_like(tr)
    prev = np.full(tr.shape[1], np.nan)
    for t in range(tr.shape[0]):
        prev = np.where(np.isnan(prev), seed[t], (prev * (n - 1) + tr[t]) / n)
        out[t] = prev
    return out


def _macd(c: np.ndarray, fast: int, slow: int, signal: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    line = _ema(c, 2.0 / (fast + 1)) - _ema(c, 2.0 / (slow + 1))
    sig = _ema(line, 2.0 / (signal + 1))
    return line, sig, line - sig


def _state(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    diff = a - b
    return np.where(np.isnan(diff), _NONE, np.where(diff > 0, BULLISH, np.where(diff < 0, BEARISH, NEUTRAL)))


def _cross(prev_a: np.ndarray, prev_b: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """BULLISH when a - b went from <= 0 to > 0 on this bar, BEARISH from >= 0 to < 0, else None."""
    before, now = prev_a - prev_b, a - b
    with np.errstate(invalid="ignore"):
        up = (before <= 0) & (now > 0)
        down = (before >= 0) & (now < 0)
    return np.where(up, BULLISH, np.where(down, BEARISH, _NONE))


# -- public: series / wide-frame indicators -----------------------------------------------------
def ema(x: Frame, span: int) -> Frame:
    """Exponential moving average, ``ewm(span=span, adjust=False)`` over all history given.

    >>> ema(pd.Series([1.0, 2.0, 3.0]), 3).round(3).tolist()
    [1.0, 1.5, 2.25]
    """
    return _apply(x, _ema, 2.0 / (span + 1))


def sma(x: Frame, n: int) -> Frame:
    """Mean of the last n bars (NaN until n bars exist).

    >>> sma(pd.Series([1.0, 2.0, 3.0]), 2).tolist()
    [nan, 1.5, 2.5]
    """
    return _apply(x, _sma, n)


def macd(close: Frame, fast: int = 12, slow: int = 26, signal: int = 9) -> tuple[Frame, Frame, Frame]:
    """(macd_line, signal_line, histogram): ema(fast) - ema(slow), its ema(signal), and the gap."""
    values = _values(close)
    al = _Alignment.of(~np.isnan(values))
    line, sig, hist = _macd(al.align(values), fast, slow, signal)
    return _like(close, al.restore(line)), _like(close, al.restore(sig)), _like(close, al.restore(hist))


def _hlc(high: Frame, low: Frame, close: Frame) -> tuple[_Alignment, np.ndarray, np.ndarray, np.ndarray]:
    """Align high/low/close on the close's valid bars; a missing high or low falls back to the close."""
    c = _values(close)
    h = np.where(np.isnan(_values(high)), c, _values(high))
    lo = np.where(np.isnan(_values(low)), c, _values(low))
    al = _Alignment.of(~np.isnan(c))
    return al, al.align(h), al.align(lo), al.align(c)


def true_range(high: Frame, low: Frame, close: Frame) -> Frame:
    """max(high - low, |high - previous close|, |low - previous close|); NaN on a symbol's first bar."""
    al, h, lo, c = _hlc(high, low, close)
    return _like(close, al.restore(_true_range(h, lo, c)))


def atr(high: Frame, low: Frame, close: Frame, n: int = 20) -> Frame:
    """Average true range with Wilder smoothing (TA-Lib's ATR): first value on a symbol's bar n."""
    al, h, lo, c = _hlc(high, low, close)
    return _like(close, al.restore(_wilder(_true_range(h, lo, c), n)))


def donchian_high(x: Frame, n: int) -> Frame:
    """Highest value of the previous n bars (the current bar excluded)."""
    return _apply(x, _donchian, n, True)


def donchian_low(x: Frame, n: int) -> Frame:
    """Lowest value of the previous n bars (the current bar excluded)."""
    return _apply(x, _donchian, n, False)


def crossover(a: Frame, b: Frame) -> pd.Series:
    """Per column: BULLISH/BEARISH when line a crossed line b on its last bar, else None.

    Both lines must share their valid bars (e.g. MACD and its signal line); the last two bars
    of each column are compared.
    """
    av, bv = _values(a), _values(b)
    al = _Alignment.of(~(np.isnan(av) | np.isnan(bv)))
    aa, bb = al.align(av), al.align(bv)
    names = _as_frame(a).columns
    if al.length < 2:
        return pd.Series([None] * len(names), index=names, dtype=object)
    return pd.Series(_cross(aa[-2], bb[-2], aa[-1], bb[-1]), index=names, dtype=object)


def crossovers(a: Frame, b: Frame) -> Frame:
    """On EVERY bar (not only the last): BULLISH/BEARISH when line a crossed line b on that bar,
    else None; the same rule as `crossover`, each column on its own valid bars. For the stop modes'
    MACD exit and for drawing the crosses on a chart.

    >>> crossovers(pd.Series([1.0, 3.0, 2.0, 1.0]), pd.Series([2.0, 2.0, 2.0, 2.0])).tolist()
    [None, 'BULLISH', None, 'BEARISH']
    """
    av, bv = _values(a), _values(b)
    al = _Alignment.of(~(np.isnan(av) | np.isnan(bv)))
    out = np.full(av.shape, None, dtype=object)
    if al.length >= 2:
        aa, bb = al.align(av), al.align(bv)
        crossed = np.full(aa.shape, None, dtype=object)
        crossed[1:] = _cross(aa[:-1], bb[:-1], aa[1:], bb[1:])
        out[al.mask] = crossed[al.rows, al.cols]
    if isinstance(a, pd.Series):
        return pd.Series(out[:, 0], index=a.index, name=a.name, dtype=object)
    return pd.DataFrame(out, index=a.index, columns=a.columns, dtype=object)


def cross_state(a: Frame, b: Frame) -> pd.Series:
    """Per column on its last bar: BULLISH when a > b, BEARISH when a < b, NEUTRAL when equal."""
    av, bv = _values(a), _values(b)
    al = _Alignment.of(~(np.isnan(av) | np.isnan(bv)))
    names = _as_frame(a).columns
    if al.length < 1:
        return pd.Series([None] * len(names), index=names, dtype=object)
    return pd.Series(_state(al.align(av)[-1], al.align(bv)[-1]), index=names, dtype=object)


# -- public: the service's one call -------------------------------------------------------------
def _drop_last_bars(mask: np.ndarray, columns: pd.Index, drop_last: Mapping[str, bool] | None) -> np.ndarray:
    """Unmark each flagged symbol's last valid bar (dated today, its exchange not closed yet)."""
    if not drop_last:
        return mask
    flagged = np.array([bool(drop_last.get(str(s), False)) for s in columns], dtype=bool)
    has_bar = mask.any(axis=0)
    last_row = mask.shape[0] - 1 - np.argmax(mask[::-1], axis=0)
    cols = np.nonzero(flagged & has_bar)[0]
    mask = mask.copy()
    mask[last_row[cols], cols] = False
    return mask


def _empty_summary(symbols: pd.Index) -> pd.DataFrame:
    """Every symbol without bars: None texts, NaN numbers, 0 bars."""
    texts = {"last_date", "macd_state", "macd_crossover"}
    data = {
        k: pd.Series([None] * len(symbols), index=symbols, dtype=object)
        if k in texts
        else pd.Series(np.nan, index=symbols, dtype=float)
        for k in SUMMARY_COLUMNS
    }
    data["bars"] = pd.Series(0, index=symbols, dtype=int)
    return pd.DataFrame(data, index=symbols)[SUMMARY_COLUMNS]


def summarise(bars: Bars, drop_last: Mapping[str, bool] | None = None) -> pd.DataFrame:
    """The last completed bar's indicators for every symbol at once, indexed by symbol.

    Columns: see SUMMARY_COLUMNS. Undefined values (too few bars) are NaN / None.
    """
    close_frame = bars.close
    symbols = pd.Index([str(s) for s in close_frame.columns], name="symbol")
    if close_frame.empty or len(symbols) == 0:
        return _empty_summary(symbols)
    c_full = _values(close_frame)

    def on_close_grid(frame: pd.DataFrame) -> np.ndarray:
        if frame.empty:
            return np.full_like(c_full, np.nan)
        grid: np.ndarray = frame.reindex(index=close_frame.index, columns=close_frame.columns).to_numpy(
            dtype=float, na_value=np.nan
        )
        return grid

    h_full = on_close_grid(bars.high)
    l_full = on_close_grid(bars.low)
    h_full = np.where(np.isnan(h_full), c_full, h_full)
    l_full = np.where(np.isnan(l_full), c_full, l_full)

    mask = _drop_last_bars(~np.isnan(c_full), close_frame.columns, drop_last)
    al = _Alignment.of(mask)
    n = al.counts
    if al.length == 0:
        return _empty_summary(symbols)
    c, h, lo = al.align(c_full), al.align(h_full), al.align(l_full)

    line, sig, hist = _macd(c, 12, 26, 9)
    atr20 = _wilder(_true_range(h, lo, c), 20)
    dh20, dh55 = _donchian(h, 20, True), _donchian(h, 55, True)
    dl20, dl10 = _donchian(lo, 20, False), _donchian(lo, 10, False)
    with np.errstate(invalid="ignore", divide="ignore"):
        change = (c[-1] / _shift(c, 63)[-1] - 1.0) * 100.0

    last_pos = np.where(n > 0, mask.shape[0] - 1 - np.argmax(mask[::-1], axis=0), 0)
    dates = pd.DatetimeIndex(close_frame.index)
    last_date = np.where(n > 0, np.asarray(dates[last_pos].strftime("%Y-%m-%d"), dtype=object), _NONE)
    prev = (lambda a: a[-2]) if al.length >= 2 else (lambda a: np.full(a.shape[1], np.nan))

    columns = {
        "last_date": last_date,
        "close": c[-1],
        "sma_17": _sma(c, 17)[-1],
        "macd": line[-1],
        "macd_signal_line": sig[-1],
        "macd_hist": hist[-1],
        "macd_state": _state(line[-1], sig[-1]),
        "macd_crossover": _cross(prev(line), prev(sig), line[-1], sig[-1]),
        "atr_20": atr20[-1],
        "donchian_high_20": dh20[-1],
        "donchian_high_55": dh55[-1],
        "donchian_low_20": dl20[-1],
        "donchian_low_10": dl10[-1],
        "change_3m_pct": change,
        "prev_close": prev(c),
        "prev_donchian_high_20": prev(dh20),
        "prev_donchian_high_55": prev(dh55),
        "bars": n.astype(int),
    }
    # object Series keep None as None (pandas 3 would infer a str dtype and turn None into NaN)
    texts = {"last_date", "macd_state", "macd_crossover"}
    return pd.DataFrame(
        {k: pd.Series(v, index=symbols, dtype=object if k in texts else None) for k, v in columns.items()},
        index=symbols,
    )[SUMMARY_COLUMNS]
