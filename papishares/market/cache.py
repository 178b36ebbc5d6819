"""The SQLite bar cache in front of any market-data source. It never raises.

Fresh bars (younger than `max_age`, same source, same quote currency) are served from the
`bars` table; the stale and missing symbols go to the source in ONE batched call. When the source
fails as a whole (`MarketDataError`) or for one symbol, the last good bars are served with a note
saying how old they are. Bars cached for another quote currency are never served: a pence/pounds
mix-up must not reach a stop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from papishares.core.errors import MarketDataError
from papishares.core.models import Bars, SymbolRequest
from papishares.market import MIN_BARS, MarketData
from papishares.market.bar_units import repair_bars
from papishares.store import bars as bar_store
from papishares.store.db import Store
from papishares.store.keys import KeyFamily

log = logging.getLogger(__name__)
SOURCE_NAMES = {"yahoo": "Yahoo", "csv": "CSV files", "demo": "Demo data"}
FAILURE_BACKOFF_S = 120.0  # after a failure, serve the cache this long before asking again
CHUNK = 500  # SQLite variables per IN (...) query


def age_text(seconds: float) -> str:
    """'40 s', '12 min', '3 h', '2 d'."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


class CachedMarketData:
    def __init__(self, source: MarketData, store: Store, max_age: float = 900,
                 clock: Callable[[], float] = time.time) -> None:
        self.source = source
        self.store = store
        self.max_age = max_age
        self.clock = clock
        self.name = source.name
        self._failed_at: dict[str, float] = {}  # symbol -> last failure (per process)
        self._failure_note: dict[str, str] = {}
        attach = getattr(source, "attach_store", None)
        if callable(attach):
            attach(store)  # e.g. Yahoo keeps the currencies it looked up in bars_meta

    @property
    def _label(self) -> str:
        return SOURCE_NAMES.get(self.name, self.name)

    # -- reading the cache ----------------------------------------------------------------------
    def _meta(self, symbols: Sequence[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(symbols), CHUNK):
            part = list(symbols[i:i + CHUNK])
            for row in bar_store.meta(self.store, part):
                out[row["symbol"]] = row
        return out

    def _frames(self, symbols: Sequence[str]) -> dict[str, pd.DataFrame]:
        frames: dict[str, pd.DataFrame] = {}
        for i in range(0, len(symbols), CHUNK):
            part = list(symbols[i:i + CHUNK])
            if not part:
                continue
            rows = bar_store.bars(self.store, part)
            if not rows:
                continue
            table = pd.DataFrame.from_records(
                rows, columns=["symbol", "Date", "Open", "High", "Low", "Close", "Volume"])
            table["Date"] = pd.to_datetime(table["Date"], format="%Y-%m-%d")  # one parse for all symbols
            for symbol, group in table.groupby("symbol", sort=False):
                frame = group.drop(columns="symbol").set_index("Date")
                frames[str(symbol)] = frame.astype(float)
        return frames

    def cached_bars(self, symbols: Sequence[str]) -> Bars:
        """Whatever bars the cache holds for these symbols, without asking the source (charts)."""
        symbols = list(dict.fromkeys(symbols))
        frames = self._frames(symbols)
        meta = self._meta(symbols)
        fetched = {s: datetime.fromtimestamp(meta[s]["fetched_at"], UTC)
                   for s in frames if s in meta and meta[s]["fetched_at"]}
        status = {s: "no cached bars" for s in symbols if s not in frames}
        return self._bars(frames, status, fetched)

    def _bars(self, frames: dict[str, pd.DataFrame], status: dict[str, str],
              fetched: dict[str, datetime]) -> Bars:
        if not frames:
            return replace(Bars.empty(self.name), status=status)
        return Bars.from_frames(frames, source=self.name, status=status, fetched_at=fetched)

    # -- writing the cache ----------------------------------------------------------------------
    def _save(self, bars: Bars, requests: dict[str, SymbolRequest], now: float) -> None:
        with self.store.transaction():
            for symbol in bars.symbols:
                frame = bars.for_symbol(symbol)
                if frame.empty or symbol not in requests:
                    continue
                bar_store.replace_bars(
                    self.store, symbol,
                    [(d.strftime("%Y-%m-%d"), *(None if pd.isna(v) else float(v) for v in row))
                     for d, row in zip(frame.index, frame[["Open", "High", "Low", "Close", "Volume"]].itertuples(
                         index=False, name=None), strict=True)],
                    self.name, requests[symbol].quote_currency, now)

    def _note_failure(self, symbols: Sequence[str], note: str, now: float) -> None:
        for symbol in symbols:
            self._failed_at[symbol] = now
            self._failure_note[symbol] = note
        if symbols:
            bar_store.note_error(self.store, symbols, note)

    # -- the MarketData interface ---------------------------------------------------------------
    def daily_bars(self, requests: Sequence[SymbolRequest], min_bars: int = MIN_BARS) -> Bars:
        try:
            return self._daily_bars(requests, min_bars)
        except Exception as err:  # the cache's promise: never raise, say what happened
            log.warning("Market data cache failed (%s)", type(err).__name__)
            symbols = [r.symbol for r in requests]
            return replace(Bars.empty(self.name),
                           status=dict.fromkeys(symbols, f"{self._label}: market data unavailable"))

    def _daily_bars(self, requests: Sequence[SymbolRequest], min_bars: int) -> Bars:
        now = self.clock()
        wanted = {r.symbol: r for r in requests if r.symbol}
        symbols = list(wanted)
        meta = self._meta(symbols)

        def usable(symbol: str) -> bool:  # cached bars in the asked scale
            m = meta.get(symbol)
            return bool(m and m["fetched_at"] and m["source"] == self.name
                        and m["quote_currency"] == wanted[symbol].quote_currency)

        stale = [s for s in symbols
                 if not (usable(s) and now - float(meta[s]["fetched_at"]) <= self.max_age)
                 and now - self._failed_at.get(s, -1e18) > FAILURE_BACKOFF_S]
        status: dict[str, str] = {}
        if stale:
            try:
                fresh = self.source.daily_bars([wanted[s] for s in stale], min_bars)
            except MarketDataError as err:
                log.warning("%s", err)
                self._note_failure(stale, f"{self._label} unavailable", now)
            except Exception as err:  # a source bug must not take the dashboard down
                log.warning("%s failed (%s)", self._label, type(err).__name__)
                self._note_failure(stale, f"{self._label} failed ({type(err).__name__})", now)
            else:
                fresh, repaired = repair_bars(fresh)  # every bar checked against its neighbours
                for s in fresh.symbols:
                    key = KeyFamily.BARS_UNITS_NOTE.of(s)
                    if s in repaired:
                        self.store.set(key, repaired[s])
                    else:
                        self.store.delete(key)
                self._save(fresh, wanted, now)
                got = {s for s in fresh.symbols if not fresh.for_symbol(s).empty}
                for s in got:
                    self._failed_at.pop(s, None)
                    self._failure_note.pop(s, None)
                missing = [s for s in stale if s not in got]
                for s in missing:
                    self._note_failure([s], fresh.status.get(s, f"{self._label} returned no data for {s}"), now)
                meta = self._meta(symbols)

        frames_all = self._frames([s for s in symbols if usable(s)])
        frames: dict[str, pd.DataFrame] = {}
        fetched: dict[str, datetime] = {}
        for s in symbols:
            if s in frames_all:
                frames[s] = frames_all[s]
                fetched_at = float(meta[s]["fetched_at"])
                fetched[s] = datetime.fromtimestamp(fetched_at, UTC)
                if now - fetched_at > self.max_age:
                    why = self._failure_note.get(s) or meta[s].get("error") or f"{self._label} unavailable"
                    status[s] = f"{_short(why)}: bars from {age_text(now - fetched_at)} ago"
                elif repaired_note := self.store.get(KeyFamily.BARS_UNITS_NOTE.of(s)):
                    status[s] = repaired_note
            else:
                status[s] = self._failure_note.get(s) or (meta.get(s) or {}).get("error") or "no bars yet"
        return self._bars(frames, status, fetched)


def _short(note: str) -> str:
    """'Yahoo unavailable (ConnectError)' stays; long notes are cut to keep a status line short."""
    return note if len(note) <= 80 else note[:77] + "..."
