"""Benchmark: indicators + stops for 500 positions x 300 daily bars, vectorised vs a per-ticker loop.

Prints figures (median of several runs, ms) and the speed-up; no assertions. Target: the vectorised
path (summarise + compute_stops) under 100 ms.

    .venv/bin/python bench/bench_snapshot_compute.py [--positions 500] [--bars 300] [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from papishares.core import indicators as ind
from papishares.core import risk
from papishares.core.models import Bars


def synthetic_bars(positions: int, bars: int, seed: int = 1) -> Bars:
    """Random walks with ~5% holidays per symbol and staggered starts, like a real mixed portfolio."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(end="2026-11-20", periods=bars)
    steps = rng.normal(0.0003, 0.02, size=(bars, positions))
    close = 100 * np.exp(np.cumsum(steps, axis=0)) * rng.uniform(0.5, 50, positions)
    spread = np.abs(rng.normal(0, 0.01, size=close.shape)) * close
    high, low = close + spread, close - spread
    holes = rng.random(close.shape) < 0.05
    starts = rng.integers(0, bars // 3, positions)
    holes |= np.arange(bars)[:, None] < starts[None, :]
    names = [f"S{i:03d}" for i in range(positions)]

    def frame(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(np.where(holes, np.nan, a), index=days, columns=names)

    c = frame(close)
    return Bars(frame(close), frame(high), frame(low), c, frame(np.full_like(close, 1e6)), source="bench")


def positions_frame(bars: Bars, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    last = bars.close.ffill().iloc[-1].to_numpy()
    n = len(last)
    qty = rng.integers(1, 200, n).astype(float)
    fx = rng.choice([1.0, 0.79, 0.01], n)
    stored = np.where(rng.random(n) < 0.5, last * 0.9, np.nan)
    manual = np.where(rng.random(n) < 0.2, last * 0.85, np.nan)
    return pd.DataFrame(
        {
            "average_price": last * rng.uniform(0.7, 1.1, n),
            "max_price": last * rng.uniform(1.0, 1.2, n),
            "quantity": qty,
            "current_price": last,
            "wallet_value": qty * last * fx,
            "stored_stop": stored,
            "stored_qty": qty,
            "manual_stop": manual,
            "manual_qty": np.where(np.isnan(manual), 0.0, qty),
        },
        index=bars.symbols,
    )


def vectorised(bars: Bars, pos: pd.DataFrame, total: float) -> pd.DataFrame:
    summary = ind.summarise(bars)
    return risk.compute_stops(pos, total, 0.7).join(summary)


def per_ticker_loop(bars: Bars, pos: pd.DataFrame, total: float) -> pd.DataFrame:
    """The naive way: pandas per symbol and the scalar risk functions per position."""
    budget = risk.risk_budget(total, 0.7)
    rows = {}
    for symbol in bars.symbols:
        f = bars.for_symbol(symbol)
        c, h, lo = f.Close, f.High, f.Low
        line = c.ewm(span=12, adjust=False).mean() - c.ewm(span=26, adjust=False).mean()
        sig = line.ewm(span=9, adjust=False).mean()
        pc = c.shift(1)
        tr = pd.concat([h - lo, (h - pc).abs(), (lo - pc).abs()], axis=1).max(axis=1, skipna=False)
        atr = tr.iloc[1:21].mean()
        for x in tr.iloc[21:]:
            atr = (atr * 19 + x) / 20
        p = pos.loc[symbol]
        fx = risk.fx_rate(p.wallet_value, p.quantity, p.current_price)
        new = risk.trailing_stop(p.average_price, p.max_price, budget, fx, p.quantity)
        stop = risk.ratchet(p.stored_stop, new, p.stored_qty, p.quantity)
        eff = risk.effective_stop(p.manual_stop, stop)
        rows[symbol] = {
            "close": c.iloc[-1],
            "sma_17": c.iloc[-17:].mean(),
            "macd": line.iloc[-1],
            "macd_signal_line": sig.iloc[-1],
            "atr_20": atr,
            "donchian_high_20": h.iloc[-21:-1].max(),
            "donchian_high_55": h.iloc[-56:-1].max(),
            "donchian_low_20": lo.iloc[-21:-1].min(),
            "stop": stop,
            "risk": risk.position_risk(p.average_price, eff, p.quantity, fx),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up (imports, caches)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=500)
    parser.add_argument("--bars", type=int, default=300)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    bars = synthetic_bars(args.positions, args.bars)
    pos = positions_frame(bars)
    total = float(pos.wallet_value.sum() * 1.2)

    # the two paths must agree before their speeds mean anything
    fast, slow = vectorised(bars, pos, total), per_ticker_loop(bars, pos, total)
    for col in slow.columns:
        np.testing.assert_allclose(fast[col].to_numpy(float), slow[col].to_numpy(float), rtol=1e-9)

    summ = median_ms(lambda: ind.summarise(bars), args.runs)
    stops = median_ms(lambda: risk.compute_stops(pos, total, 0.7), args.runs)
    vec = median_ms(lambda: vectorised(bars, pos, total), args.runs)
    loop = median_ms(lambda: per_ticker_loop(bars, pos, total), max(3, args.runs // 2))
    print(f"snapshot compute: {args.positions} positions x {args.bars} bars (median of {args.runs} runs)")
    print(f"  summarise()              {summ:8.1f} ms")
    print(f"  compute_stops()          {stops:8.1f} ms")
    print(f"  vectorised total         {vec:8.1f} ms   (target < 100 ms: {'OK' if vec < 100 else 'MISSED'})")
    print(f"  per-ticker pandas loop   {loop:8.1f} ms")
    print(f"  speed-up                 {loop / vec:8.1f} x")


if __name__ == "__main__":
    main()
