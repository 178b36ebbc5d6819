"""Synthetic daily history consistent with the demo broker.

Each bar samples `simulation.prices` across the instrument's session: open at the open, close at
the close (or now, for a session in progress), high/low over the session. So the last bar's close
is the price the demo broker quotes now, in the quote currency and scale (pence for GBX).
Symbols outside the demo universe get a deterministic random walk from a hashed seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd

from papishares.core.models import Bars, SymbolRequest
from papishares.demo import simulation as sim

INTRADAY_SAMPLES = 13
WALK_EPOCH = date(2020, 1, 1)  # random walks start here so past bars never change
WALK_VOL = 0.016


class DemoMarketData:
    name = "demo"

    def __init__(self, seed: int = 212, always_open: bool = False, clock: Callable[[], float] = time.time) -> None:
        self.seed = seed
        self.always_open = always_open
        self.clock = clock

    def daily_bars(self, requests: Sequence[SymbolRequest], min_bars: int = 260) -> Bars:
        now = self.clock()
        frames: dict[str, pd.DataFrame] = {}
        for req in requests:
            ticker = req.ticker if req.ticker in sim.UNIVERSE else sim.TICKER_BY_SYMBOL.get(req.symbol)
            if ticker:
                frames[req.symbol] = self._simulated(ticker, now, min_bars)
            else:
                frames[req.symbol] = self._random_walk(req, now, min_bars)
        fetched = datetime.fromtimestamp(now, UTC)
        return Bars.from_frames(frames, source=self.name, fetched_at=dict.fromkeys(frames, fetched))

    def _simulated(self, ticker: str, now: float, min_bars: int) -> pd.DataFrame:
        market = sim.market_of(ticker)
        today = datetime.fromtimestamp(now, UTC).date()
        count = max(min_bars, 1)
        index, opens, closes = [], [], []
        for day in sim.trading_days(market, today, count + 1):
            opened, closed = market.session(day)  # type: ignore[misc]
            if opened.timestamp() <= now:  # today's bar exists once its session has opened
                index.append(day)
                opens.append(opened.timestamp())
                closes.append(min(closed.timestamp(), now))
        if self.always_open and (not index or index[-1] != today):
            # Prices move around the clock: a bar for today runs from midnight to now.
            index.append(today)
            opens.append(datetime(today.year, today.month, today.day, tzinfo=UTC).timestamp())
            closes.append(now)
        elif self.always_open:
            closes[-1] = now
        index, opens_a, closes_a = index[-count:], np.array(opens[-count:]), np.array(closes[-count:])
        frac = np.linspace(0.0, 1.0, INTRADAY_SAMPLES)
        grid = opens_a[:, None] + (closes_a - opens_a)[:, None] * frac[None, :]
        path = sim.prices(ticker, grid.ravel(), self.seed).reshape(grid.shape)
        volume = 1e6 * (1.5 + sim.uniform(sim._key(self.seed, "vol:" + ticker), np.arange(len(index))))
        return pd.DataFrame(
            {"Open": path[:, 0], "High": path.max(axis=1), "Low": path.min(axis=1), "Close": path[:, -1],
             "Volume": np.round(volume)},
            index=pd.DatetimeIndex(pd.to_datetime(index), name="Date"),
        )

    def _random_walk(self, req: SymbolRequest, now: float, min_bars: int) -> pd.DataFrame:
        today = datetime.fromtimestamp(now, UTC).date()
        days = pd.bdate_range(WALK_EPOCH, today)
        if len(days) < min_bars:
            days = pd.bdate_range(end=today, periods=min_bars)
        key = sim._key(self.seed, "walk:" + req.symbol)
        counters = (days - pd.Timestamp(WALK_EPOCH)).days.to_numpy()
        start = 20.0 + (sim.uniform(key, np.array([-1]))[0] + 1.0) * 140.0
        if req.quote_currency.upper() == "GBX":
            start *= 100.0  # pence
        close = start * np.exp(np.cumsum(WALK_VOL * sim.normal(key, counters) + 0.0001))
        gap = 1.0 + 0.004 * sim.uniform(key ^ 1, counters)
        wide_hi = 1.0 + np.abs(0.008 * sim.normal(key ^ 2, counters))
        wide_lo = 1.0 - np.abs(0.008 * sim.normal(key ^ 3, counters))
        open_ = np.round(close * gap, 4)
        close = np.round(close, 4)
        frame = pd.DataFrame(
            {"Open": open_, "High": np.maximum(open_, close) * wide_hi, "Low": np.minimum(open_, close) * wide_lo,
             "Close": close, "Volume": np.round(5e5 * (1.5 + sim.uniform(key ^ 4, counters)))},
            index=pd.DatetimeIndex(days, name="Date"),
        )
        return frame.iloc[-max(min_bars, 1):]
