"""Our portfolio loop against backtesting.py's own engine on its shipped GOOG daily bars.

backtesting.py fills the same plan by itself (entries at the next open, our stop line handed to it
as each trade's `sl` one bar ahead, its own gap rule, the last trade closed at the last close), and
computes its own statistics; ours must agree with them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

backtesting = pytest.importorskip("backtesting")
from backtesting import Backtest, Strategy  # noqa: E402
from backtesting.test import GOOG  # noqa: E402

from papishares.backtest import entries  # noqa: E402
from papishares.core import stop_modes  # noqa: E402
from papishares.core.models import Bars  # noqa: E402

CAPITAL = 10_000.0
STOP_ONLY = ("risk", "chandelier", "turtle")  # backtesting.py closes signals at the next open; breakeven holds
# one trade from 2004 to the end of the sample (nothing to compare)


def ours(mode: str, data: pd.DataFrame) -> dict:
    bars = Bars.from_frames({"GOOG": data}, source="test")
    return entries.run(bars, mode, capital=CAPITAL, risk_pct=1.0, fx={"GOOG": 1.0}, currencies={"GOOG": "USD"},
                       account_currency="USD")


def library(mode: str, trades: pd.DataFrame, data: pd.DataFrame) -> pd.Series:
    prepared = stop_modes.prepare(data)
    index = pd.DatetimeIndex(prepared.index)
    plan = {}
    for t in trades.itertuples(index=False):
        start = index.get_loc(t.entry_date)
        line = stop_modes.replay(mode, prepared.iloc[start:], t.entry_price, t.entry_price - t.initial_stop).stops
        plan[t.signal_date] = (int(t.shares), start, line)

    class Follow(Strategy):
        def init(self) -> None:
            self.current = None

        def next(self) -> None:
            i = len(self.data) - 1
            if self.trades and self.current is not None:
                _, start, line = self.current
                k = i + 1 - start  # the stop for the next bar, made of the bars up to this one
                if k < len(line) and np.isfinite(line[k]):
                    self.trades[0].sl = float(line[k])
            if self.data.index[i] in plan:
                self.current = plan[self.data.index[i]]
                self.buy(size=self.current[0])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(data, Follow, cash=CAPITAL, commission=0.0, finalize_trades=True)
        return bt.run()


@pytest.mark.parametrize("mode", STOP_ONLY)
def test_fills_equity_and_statistics_agree_with_backtesting_py(mode: str) -> None:
    # backtesting.py closes a trade still open at the end at the last OPEN, the contract at the last
    # close: the data end before the last trade's signal, when every trade is closed
    last_signal = ours(mode, GOOG)["result"].trades["signal_date"].iloc[-1]
    data = GOOG[GOOG.index < last_signal]
    mine = ours(mode, data)
    trades, summary = mine["result"].trades, mine["summary"]
    assert "open" not in set(trades["reason"])
    stats = library(mode, trades, data)
    theirs = stats["_trades"]
    assert summary["trades"] == stats["# Trades"] == len(theirs) > 0
    assert list(pd.DatetimeIndex(theirs["EntryTime"])) == list(trades["entry_date"])
    assert list(pd.DatetimeIndex(theirs["ExitTime"])) == list(trades["exit_date"])
    assert np.allclose(theirs["EntryPrice"], trades["entry_price"])
    assert np.allclose(theirs["ExitPrice"], trades["exit_price"])  # its gap rule is ours
    assert np.allclose(theirs["PnL"], trades["pnl"])
    assert np.allclose(stats["_equity_curve"]["Equity"].to_numpy(), mine["result"].equity.to_numpy())
    assert summary["return_pct"] == pytest.approx(stats["Return [%]"])
    assert summary["max_drawdown_pct"] == pytest.approx(stats["Max. Drawdown [%]"])
    assert summary["exposure_pct"] == pytest.approx(stats["Exposure Time [%]"])
    assert summary["win_rate"] * 100 == pytest.approx(stats["Win Rate [%]"])
