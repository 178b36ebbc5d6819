"""Benchmark: the entries scan over 500 symbols.

1. The whole pipeline on the demo market data with the S&P 500 preset (~500 symbols): how many
   market-data calls the scan makes (must be ONE batched call) and how long it takes.
2. The computation alone with data in memory, 500 symbols x 300 bars: the vectorised scanner +
   sizing (target < 1 s) against a per-symbol loop over the same functions, and the ratio.

    .venv/bin/python bench/bench_entries.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from papishares.app.build import build  # noqa: E402
from papishares.config import load_settings  # noqa: E402
from papishares.core.models import Bars  # noqa: E402
from papishares.entries import scan_entries  # noqa: E402
from papishares.entries.scanner import scan  # noqa: E402
from papishares.entries.sizing import size_frame  # noqa: E402

SYMBOLS, BARS, REPEAT = 500, 300, 5


def best(fn, repeat: int = REPEAT) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def synthetic(n: int, length: int, seed: int = 7) -> Bars:
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2024-01-01", periods=length, name="Date")
    close = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.018, (length, n)), axis=0))
    wick = np.abs(rng.normal(0, 0.008, (2, length, n)))
    cols = [f"S{i:03d}" for i in range(n)]

    def frame(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=idx, columns=cols)

    return Bars(frame(close), frame(close * (1 + wick[0])), frame(close * (1 - wick[1])), frame(close),
                frame(np.full((length, n), 1e6)), source="bench")


def vectorised(bars: Bars, fx: pd.Series) -> pd.DataFrame:
    table = scan(bars)
    return table.join(size_frame(table, fx, 15_000.0, 0.7, 3.0, 7.0))


def per_symbol(bars: Bars, fx: pd.Series) -> list[pd.DataFrame]:
    out = []
    for s in bars.symbols:
        one = Bars(*(f[[s]] for f in (bars.open, bars.high, bars.low, bars.close, bars.volume)), source="bench")
        out.append(vectorised(one, fx[[s]]))
    return out


def pipeline() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({"DB_PATH": f"{tmp}/bench.db", "PAPISHARES_ENTRIES_INDICES": "S&P 500"},
                                 dotenv_path=None)
        service = build(settings).service
        snapshot = service.snapshot()
        calls: list[int] = []
        real = service.market.daily_bars

        def counting(requests, *args, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(len(requests))
            return real(requests, *args, **kwargs)

        service.market.daily_bars = counting
        t = time.perf_counter()
        result = scan_entries(settings, service=service, snapshot=snapshot)
        cold = time.perf_counter() - t
        first_calls = list(calls)
        t = time.perf_counter()
        scan_entries(settings, service=service, snapshot=snapshot)
        warm = time.perf_counter() - t
        breakouts = int(result.table["system"].notna().sum())
        print(f"pipeline (demo data, S&P 500 preset): {len(result.table)} symbols scanned, "
              f"{breakouts} breakouts, {len(result.candidates)} candidates")
        print(f"  market-data calls in one scan: {len(first_calls)} (symbols per call: {first_calls})")
        print(f"  scan time: {cold:.2f} s first (bars generated and cached), {warm:.2f} s from the SQLite cache")


def main() -> None:
    bars = synthetic(SYMBOLS, BARS)
    fx = pd.Series(0.79, index=bars.symbols)
    vectorised(bars, fx)  # warm-up (imports, caches)
    fast = best(lambda: vectorised(bars, fx))
    slow = best(lambda: per_symbol(bars, fx), repeat=2)
    check = pd.concat(per_symbol(bars, fx))
    same = vectorised(bars, fx)["system"].fillna(0).astype(int).equals(check["system"].fillna(0).astype(int))
    print(f"computation, {SYMBOLS} symbols x {BARS} bars in memory (best of runs):")
    print(f"  vectorised scan + sizing: {fast * 1000:.0f} ms  (target < 1000 ms: {'OK' if fast < 1 else 'SLOW'})")
    print(f"  per-symbol loop:          {slow * 1000:.0f} ms")
    print(f"  ratio loop / vectorised:  {slow / fast:.1f}x  (same signals: {same})")
    pipeline()


if __name__ == "__main__":
    main()
