"""The composition root: settings -> store -> broker -> market data -> service, built once per front end.

The CLI, the worker (and through it Telegram) and the dashboard each call `build(settings)` and
use what it holds. This is the one module that chooses the built-in demo or Trading 212 and the
market-data source: no domain module imports `papishares.demo`.
"""

from __future__ import annotations

from dataclasses import dataclass

from papishares.broker import Broker
from papishares.config import Settings, load_settings
from papishares.demo.broker import DemoBroker
from papishares.market import MarketData
from papishares.snapshot.service import Service
from papishares.store.db import Store


@dataclass(frozen=True)
class App:
    """Everything a front end needs, built from one configuration."""

    settings: Settings
    store: Store
    broker: Broker
    market: MarketData
    service: Service


def demo_broker(settings: Settings, store: Store) -> DemoBroker:
    """The built-in simulated account on this store."""
    return DemoBroker(store, seed=settings.demo_seed, always_open=settings.demo_always_open)


def make_broker(settings: Settings, store: Store) -> Broker:
    """The broker the settings ask for: the demo broker without keys, Trading 212 with them."""
    if settings.broker == "demo":
        return demo_broker(settings, store)
    from papishares.broker.trading212 import Trading212Client  # httpx and the rate budget: only when used

    return Trading212Client(settings, store)


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


def open_store(settings: Settings) -> Store:
    """The store of the configured account (the file's only one, until several accounts exist)."""
    return Store(settings.db_path, settings.account_name, sole=True)


def build(settings: Settings | None = None, store: Store | None = None) -> App:
    """Everything for one front end; the settings from the environment when none are given."""
    settings = settings or load_settings()
    store = store or open_store(settings)
    broker = make_broker(settings, store)
    market = make_market_data(settings, store)
    return App(settings, store, broker, market, Service(settings, store, broker, market))
