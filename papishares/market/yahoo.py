"""Daily bars from Yahoo Finance: one batched yfinance download per call, scaled to T212 units.

The network is two thin functions (`fetch_history`: ONE `yf.download` for all symbols;
`fetch_currency`: the currency Yahoo reports for one symbol). Everything else is pure
(`bars_from_download`) and tested offline on yfinance-shaped frames. Yahoo's currency is looked up
once per symbol and kept for days (memory, plus `bars_meta.source_currency` in SQLite when a store
is attached), never guessed from the suffix: `.L` lines quote in GBp, GBP or USD.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd

from papishares.core.errors import MarketDataError
from papishares.core.models import Bars, SymbolRequest
from papishares.market.symbols import scale_factor
from papishares.store import bars as bar_store
from papishares.store.keys import KeyFamily

if TYPE_CHECKING:
    from papishares.store.db import Store

log = logging.getLogger(__name__)
OHLCV = ("Open", "High", "Low", "Close", "Volume")
CURRENCY_MAX_AGE = 7 * 86400.0  # a listing's quote currency practically never changes
CURRENCY_RETRY_S = 3600.0  # after a failed currency lookup
CURRENCY_WORKERS = 8


def _period(min_bars: int) -> str:
    return "2y" if min_bars <= 480 else "5y" if min_bars <= 1200 else "max"


def fetch_history(symbols: Sequence[str], min_bars: int = 260) -> pd.DataFrame:
    """The one network call for bars: a batched download, grouped by ticker."""
    import yfinance as yf

    # repair=True: yfinance's own fix of 100x pence/pounds mix-ups inside a series (needs scipy);
    # the bar cache checks every bar again (`market.bar_units`), whatever the source.
    return yf.download(list(symbols), period=_period(min_bars), interval="1d", auto_adjust=False,
                       group_by="ticker", threads=True, progress=False, repair=True)


def fetch_currency(symbol: str) -> str | None:
    """The currency Yahoo reports for a symbol's price series (one small chart request)."""
    import yfinance as yf

    meta = yf.Ticker(symbol).get_history_metadata()
    currency = meta.get("currency") if meta else None
    return str(currency) if currency else None


# -- pure processing ----------------------------------------------------------------------------
def split_download(frame: pd.DataFrame | None, symbols: Iterable[str]) -> dict[str, pd.DataFrame]:
    """Per-symbol OHLCV frames from a yf.download result (ticker-first or column-first MultiIndex)."""
    out: dict[str, pd.DataFrame] = {}
    if frame is None or frame.empty:
        return out
    wanted = list(symbols)
    if isinstance(frame.columns, pd.MultiIndex):
        level0 = {str(v) for v in frame.columns.get_level_values(0)}
        ticker_level = 0 if not level0 <= set(OHLCV) | {"Adj Close"} else 1
        by_upper = {str(v).upper(): v for v in frame.columns.get_level_values(ticker_level)}
        for symbol in wanted:
            key = by_upper.get(symbol.upper())
            if key is not None:
                out[symbol] = frame.xs(key, axis=1, level=ticker_level)
    elif len(wanted) == 1:
        out[wanted[0]] = frame
    cleaned = {}
    for symbol, part in out.items():
        part = part[[c for c in OHLCV if c in part.columns]].apply(pd.to_numeric, errors="coerce")
        if "Close" not in part.columns:
            continue
        index = pd.DatetimeIndex(part.index)
        if index.tz is not None:
            index = index.tz_localize(None)
        part.index = pd.DatetimeIndex(index.normalize(), name="Date")
        part = part.dropna(subset=["Close"])
        part = part[part["Close"] > 0]
        if not part.empty:
            cleaned[symbol] = part[~part.index.duplicated(keep="last")].sort_index().astype(float)
    return cleaned


