"""A small portfolio simulation over pandas (pure): one account's cash shared by many symbols.

Why not backtesting.py at run time: it is AGPL-3.0 (the dashboard is served over a network, so
the whole product would fall under its terms) and it simulates ONE instrument per run, while an
entries backtest shares one account's cash and risk budget across hundreds of symbols. It stays a
test dependency: tests/backtest cross-check this engine's fills and statistics against its own on
its GOOG sample. vectorbt was the other candidate: a numba stack far heavier than this loop, under
a licence with the Commons Clause.

The input is each symbol's candidate trades (entry bar, exit bar and prices from the stop modes);
the loop decides, in date order, which of them the account can pay for, sizes them by the risk
rule on the equity at the signal bar's close, charges Trading 212's costs, and marks the holdings
to market every day.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

FX_FEE = 0.0015  # Trading 212's currency conversion fee, on each side of a foreign-currency trade
STAMP_DUTY = 0.005  # UK stamp duty (SDRT) on buys of UK shares


@dataclass(frozen=True)
class Candidate:
    """A trade the rules would take, before money: prices in the symbol's quote currency."""

    symbol: str
    signal_date: pd.Timestamp  # the completed bar whose signal decided the entry
    entry_date: pd.Timestamp
    entry_price: float
    risk_per_share: float  # D: entry - initial stop
    exit_date: pd.Timestamp
    exit_price: float
    reason: str
    system: int | None = None


@dataclass(frozen=True)
class Costs:
    fx_fee: float = FX_FEE
    stamp_duty: float = STAMP_DUTY


@dataclass(frozen=True)
class Market:
    """What the loop needs about each symbol: account currency per quoted unit, and the two cost flags."""

    fx: Mapping[str, float]
    foreign: Mapping[str, bool]
    uk: Mapping[str, bool]


@dataclass
class Result:
    trades: pd.DataFrame
    equity: pd.Series
    skipped: int = 0  # candidates the cash could not pay for
    notes: list[str] = field(default_factory=list)


TRADE_COLUMNS = ["symbol", "system", "signal_date", "entry_date", "entry_price", "initial_stop", "shares",
                 "exit_date", "exit_price", "reason", "costs", "pnl", "r_multiple"]


def simulate(candidates: Sequence[Candidate], closes: pd.DataFrame, market: Market, capital: float,
             size: Callable[[float, float, float, float], float], costs: Costs = Costs()) -> Result:
    """Take the candidates the account can pay for, oldest entry first.

    `closes`: the completed closes (dates x symbols, quote currency) over the period; its index is
    the equity curve's. `size(entry, risk_per_share, fx, equity)` is the share count (the risk rule).
    A symbol holds one trade at a time (the candidates of a symbol never overlap).
    """
    dates = pd.DatetimeIndex(closes.index)
    column = {s: i for i, s in enumerate(closes.columns)}
    marks = closes.ffill().to_numpy(dtype=float, na_value=np.nan)
    cash = float(capital)
    open_: list[tuple[pd.Timestamp, int, dict[str, object]]] = []  # heap by exit date
    taken: list[dict[str, object]] = []
    skipped = 0

    def settle(before: pd.Timestamp | None) -> None:
        nonlocal cash
        while open_ and (before is None or open_[0][0] < before):
            _, _, t = heapq.heappop(open_)
            cash += float(t["proceeds_"])  # type: ignore[arg-type]

    ordered = sorted(candidates, key=lambda c: (c.entry_date, c.symbol))
    for seq, c in enumerate(ordered):
        settle(c.entry_date)  # sold before this entry's open: the cash is back
        fx = market.fx.get(c.symbol)
        if fx is None or not math.isfinite(fx) or fx <= 0:
            continue
        row = int(dates.searchsorted(c.signal_date, side="right")) - 1
        held = sum(float(t["shares"]) * _mark(marks, row, column[str(t["symbol"])], float(t["entry_price"]))  # type: ignore[arg-type,misc]
                   * market.fx[str(t["symbol"])] for _, _, t in open_)
        equity = cash + held
        rate_in = (costs.fx_fee if market.foreign.get(c.symbol) else 0.0) + (costs.stamp_duty if market.uk.get(c.symbol) else 0.0)
        shares = size(c.entry_price, c.risk_per_share, fx, equity)
        per_share = c.entry_price * fx * (1 + rate_in)
        if shares * per_share > cash:
            shares = math.floor(cash / per_share)  # what the cash pays for, whole shares
        if shares <= 0:
            skipped += 1
            continue
        gross_in = shares * c.entry_price * fx
        cost_in = gross_in * rate_in
        gross_out = shares * c.exit_price * fx
        cost_out = gross_out * (costs.fx_fee if market.foreign.get(c.symbol) else 0.0)
        cash -= gross_in + cost_in
        pnl = gross_out - cost_out - gross_in - cost_in
        trade: dict[str, object] = {
            "symbol": c.symbol, "system": c.system, "signal_date": c.signal_date, "entry_date": c.entry_date,
            "entry_price": c.entry_price, "initial_stop": c.entry_price - c.risk_per_share, "shares": shares,
            "exit_date": c.exit_date, "exit_price": c.exit_price, "reason": c.reason,
            "costs": cost_in + cost_out, "pnl": pnl, "r_multiple": pnl / (shares * c.risk_per_share * fx),
            "proceeds_": gross_out - cost_out, "cost_": gross_in + cost_in,
        }
        taken.append(trade)
        heapq.heappush(open_, (c.exit_date, seq, trade))
    settle(None)

    frame = pd.DataFrame(taken, columns=[*TRADE_COLUMNS, "proceeds_", "cost_"])
    equity = _equity(frame, dates, column, marks, market, capital)
    return Result(frame[TRADE_COLUMNS], equity, skipped)


