"""The composition root: settings -> store -> broker -> market data -> service, built once per front end.

The CLI, the worker (and through it Telegram) and the dashboard each call `build(settings)` and
use what it holds. This is the one module that chooses the built-in demo or Trading 212 and the
market-data source: no domain module imports `papishares.demo`.
"""

from __future__ import annotations

from dataclasses import dataclass

from papishares.broker import Broker
from papishares.config import Settings, load_accounts
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
    book = settings.accounts.index(settings.account) if settings.several else None
    return DemoBroker(store, seed=settings.demo_seed, always_open=settings.demo_always_open, book=book)


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
    """The store of the configured account: the file's only one unless several are configured; then
    the rows of the single-account set-up before them become the first account's (once)."""
    first = settings.accounts[0] if settings.several else None
    if first is not None and first != settings.account_name:
        Store(settings.db_path, first).close()  # a file older than accounts is upgraded as the first's
    store = Store(settings.db_path, settings.account_name, sole=first is None)
    if first is not None:
        store.adopt_single_account(into=first)
    return store


def build(settings: Settings | None = None, store: Store | None = None) -> App:
    """Everything for one front end; the settings from the environment when none are given (the first
    account's when several are configured)."""
    settings = settings or load_accounts()[0]
    store = store or open_store(settings)
    broker = make_broker(settings, store)
    market = make_market_data(settings, store)
    return App(settings, store, broker, market, Service(settings, store, broker, market))


class UnknownAccount(LookupError):
    """A name that is not one of the configured accounts. `str()` names them, fit to print."""

    def __init__(self, name: str, names: tuple[str, ...]) -> None:
        self.name = name
        self.names = names
        super().__init__(f"no account named {name!r}: the accounts are {', '.join(names)}")


def build_all(accounts: tuple[Settings, ...] | None = None) -> tuple[App, ...]:
    """One App per configured account on the one database, in the configured order.

    With several accounts the first one's store takes over the rows of the single-account set-up
    that came before (a rename: nothing is lost); with one it is `build` as before.
    """
    accounts = accounts or load_accounts()
    return tuple(build(settings) for settings in accounts)


def app_for(apps: tuple[App, ...], name: str) -> App:
    """The App of account `name`; `UnknownAccount` (naming the accounts) when there is none."""
    for app in apps:
        if app.settings.account_name == name:
            return app
    raise UnknownAccount(name, tuple(a.settings.account_name for a in apps))
