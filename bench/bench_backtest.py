"""Benchmark: the backtests on synthetic bars (in memory, no market-data source in the way).

1. `backtest exits`: 1,000 trades x 6 stop modes (100 symbols x 10 years of bars, 10 trades each).
2. `backtest entries`: 500 symbols x 10 years, the breakout rule, sizing, exits by `risk`, costs.
Time (wall) of each, and the process's peak resident memory after each (ru_maxrss).

    .venv/bin/python bench/bench_backtest.py
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from papishares.backtest import entries, exits  # noqa: E402
from papishares.core import stop_modes  # noqa: E402
from papishares.core.models import Bars  # noqa: E402

YEARS_BARS = 2520 + 300  # 10 years of trading days and the indicators' warm-up


def synthetic(symbols: int, bars: int, seed: int = 7) -> Bars:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range(end="2026-11-27", periods=bars, name="Date")
    close = 50 * np.exp(np.cumsum(rng.normal(0.0003, 0.018, (bars, symbols)), axis=0))
    opening = close * (1 + rng.normal(0, 0.006, close.shape))
    high = np.maximum(opening, close) * (1 + np.abs(rng.normal(0, 0.008, close.shape)))
    low = np.minimum(opening, close) * (1 - np.abs(rng.normal(0, 0.008, close.shape)))
    names = [f"S{i:03d}" + (".L" if i % 3 == 0 else "") for i in range(symbols)]

    def wide(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=index, columns=names)

    return Bars(wide(opening), wide(high), wide(low), wide(close), wide(np.full(close.shape, 1e6)), source="bench")


def measure(label: str, fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label}: {elapsed:.2f} s, process peak RSS {peak:.0f} MiB")
    return out


def bench_exits() -> None:
    bars = synthetic(100, YEARS_BARS)
    rng = np.random.default_rng(1)
    specs = []
    for symbol in bars.symbols:
        close = bars.close[symbol]
        for pos in np.sort(rng.choice(np.arange(300, YEARS_BARS - 5), 10, replace=False)):
            entry = float(close.iloc[pos])
            specs.append(exits.TradeSpec(symbol, close.index[pos], entry, entry * 0.93))

    def run() -> list:
        wide = stop_modes.prepare_wide(bars.open, bars.high, bars.low, bars.close)
        prepared = {s: stop_modes.one_symbol(wide, s) for s in bars.symbols}
        trades, skipped = exits.replay_trades(specs, prepared, stop_modes.MODES)
        exits.mode_summary(trades, stop_modes.MODES)
        return trades

    trades = measure(f"backtest exits: {len(specs)} trades x {len(stop_modes.MODES)} modes", run)
    assert len(trades) == 1000


def bench_entries() -> None:
    bars = synthetic(500, YEARS_BARS)
    currencies = {s: ("GBX" if s.endswith(".L") else "USD") for s in bars.symbols}
    fx = {s: (0.01 if c == "GBX" else 0.79) for s, c in currencies.items()}

    def run() -> dict:
        return entries.run(bars, "risk", capital=100_000.0, risk_pct=0.7, fx=fx, currencies=currencies,
                           account_currency="GBP", start=bars.close.index[300].date())

    out = measure("backtest entries: 500 symbols x 10 years", run)
    s = out["summary"]
    print(f"  {s['trades']} trades, {out['result'].skipped} skipped for cash, return {s['return_pct']:.1f}%, "
          f"max drawdown {s['max_drawdown_pct']:.1f}%, exposure {s['exposure_pct']:.0f}%")


if __name__ == "__main__":
    bench_exits()
    bench_entries()
