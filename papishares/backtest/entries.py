"""`backtest entries`: the Turtle scanner's own breakout rule, bar by bar, exited by a stop mode.

A breakout is exactly what the Entries page would have listed on that day: `scanner.signals` runs
over every (symbol, completed bar) at once, each bar seeing only the bars up to it. A symbol that
is flat buys at the next bar's open; the initial stop is 2N below that price (N = ATR(20) on the
signal bar), the share count the project's one sizing rule (`entries.sizing.size_one`,
`RISK_PERCENTAGE` of the equity at the signal bar's close), and the exit the chosen stop mode's.
A breakout skipped for lack of cash is not replaced by a later one during that trade's life.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from papishares.backtest import engine
from papishares.backtest.engine import Candidate
from papishares.core import indicators, stop_modes
from papishares.core.models import Bars
from papishares.entries import scanner, sizing


def _previous(frame: pd.DataFrame) -> pd.DataFrame:
    """Each value's predecessor on its own symbol's bars (a wide frame has holes across symbols)."""
    out = pd.DataFrame(np.nan, index=frame.index, columns=frame.columns)
    for col in frame.columns:
        s = frame[col].dropna()
        out.loc[s.index, col] = s.shift(1)
    return out


def breakouts(high: pd.DataFrame, close: pd.DataFrame, atr: pd.DataFrame) -> pd.DataFrame:
    """Long frame (symbol, date) of the scanner's columns on every completed bar of every symbol."""
    dh20, dh55 = indicators.donchian_high(high, 20), indicators.donchian_high(high, 55)
    wide = {"close": close, "prev_close": _previous(close), "donchian_high_20": dh20, "donchian_high_55": dh55,
            "prev_donchian_high_20": _previous(dh20), "prev_donchian_high_55": _previous(dh55), "atr_20": atr}
    long = pd.DataFrame({k: v.stack() for k, v in wide.items()})  # stack drops the holes
    long.index = long.index.set_names(["date", "symbol"])
    long = long[long["close"].notna()]
    long["change_3m_pct"] = np.nan  # ranks candidates on the page; no part of the rule
    long["last_date"] = None
    long["bars"] = 0
    return scanner.signals(long).join(long[[]])


def candidates(bars: Bars, mode: str, start: pd.Timestamp | None = None) -> tuple[list[Candidate], dict[str, int]]:
    """Every symbol's trades under the rule (the account's money left aside), and signals per symbol.

    `bars` are completed bars ending at the period's end; a trade still open on its last bar
    exits there at the close (reason `open`). Entries before `start` are not taken.
    """
    close = bars.close
    if close.empty:
        return [], {}
    wide = stop_modes.prepare_wide(bars.open, bars.high, bars.low, close)
    sig = breakouts(wide["High"], close, wide["atr"])
    hits = sig[sig["system"].notna()]
    out: list[Candidate] = []
    counts: dict[str, int] = {}
    for symbol, rows in hits.groupby(level="symbol", sort=False):
        prepared = stop_modes.one_symbol(wide, str(symbol))
        cols = stop_modes.arrays(prepared)
        index = pd.DatetimeIndex(prepared.index)
        positions = index.get_indexer(rows.index.get_level_values("date"))
        counts[str(symbol)] = len(positions)
        free_from = 0  # the first bar whose signal may open a new trade
        for pos, system, atr in zip(positions, rows["system"], rows["atr"], strict=True):
            entry_at = pos + 1
            if pos < free_from or entry_at >= len(index) or not np.isfinite(atr) or atr <= 0:
                continue
            if start is not None and index[entry_at] < start:
                continue
            trade = {k: v[entry_at:] for k, v in cols.items()}
            entry = float(trade["Open"][0])
            risk = sizing.STOP_ATR_MULTIPLE * float(atr)
            replay = stop_modes.replay_arrays(mode, trade, index[entry_at:], entry, risk, full_line=False)
            out.append(Candidate(str(symbol), index[pos], index[entry_at], entry, risk, replay.exit.date,
                                 replay.exit.price, replay.exit.reason, int(system)))
            free_from = entry_at + replay.exit.bar  # a signal on the exit bar buys the next open
    return out, counts


def run(bars: Bars, mode: str, *, capital: float, risk_pct: float, fx: Mapping[str, float],
        currencies: Mapping[str, str], account_currency: str, start: date | None = None,
        fractional: bool = False) -> dict[str, Any]:
    """The backtest over completed `bars` (already cut at the period's end): summary, trades, equity."""
    from papishares.entries.fx import main_unit

    mode = stop_modes.check_mode(mode)
    begin = pd.Timestamp(start) if start else None
    found, _ = candidates(bars, mode, begin)
    closes = bars.close if begin is None else bars.close[bars.close.index >= begin]
    market = engine.Market(
        fx={s: f for s, f in fx.items()},
        foreign={s: main_unit(c)[0] != account_currency.upper() for s, c in currencies.items()},
        uk={s: s.upper().endswith(".L") for s in currencies},
    )

    def size(entry: float, risk: float, rate: float, equity: float) -> float:
        return sizing.size_one(entry, risk / sizing.STOP_ATR_MULTIPLE, rate, equity, risk_pct, fractional).shares or 0.0

    result = engine.simulate(found, closes, market, capital, size)
    summary = engine.statistics(result, pd.DatetimeIndex(closes.index), capital)
    return {"summary": summary, "result": result}
