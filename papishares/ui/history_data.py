"""The History page's data: the stored history (cached briefly), sync on demand, the benchmark,
exports. Like `papishares.ui.data`, a Streamlit caching door; no function here raises into a page."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from papishares.config import Settings
from papishares.core.models import SymbolRequest
from papishares.history import book, equity, export
from papishares.history import sync as history_sync
from papishares.history.trades import summary
from papishares.store import history as history_store
from papishares.ui import data
from papishares.ui.combined import combined_daily

log = logging.getLogger(__name__)
HISTORY_TTL = 30  # s: history changes at most every sync
SYNC_BOX = 8.0  # s: a sync from the page waits this long at most (the rest resumes in the worker)


@dataclass(frozen=True)
class History:
    trades: pd.DataFrame
    summary: dict[str, Any]
    daily: pd.DataFrame
    dividends: pd.DataFrame
    monthly_dividends: pd.DataFrame
    transactions: pd.DataFrame
    status: list[dict[str, Any]] = field(default_factory=list)


def _load(settings: Settings) -> History:
    store = data.service(settings).store
    if settings.environment == "demo-sim" and history_sync.last_complete(store) is None:
        history_sync.sync(store, data.service(settings).broker)  # the demo's year shows at once, offline
    trades = book.trades(store)
    dividends = book.dividends_frame(store)
    return History(book.trades_frame(store), summary(trades), book.daily_frame(store), dividends,
                   book.monthly_dividends(dividends), book.transactions_frame(store), book.sync_status(store))


@st.cache_data(ttl=HISTORY_TTL, show_spinner=False, max_entries=8)
def _cached(key: str, _settings: Settings) -> History:
    return _load(settings=_settings)


def load(settings: Settings) -> tuple[History | None, str | None]:
    try:
        return _cached(data.settings_key(settings), settings), None
    except Exception as err:  # the last net: a sentence on the page
        log.exception("history load failed")
        return None, f"The history could not be read ({type(err).__name__}); the dashboard log has the details."


def _load_all(accounts: tuple[Settings, ...]) -> History:
    """Every account's history in one: rows named by their account, the equity curve of the whole book
    (accounts in another currency than the first are left out of it: adding them would mix units)."""
    parts = [(a, _load(a)) for a in accounts]
    named = [(a.account_name, h) for a, h in parts]
    trades = [t for a, _ in parts for t in book.trades(data.service(a).store)]
    base = next((h.daily["currency"].iloc[0] for _, h in parts if not h.daily.empty), None)
    same = [(a, h) for a, h in parts if h.daily.empty or h.daily["currency"].iloc[0] == base]
    daily = combined_daily([h.daily for _, h in same],
                           [equity.daily_flows(history_store.flows(data.service(a).store)) for a, _ in same])
    dividends = _named(named, "dividends")
    status = [{**st_, "kind": f"{name} {st_['kind']}"} for name, h in named for st_ in h.status]
    left = [a.account_name for a, _ in parts if all(a is not b for b, _ in same)]
    if left:
        status.append({"kind": "equity curve", "note": f"left out (another currency than {base}): {', '.join(left)}"})
    return History(_named(named, "trades"), summary(trades), daily, dividends, book.monthly_dividends(dividends),
                   _named(named, "transactions"), status)


def _named(parts: list[tuple[str, History]], what: str) -> pd.DataFrame:
    frames = [getattr(h, what).assign(account=name) for name, h in parts]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out[["account", *[c for c in out.columns if c != "account"]]]


@st.cache_data(ttl=HISTORY_TTL, show_spinner=False, max_entries=8)
def _cached_all(key: str, _accounts: tuple[Settings, ...]) -> History:
    return _load_all(_accounts)


def load_all(accounts: tuple[Settings, ...]) -> tuple[History | None, str | None]:
    """"All accounts": every account's history together (see `_load_all`)."""
    try:
        return _cached_all("|".join(data.settings_key(a) for a in accounts), accounts), None
    except Exception as err:  # the last net: a sentence on the page
        log.exception("history load failed")
        return None, f"The history could not be read ({type(err).__name__}); the dashboard log has the details."


def sync_now(settings: Settings) -> str:
    svc = data.service(settings)
    report = history_sync.sync(svc.store, svc.broker, time_box=SYNC_BOX, patience=2.0)
    _cached.clear()
    _cached_all.clear()
    parts = [f"{k}: {r.new_items} new" + ("" if r.complete else " (continues in the worker)")
             for k, r in report.kinds.items()]
    notes = [r.note for r in report.kinds.values() if r.note]
    return "; ".join(parts) + (". " + " ".join(notes) if notes else ".")


@st.cache_data(ttl=600, show_spinner=False, max_entries=8)
def _benchmark(key: str, symbol: str, _settings: Settings) -> pd.Series:
    market = data.service(_settings).market
    bars = market.daily_bars([SymbolRequest(symbol, symbol, "GBP")], 400)
    return bars.close[symbol].dropna() if symbol in bars.close.columns else pd.Series(dtype=float)


def benchmark(settings: Settings, symbol: str) -> tuple[pd.Series, str | None]:
    if not symbol:
        return pd.Series(dtype=float), None
    try:
        closes = _benchmark(data.settings_key(settings), symbol, settings)
    except Exception as err:
        log.warning("benchmark %s failed", symbol, exc_info=True)
        return pd.Series(dtype=float), f"No prices for the benchmark {symbol} ({type(err).__name__})."
    if closes.empty:
        return closes, f"No prices for the benchmark {symbol} from market data '{settings.market_data}'."
    return closes, None


def excel(settings: Settings) -> bytes:
    return export.excel_bytes(data.service(settings).store)


def sync_all(accounts: tuple[Settings, ...]) -> str:
    return " ".join(f"{a.account_name}: {sync_now(a)}" for a in accounts)


def csv_files(history: History) -> dict[str, bytes]:
    tables = {"trades": history.trades, "dividends": history.dividends, "transactions": history.transactions,
              "daily": history.daily.reset_index(drop=True)}
    return {f"{name}.csv": export.csv_bytes(frame) for name, frame in tables.items()}
