"""Market data behind one interface: Yahoo (batched), CSV directory, demo history, none."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from papishares.config import Settings
from papishares.core.models import Bars, SymbolRequest
from papishares.store.db import Store

MIN_BARS = 260  # MACD over 250+ bars converges; Donchian 55 and ATR 20 need far fewer


@runtime_checkable
class MarketData(Protocol):
    """Daily bars for many symbols in ONE call, scaled to each request's quote currency.

    Implementations never raise for a single bad symbol: it is left out of the frames and
    `Bars.status[symbol]` says why. A failure of the whole source raises `MarketDataError`,
    which the caching layer turns into the last good bars with their age.
    """

    name: str

    def daily_bars(self, requests: Sequence[SymbolRequest], min_bars: int = MIN_BARS) -> Bars: ...


def make_market_data(settings: Settings, store: Store) -> MarketData:
    """The configured source, wrapped in the SQLite bar cache (except `none`)."""
    from papishares.market.cache import CachedMarketData
    from papishares.market.none import NoMarketData

    if settings.market_data == "none":
        return NoMarketData()
    if settings.market_data == "yahoo":
        from papishares.market.yahoo import YahooMarketData

        source: MarketData = YahooMarketData()
    elif settings.market_data == "csv":
        from papishares.market.csv import CsvMarketData

        assert settings.market_csv_dir is not None
        source = CsvMarketData(settings.market_csv_dir)
    else:
        from papishares.demo.market import DemoMarketData

        source = DemoMarketData(seed=settings.demo_seed, always_open=settings.demo_always_open)
    return CachedMarketData(source, store)