def bars_from_download(frame: pd.DataFrame | None, requests: Sequence[SymbolRequest],
                       currencies: dict[str, str | None], fetched_at: datetime | None = None) -> Bars:
    """Scale each symbol's series from Yahoo's currency to its T212 quote currency (pure)."""
    fetched_at = fetched_at or datetime.now(UTC)
    series = split_download(frame, [r.symbol for r in requests])
    frames: dict[str, pd.DataFrame] = {}
    status: dict[str, str] = {}
    for req in requests:
        sym = req.symbol
        if sym not in series:
            status[sym] = f"Yahoo returned no data for {sym}"
            continue
        source = currencies.get(sym)
        if not source:
            status[sym] = f"Yahoo did not report the currency of {sym}; left out to avoid a pence/pounds mix-up"
            continue
        scale = scale_factor(source, req.quote_currency)
        if scale is None:
            status[sym] = f"Yahoo quotes {sym} in {source}, which cannot be converted to {req.quote_currency}"
            continue
        scaled = series[sym].copy()
        prices = [c for c in ("Open", "High", "Low", "Close") if c in scaled.columns]
        scaled[prices] = scaled[prices] * scale
        frames[sym] = scaled
    if not frames:
        return replace(Bars.empty("yahoo"), status=status)
    return Bars.from_frames(frames, source="yahoo", status=status, fetched_at=dict.fromkeys(frames, fetched_at))


# -- the source ---------------------------------------------------------------------------------
class YahooMarketData:
    name = "yahoo"

    def __init__(self, store: Store | None = None, currency_max_age: float = CURRENCY_MAX_AGE,
                 history_fetcher: Callable[..., pd.DataFrame] | None = None,
                 currency_fetcher: Callable[[str], str | None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.currency_max_age = currency_max_age
        self._fetch_history = history_fetcher or fetch_history
        self._fetch_currency = currency_fetcher or fetch_currency
        self.clock = clock
        self._currencies: dict[str, tuple[str, float]] = {}
        self._currency_failed: dict[str, float] = {}

    def attach_store(self, store: Store) -> None:
        """Persist looked-up currencies in SQLite (the bar cache calls this)."""
        self.store = store

    def daily_bars(self, requests: Sequence[SymbolRequest], min_bars: int = 260) -> Bars:
        requests = list({r.symbol: r for r in requests if r.symbol}.values())
        if not requests:
            return Bars.empty(self.name)
        symbols = [r.symbol for r in requests]
        try:
            frame = self._fetch_history(symbols, min_bars)
        except Exception as err:  # yfinance raises many kinds; all mean "Yahoo failed"
            raise MarketDataError(f"Yahoo unavailable ({type(err).__name__})") from None
        got = set(split_download(frame, symbols))
        if not got:  # yf.download reports failures per symbol, not by raising
            raise MarketDataError(f"Yahoo unavailable: no data for any of {len(symbols)} symbols")
        currencies = self.currencies([s for s in symbols if s in got])
        return bars_from_download(frame, requests, currencies, datetime.fromtimestamp(self.clock(), UTC))

    # -- currencies, looked up once per symbol and kept for days --------------------------------
    def currencies(self, symbols: Sequence[str]) -> dict[str, str | None]:
        now = self.clock()
        known = {s: self._known(s) for s in symbols}
        todo = [s for s, k in known.items()
                if (k is None or now - k[1] > self.currency_max_age)
                and now - self._currency_failed.get(s, -1e18) > CURRENCY_RETRY_S]
        if todo:
            with ThreadPoolExecutor(max_workers=min(CURRENCY_WORKERS, len(todo))) as pool:
                looked_up = dict(zip(todo, pool.map(self._lookup, todo), strict=True))
            for sym, currency in looked_up.items():
                if currency:
                    known[sym] = (currency, now)
                    self._remember(sym, currency, now)
                else:
                    self._currency_failed[sym] = now
        return {s: (k[0] if k else None) for s, k in known.items()}

    def _lookup(self, symbol: str) -> str | None:
        try:
            return self._fetch_currency(symbol)
        except Exception as err:  # a failed lookup leaves only this symbol out
            log.warning("Yahoo currency lookup for %s failed (%s)", symbol, type(err).__name__)
            return None

    def _known(self, symbol: str) -> tuple[str, float] | None:
        if symbol in self._currencies:
            return self._currencies[symbol]
        if self.store is None:
            return None
        currency = bar_store.source_currency(self.store, symbol)
        checked = self.store.get(KeyFamily.YAHOO_CURRENCY_CHECKED.of(symbol))
        if currency and checked:
            self._currencies[symbol] = (currency, float(checked))
            return self._currencies[symbol]
        return None

    def _remember(self, symbol: str, currency: str, now: float) -> None:
        self._currencies[symbol] = (currency, now)
        if self.store is None:
            return
        bar_store.set_source_currency(self.store, symbol, "yahoo", currency)
        self.store.set(KeyFamily.YAHOO_CURRENCY_CHECKED.of(symbol), repr(now))