def _mark(marks: np.ndarray, row: int, col: int, fallback: float) -> float:
    value = marks[row, col] if row >= 0 else np.nan
    return fallback if not math.isfinite(value) else float(value)


def _equity(trades: pd.DataFrame, dates: pd.DatetimeIndex, column: Mapping[str, int], marks: np.ndarray,
            market: Market, capital: float) -> pd.Series:
    """Cash plus the holdings at each close: a trade is held from its entry date up to the day
    before its exit (it is sold on the exit date: from then on its proceeds are cash)."""
    n, m = len(dates), marks.shape[1]
    flows = np.zeros(n)
    held = np.zeros((n + 1, m))
    for t in trades.itertuples(index=False):
        a = int(dates.searchsorted(t.entry_date))
        b = int(dates.searchsorted(t.exit_date))
        j = column[t.symbol]
        flows[a] -= t.cost_
        if b < n:
            flows[b] += t.proceeds_
        held[a, j] += t.shares
        held[min(b, n), j] -= t.shares
    holdings = np.cumsum(held[:-1], axis=0)
    fx = np.array([market.fx.get(str(s), np.nan) for s in column], dtype=float)
    value = np.nansum(holdings * np.nan_to_num(marks) * np.nan_to_num(fx)[None, :], axis=1)
    return pd.Series(capital + np.cumsum(flows) + value, index=dates, name="equity")


def statistics(result: Result, closes_index: pd.DatetimeIndex, capital: float) -> dict[str, float | int | None]:
    """trades, win_rate (0..1), expectancy_r, return_pct (on the capital), max_drawdown_pct (<= 0,
    the deepest fall from a peak of the equity, the capital being the first peak), exposure_pct
    (the share of bars with at least one position held, entry and exit bars included)."""
    t, eq = result.trades, result.equity
    n = len(t)
    dates = pd.DatetimeIndex(closes_index)
    exposed = np.zeros(len(dates) + 1)
    for row in t.itertuples(index=False):
        exposed[int(dates.searchsorted(row.entry_date))] += 1
        exposed[int(dates.searchsorted(row.exit_date)) + 1] -= 1
    busy = np.cumsum(exposed[:-1]) > 0
    values = np.concatenate([[capital], eq.to_numpy(dtype=float)])
    peak = np.maximum.accumulate(values)
    drawdown = (1 - values / peak).max()
    return {
        "trades": n,
        "win_rate": float((t["pnl"] > 0).mean()) if n else None,
        "expectancy_r": float(t["r_multiple"].mean()) if n else None,
        "return_pct": float((values[-1] - capital) / capital * 100),
        "max_drawdown_pct": float(-drawdown * 100) + 0.0,  # + 0.0: no "-0.0" without a drawdown
        "exposure_pct": float(busy.mean() * 100) if busy.size else 0.0,
    }
