"""Which symbols the entries scanner looks at, and what Trading 212 knows about each.

The universe is: index presets from `pytickersymbols` (offline constituents with Yahoo symbols), the
user's watchlist (the PAPISHARES_WATCHLIST file plus the `watchlist` table the Settings page edits),
and the instruments already held. Each member carries its quote currency (the Trading 212 one when
the instrument is in T212's metadata, else guessed from the Yahoo suffix: `.L` is pence, GBX) and
its T212 ticker with whether it can be traded there.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from papishares.core.models import Exchange, Instrument, PositionView, SymbolRequest
from papishares.store import watchlist
from papishares.store.db import Store

WATCHLIST = "watchlist"
HELD = "held"
# Yahoo suffix -> the currency (and scale) Trading 212 quotes such a listing in
SUFFIX_CURRENCY = {
    "L": "GBX", "IL": "GBX", "DE": "EUR", "F": "EUR", "PA": "EUR", "AS": "EUR", "BR": "EUR", "MC": "EUR",
    "MI": "EUR", "HE": "EUR", "LS": "EUR", "VI": "EUR", "IR": "EUR", "SW": "CHF", "ST": "SEK", "CO": "DKK",
    "OL": "NOK", "T": "JPY", "TO": "CAD", "V": "CAD", "AX": "AUD", "HK": "HKD",
}
# friendly names people type -> pytickersymbols' index names (also matched loosely, see index_name)
INDEX_ALIASES = {"sp500": "S&P 500", "sandp500": "S&P 500", "spx": "S&P 500", "ndx": "NASDAQ 100",
                 "nasdaq": "NASDAQ 100", "dow": "DOW JONES", "djia": "DOW JONES", "ftse": "FTSE 100",
                 "ukx": "FTSE 100", "eurostoxx": "EURO STOXX 50", "smi": "Switzerland 20",
                 "omxs30": "OMX Stockholm 30", "omxh25": "OMX Helsinki 25", "nikkei": "NIKKEI 225"}
SYMBOL_RE = re.compile(r"^[A-Za-z0-9^][A-Za-z0-9.\-=^&]{0,24}$")


@dataclass(frozen=True)
class Member:
    symbol: str  # Yahoo-style
    name: str
    sources: tuple[str, ...]  # index names, "watchlist", "held"
    quote_currency: str
    t212_ticker: str | None = None
    tradable: bool | None = None  # None: no Trading 212 metadata to tell
    held: bool = False

    @property
    def watched(self) -> bool:
        return WATCHLIST in self.sources or HELD in self.sources

    def request(self) -> SymbolRequest:
        return SymbolRequest(self.t212_ticker or self.symbol, self.symbol, self.quote_currency)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@lru_cache(maxsize=1)
def _ticker_symbols():  # type: ignore[no-untyped-def]
    from pytickersymbols import PyTickerSymbols

    return PyTickerSymbols()


def available_indices() -> list[str]:
    return list(_ticker_symbols().get_all_indices())


def index_name(name: str) -> str | None:
    """pytickersymbols' name for a preset the user typed ("FTSE100", "S&P500", "CAC 40"), or None."""
    names = {_key(n): n for n in available_indices()}
    key = _key(name)
    return names.get(key) or INDEX_ALIASES.get(key)


def guess_currency(symbol: str) -> str:
    """The quote currency of a Yahoo symbol from its suffix (no suffix: a US listing in USD)."""
    if "=" in symbol:  # currency pairs quote in their second currency
        return symbol.split("=")[0][3:6] or "USD"
    suffix = symbol.rsplit(".", 1)[1].upper() if "." in symbol else ""
    return SUFFIX_CURRENCY.get(suffix, "USD")


def _yahoo_form(symbol: str) -> str:
    """US share classes use '-' at Yahoo ("BRK.B" -> "BRK-B"); exchange suffixes keep their dot."""
    head, _, tail = symbol.rpartition(".")
    if head and tail.upper() not in SUFFIX_CURRENCY and len(tail) <= 2:
        return f"{head}-{tail}"
    return symbol


