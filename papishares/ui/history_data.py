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
from papishares.history import book, export
from papishares.history import sync as history_sync
from papishares.history.trades import summary
from papishares.ui import data

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


def sync_now(settings: Settings) -> str:
    svc = data.service(settings)
    report = history_sync.sync(svc.store, svc.broker, time_box=SYNC_BOX, patience=2.0)
    _cached.clear()
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


def csv_files(history: History) -> dict[str, bytes]:
    tables = {"trades": history.trades, "dividends": history.dividends, "transactions": history.transactions,
              "daily": history.daily.reset_index(drop=True)}
    return {f"{name}.csv": export.csv_bytes(frame) for name, frame in tables.items()}
