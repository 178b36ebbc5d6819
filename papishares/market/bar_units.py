"""Pure check of EVERY daily bar against its neighbours: pence/pounds mix-ups inside one series.

Yahoo sometimes mixes pence and pounds inside one London series (a few days, or a block, 100x off
the rest). MACD and SMA over such a series would be nonsense, so before any indicator sees the
bars, each bar is compared with the next accepted one (walking back from the newest): a step of
about 100x (or 1/100, 10,000x...) is a unit switch and the bar is rescaled; any other step of
`units.UNITS_RATIO` or more is a bad tick and the bar is dropped. The scale most bars share wins
(so one bad newest bar cannot rescale the whole history), and each change is said in a note.

>>> import pandas as pd
>>> close = pd.Series([10.0, 10.2, 1030.0, 10.1, 10.3], index=pd.date_range("2026-01-05", periods=5))
>>> fixed, note = repair_units(pd.DataFrame({"Close": close}), "RR.L")
>>> fixed["Close"].round(2).tolist(), note
([10.0, 10.2, 10.3, 10.1, 10.3], 'RR.L: 1 bar 100x off its neighbours rescaled')
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd

from papishares.core import units
from papishares.core.models import Bars

PRICES = ("Open", "High", "Low", "Close")
UNIT_STEP = 100.0  # pence per pound (and the ZAc/ILA minor units)
STEP_TOLERANCE = 2.0  # a jump within 2x of a power of 100 is a unit switch, not a tick


def _unit_power(ratio: float) -> int | None:
    """k when `ratio` is about 100**k (k != 0), else None."""
    k = round(math.log(ratio) / math.log(UNIT_STEP))
    if k == 0:
        return None
    return k if abs(math.log(ratio / UNIT_STEP ** k)) <= math.log(STEP_TOLERANCE) else None


def bar_factors(close: np.ndarray) -> np.ndarray:
    """Per bar, the factor that brings it into the series' majority scale; NaN = drop the bar."""
    n = len(close)
    power = np.zeros(n)  # relative to the newest bar, in powers of 100
    keep = np.isfinite(close) & (close > 0)
    level, level_power = None, 0
    for i in range(n - 1, -1, -1):
        if not keep[i]:
            continue
        if level is None:
            level = close[i]
            continue
        r = close[i] * UNIT_STEP ** level_power / level
        if max(r, 1 / r) >= units.UNITS_RATIO:
            k = _unit_power(r)
            if k is None:
                keep[i] = False  # a bad tick: compare the next bar with the last good one
                continue
            level_power -= k
        power[i] = level_power
        level = close[i] * UNIT_STEP ** level_power
    kept = [int(p) for p, k in zip(power, keep, strict=True) if k]
    if not kept:
        return np.full(n, np.nan)
    counts = Counter(kept)
    top = max(counts.values())
    majority = next(p for p in reversed(kept) if counts[p] == top)  # ties: the newest scale
    return np.where(keep, UNIT_STEP ** (power - majority), np.nan)


def repair_units(frame: pd.DataFrame, symbol: str) -> tuple[pd.DataFrame, str | None]:
    """The OHLCV frame with bars ~100x off their neighbours rescaled and bad ticks dropped, and a
    note saying what was changed (None when nothing was). Open/High/Low ~100x off their own bar's
    close are rescaled too (or set to the close when off by another factor). Volume is kept."""
    if frame.empty or "Close" not in frame.columns:
        return frame, None
    close = pd.to_numeric(frame["Close"], errors="coerce").to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = close[1:] / close[:-1]
    intra = [c for c in PRICES[:3] if c in frame.columns]
    if intra:
        with np.errstate(divide="ignore", invalid="ignore"):
            spreads = frame[intra].to_numpy(dtype=float) / close[:, None]
    else:
        spreads = np.ones((len(frame), 1))
    limit = units.UNITS_RATIO

    def off(a: np.ndarray) -> np.ndarray:
        marks: np.ndarray = np.isfinite(a) & ((a >= limit) | (a <= 1 / limit))
        return marks

    if not off(steps).any() and not off(spreads).any():
        return frame, None  # the common case, decided without a Python loop
    factors = bar_factors(close)
    out = frame.copy()
    cols = [c for c in PRICES if c in out.columns]
    out[cols] = out[cols].astype(float).mul(factors, axis=0)
    rescaled = int(np.sum(np.isfinite(factors) & (factors != 1.0)))
    dropped = int(np.sum(~np.isfinite(factors) & np.isfinite(close) & (close > 0)))
    fixed_parts = 0
    for col in intra:
        ratio = out[col] / out["Close"]
        bad = off(ratio.to_numpy(dtype=float))
        for i in np.flatnonzero(bad):
            k = _unit_power(float(ratio.iloc[i]))
            out.iloc[i, out.columns.get_loc(col)] = (out[col].iloc[i] / UNIT_STEP ** k if k is not None
                                                     else out["Close"].iloc[i])
            fixed_parts += 1
    out = out[np.isfinite(factors)]
    parts = []
    if rescaled:
        parts.append(f"{rescaled} bar{'s' if rescaled > 1 else ''} 100x off {'their' if rescaled > 1 else 'its'} "
                     "neighbours rescaled")
    if dropped:
        parts.append(f"{dropped} bad tick{'s' if dropped > 1 else ''} dropped")
    if fixed_parts:
        parts.append(f"{fixed_parts} open/high/low value{'s' if fixed_parts > 1 else ''} off {'their' if fixed_parts > 1 else 'its'} close fixed")
    return out, (f"{symbol}: " + ", ".join(parts)) if parts else None


def repair_bars(bars: Bars) -> tuple[Bars, dict[str, str]]:
    """`repair_units` over every symbol of a Bars (the bar cache runs it on whatever a source sends)."""
    frames: dict[str, pd.DataFrame] = {}
    notes: dict[str, str] = {}
    changed = False
    for symbol in bars.symbols:
        frame = bars.for_symbol(symbol)
        fixed, note = repair_units(frame, symbol)
        frames[symbol] = fixed
        if note:
            notes[symbol] = note
            changed = True
    if not changed:
        return bars, {}
    return Bars.from_frames(frames, source=bars.source, status=dict(bars.status),
                            fetched_at=dict(bars.fetched_at)), notes
