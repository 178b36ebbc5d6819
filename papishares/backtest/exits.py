"""`backtest exits`: each closed trade replayed under every stop mode, and each mode's record.

Trades come from the history (the closed round trips, their initial stop as Papishares recorded it
when the position was first seen) or from a CSV (`symbol,entry_date,entry_price,initial_stop[,quantity]`).
The replay is `core.stop_modes`, the code the live stop uses.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from papishares.core import stop_modes
from papishares.core.errors import PapisharesError


@dataclass(frozen=True)
class TradeSpec:
    symbol: str
    entry_date: pd.Timestamp
    entry_price: float
    initial_stop: float
    quantity: float | None = None
    currency: str | None = None  # the quote currency (GBX stays pence)
    ticker: str | None = None  # Trading 212's, for trades from the history
    actual: dict[str, Any] | None = None  # what really happened (history trades)


def read_trades_csv(path: str | Path) -> list[TradeSpec]:
    """The CSV's rows; a row that cannot be read stops with a sentence naming its line."""
    out = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as err:
        raise PapisharesError(f"cannot read trades file {path}: {err.strerror or err}") from None
    for line, row in enumerate(rows, start=2):
        try:
            qty = (row.get("quantity") or "").strip()
            out.append(TradeSpec(row["symbol"].strip().upper(), pd.Timestamp(row["entry_date"].strip()),
                                 float(row["entry_price"]), float(row["initial_stop"]),
                                 float(qty) if qty else None))
        except (KeyError, ValueError, AttributeError, TypeError):
            raise PapisharesError(f"{path} line {line}: needs symbol, entry_date (YYYY-MM-DD), entry_price and "
                                  "initial_stop") from None
    return out


def replay_trades(specs: Sequence[TradeSpec], prepared: Mapping[str, pd.DataFrame],
                  modes: Sequence[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(trades JSON, skipped): every trade under every mode; a trade without bars or with a stop not
    below its entry is reported in `skipped` with the reason, never dropped silently."""
    trades, skipped = [], []
    for spec in specs:
        why = _unusable(spec, prepared)
        if why:
            skipped.append({"symbol": spec.symbol, "entry_date": spec.entry_date.strftime("%Y-%m-%d"), "reason": why})
            continue
        frame = prepared[spec.symbol]
        start = stop_modes.entry_bar(pd.DatetimeIndex(frame.index), spec.entry_date)
        bars = frame.iloc[start:]  # type: ignore[misc]
        risk = spec.entry_price - spec.initial_stop
        cols, dates = stop_modes.arrays(bars), pd.DatetimeIndex(bars.index)
        exits = {m: stop_modes.replay_arrays(m, cols, dates, spec.entry_price, risk, full_line=False).exit.to_json()
                 for m in modes}
        item: dict[str, Any] = {"symbol": spec.symbol, "entry_date": spec.entry_date.strftime("%Y-%m-%d"),
                                "entry_price": spec.entry_price, "initial_stop": spec.initial_stop,
                                "quantity": spec.quantity, "exits": exits}
        if spec.ticker:
            item["ticker"] = spec.ticker
        if spec.actual is not None:
            item["actual"] = spec.actual
        trades.append(item)
    return trades, skipped


def _unusable(spec: TradeSpec, prepared: Mapping[str, pd.DataFrame]) -> str | None:
    if not (math.isfinite(spec.entry_price) and math.isfinite(spec.initial_stop)) or spec.initial_stop >= spec.entry_price:
        return "the initial stop is not below the entry price"
    frame = prepared.get(spec.symbol)
    if frame is None or frame.empty:
        return "no bars for this symbol"
    if stop_modes.entry_bar(pd.DatetimeIndex(frame.index), spec.entry_date) is None:
        return "no bar on or after the entry date"
    return None


def mode_summary(trades: Sequence[dict[str, Any]], modes: Sequence[str]) -> list[dict[str, Any]]:
    """Per mode: count, win_rate (0..1), expectancy_r, average_hold_days (calendar), worst_r."""
    out = []
    for mode in modes:
        rs = np.array([t["exits"][mode]["r_multiple"] for t in trades], dtype=float)
        days = np.array([(pd.Timestamp(t["exits"][mode]["exit_date"]) - pd.Timestamp(t["entry_date"])).days
                         for t in trades], dtype=float)
        n = len(rs)
        out.append({"mode": mode, "count": n,
                    "win_rate": round(float((rs > 0).mean()), 4) if n else None,
                    "expectancy_r": round(float(rs.mean()), 4) if n else None,
                    "average_hold_days": round(float(days.mean()), 2) if n else None,
                    "worst_r": round(float(rs.min()), 4) if n else None})
    return out


def actual_summary(trades: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """What really happened to the replayed history trades, in the same terms (None for a CSV)."""
    real = [t["actual"] for t in trades if t.get("actual")]
    if not real:
        return None
    rs = np.array([a["r_multiple"] for a in real if a.get("r_multiple") is not None], dtype=float)
    days = np.array([a["holding_days"] for a in real], dtype=float)
    return {"mode": "actual", "count": len(real),
            "win_rate": round(float(np.mean([(a.get("realised_pnl") or 0) > 0 for a in real])), 4),
            "expectancy_r": round(float(rs.mean()), 4) if rs.size else None,
            "average_hold_days": round(float(days.mean()), 2),
            "worst_r": round(float(rs.min()), 4) if rs.size else None}