@lru_cache(maxsize=64)
def index_members(index: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(Yahoo symbol, company name, ISINs) of an index's constituents; () for an unknown index."""
    name = index_name(index)
    if name is None:
        return ()
    out = []
    for stock in _ticker_symbols().get_stocks_by_index(name):
        symbol = stock.get("symbol")
        if not symbol or "." in symbol.split(".", 1)[-1]:  # missing, or odd forms like "AIR.PA.DE"
            continue
        out.append((_yahoo_form(symbol), str(stock.get("name") or symbol), tuple(stock.get("isins") or ())))
    return tuple(out)


# -- the watchlist ------------------------------------------------------------------------------
def clean_symbol(raw: str) -> str | None:
    symbol = raw.split("#", 1)[0].strip().upper()
    return symbol if symbol and SYMBOL_RE.match(symbol) else None


def read_watchlist_file(path: Path | None) -> list[str]:
    """Symbols from a text file, one a line, `#` comments; [] when unreadable."""
    if path is None:
        return []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    return list(dict.fromkeys(s for s in (clean_symbol(line) for line in lines) if s))


def stored_watchlist(store: Store) -> list[str]:
    return watchlist.symbols(store)


def add_to_watchlist(store: Store, raw: str) -> str | None:
    """Add a symbol (the Settings page's action); returns it cleaned, or None when not a symbol."""
    symbol = clean_symbol(raw)
    if symbol:
        watchlist.add(store, symbol, time.time())
    return symbol


def remove_from_watchlist(store: Store, symbol: str) -> None:
    watchlist.remove(store, symbol.strip().upper())


# -- Trading 212 metadata -----------------------------------------------------------------------
def t212_index(instruments: Mapping[str, Instrument], overrides: Mapping[str, str] | None = None,
               exchanges: Sequence[Exchange] = ()) -> tuple[dict[str, Instrument], dict[str, Instrument]]:
    """Instruments by Yahoo symbol (the service's one mapping: shortName + exchange) and by ISIN."""
    from papishares.market.symbols import SymbolMapper

    mapper = SymbolMapper(exchanges, overrides)
    by_symbol: dict[str, Instrument] = {}
    by_isin: dict[str, Instrument] = {}
    for inst in instruments.values():
        try:
            symbol = mapper.resolve(inst.ticker, inst).symbol
        except Exception:  # one odd instrument must not hide the others
            symbol = None
        if symbol:
            by_symbol.setdefault(symbol.upper(), inst)
        if inst.isin:
            by_isin.setdefault(inst.isin, inst)
    return by_symbol, by_isin


def build_universe(
    indices: Iterable[str],
    watchlist: Sequence[str],
    positions: Sequence[PositionView],
    instruments: Mapping[str, Instrument],
    overrides: Mapping[str, str] | None = None,
    exchanges: Sequence[Exchange] = (),
) -> tuple[list[Member], list[str]]:
    """The members (one per Yahoo symbol, sources merged) and notes for presets not found."""
    notes: list[str] = []
    members: dict[str, Member] = {}
    isins: dict[str, tuple[str, ...]] = {}

    def add(symbol: str, name: str, source: str, currency: str | None = None, ticker: str | None = None,
            held: bool = False) -> None:
        old = members.get(symbol)
        if old is None:
            members[symbol] = Member(symbol, name, (source,), currency or guess_currency(symbol),
                                     t212_ticker=ticker, held=held)
        else:
            members[symbol] = replace(
                old, sources=old.sources + ((source,) if source not in old.sources else ()),
                held=old.held or held, t212_ticker=old.t212_ticker or ticker,
                quote_currency=currency or old.quote_currency,
                name=old.name if old.name != old.symbol else name,
            )

    for index in indices:
        found = index_members(index)
        if not found:
            notes.append(f"Index preset {index!r} is unknown; known: {', '.join(available_indices())}.")
        label = index_name(index) or index
        for symbol, name, isin_list in found:
            add(symbol, name, label)
            isins.setdefault(symbol, isin_list)
    for symbol in watchlist:
        add(symbol, symbol, WATCHLIST)
    for p in positions:
        if p.yahoo_symbol:
            add(p.yahoo_symbol.upper(), p.name, HELD, currency=p.currency, ticker=p.ticker, held=True)

    by_symbol, by_isin = t212_index(instruments, overrides, exchanges)
    matched = []
    for m in members.values():
        inst = by_symbol.get(m.symbol) or next((by_isin[i] for i in isins.get(m.symbol, ()) if i in by_isin
                                                and by_isin[i].currency == m.quote_currency), None)
        if inst is not None:
            m = replace(m, t212_ticker=m.t212_ticker or inst.ticker, quote_currency=inst.currency,
                        name=m.name if m.name != m.symbol else inst.name, tradable=True)
        elif instruments:
            m = replace(m, tradable=m.held or False)
        matched.append(m)
    return matched, notes
