"""The Entries page's data: the cached scan, the external feed, chart bars, filters and formats.

Like `papishares.ui.data`, this is a Streamlit caching door: the scan (one batched market-data call
for the whole universe) is shared by every session for SCAN_TTL seconds. No function here raises
into a page: failures come back as a sentence.
"""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from papishares.config import Settings
from papishares.core.errors import PapisharesError
from papishares.core.models import Snapshot
from papishares.entries import EntriesResult, scan_entries
from papishares.entries.feed import Feed, load_feed
from papishares.entries.universe import (
    add_to_watchlist,
    read_watchlist_file,
    remove_from_watchlist,
    stored_watchlist,
)
from papishares.ui import data, tables

log = logging.getLogger(__name__)
SCAN_TTL = 300  # s: daily bars; a new scan every few minutes is plenty
FEED_TTL = 300
SYSTEMS = ["All", "Breakouts (20 or 55)", "System 55", "System 20", "Not breaking out"]
HELD = ["All", "Held", "Not held"]


@st.cache_data(ttl=SCAN_TTL, show_spinner="Scanning for breakouts…", max_entries=8)
def _scan(key: str, fractional: bool, snap_time: float, _settings: Settings, _snapshot: Snapshot | None
          ) -> EntriesResult:
    return scan_entries(_settings, service=data.service(_settings), snapshot=_snapshot, fractional=fractional)


def load_entries(settings: Settings, snapshot: Snapshot | None, fractional: bool
                 ) -> tuple[EntriesResult | None, str | None]:
    snap_time = snapshot.generated_at.timestamp() // SCAN_TTL if snapshot else 0.0
    try:
        return _scan(data.settings_key(settings), fractional, snap_time, settings, snapshot), None
    except Exception as err:  # the last net: a sentence on the page, details in the log
        log.exception("entries scan failed")
        return None, f"The entries scan failed ({type(err).__name__}); the dashboard log has the details."


@st.cache_data(ttl=FEED_TTL, show_spinner=False, max_entries=4)
def _feed(key: str, _settings: Settings) -> Feed:
    return load_feed(_settings)


def feed(settings: Settings) -> Feed:
    return _feed(data.settings_key(settings), settings)


def chart_bars(settings: Settings, symbol: str) -> pd.DataFrame:
    """One symbol's bars from the SQLite bar cache the scan filled (no new market-data request)."""
    market = data.service(settings).market
    cached = getattr(market, "cached_bars", None)
    try:
        return cached([symbol]).for_symbol(symbol) if cached else pd.DataFrame()
    except Exception:
        log.warning("bars for %s unavailable", symbol, exc_info=True)
        return pd.DataFrame()


def index_options(table: pd.DataFrame) -> list[str]:
    names = {s.strip() for cell in table.get("sources", pd.Series(dtype=str)) for s in str(cell).split(",")}
    return sorted(n for n in names if n)


def filter_table(table: pd.DataFrame, sources: list[str], system: str, held: str) -> pd.DataFrame:
    """The candidates that pass the page's filters (index/watchlist/held source, system, held)."""
    out = table
    if sources:
        out = out[out["sources"].map(lambda cell: any(s.strip() in sources for s in str(cell).split(",")))]
    sys_col = out["system"]
    wanted = {"Breakouts (20 or 55)": sys_col.notna(), "System 55": sys_col == 55, "System 20": sys_col == 20,
              "Not breaking out": sys_col.isna()}.get(system)
    if wanted is not None:
        out = out[wanted.astype(bool)]
    if held != "All":
        out = out[out["held"].astype(bool) == (held == "Held")]
    return out


def _num(column: pd.Series) -> pd.Series:
    """Numbers for sorting; a missing value shows as an empty cell, never as "None"."""
    return pd.to_numeric(column, errors="coerce")


def display_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Columns as the page shows them (numbers stay numbers so the table sorts correctly)."""
    return pd.DataFrame({
        "Symbol": table.index.astype(str),
        "Name": table["name"].map(tables.text),
        "System": table["system"].map(lambda s: "" if s is None or pd.isna(s) else str(int(s))),
        "Close": _num(table["close"]),
        "Breakout": _num(table["breakout_level"]),
        "To breakout %": _num(table["distance_pct"]),
        "N (ATR 20)": _num(table["atr"]),
        "N %": _num(table["atr_pct"]),
        "3m %": _num(table["change_3m_pct"]),
        "Shares": _num(table["shares"]),
        "2N stop": _num(table["initial_stop"]),
        "Cost": _num(table["cost"]),
        "Ccy": table["currency"].map(tables.text),
        "Cost (account)": _num(table["cost_account"]),
        "Risk": _num(table["shares"]) * 2 * _num(table["atr"]),  # the 2N risk in the quote currency
        "Risk (account)": _num(table["risk_amount"]),
        "Risk after %": _num(table["total_risk_after_pct"]),
        "Over limit": table["over_total_risk"].map(lambda v: "" if v is None or pd.isna(v) else ("yes" if v else "no")),
        "Held": table["held"].map(lambda v: "yes" if v else ""),
        "T212": table["t212_ticker"].map(lambda v: "" if v is None or pd.isna(v) else str(v)),
        "Tradable": table["tradable"].map(lambda v: "?" if v is None or pd.isna(v) else ("yes" if v else "no")),
        "From": table["sources"].map(tables.text),
    }).reset_index(drop=True)


def column_config(account_currency: str | None) -> dict[str, object]:
    num = st.column_config.NumberColumn
    acct = account_currency or ""
    return {
        "Close": num(format="%.2f"), "Breakout": num(format="%.2f"), "To breakout %": num(format="%.2f"),
        "N (ATR 20)": num(format="%.2f"), "N %": num(format="%.2f"), "3m %": num(format="%+.1f"),
        "Shares": num(format="%g"), "2N stop": num(format="%.2f"),
        "Cost": num("Cost (quote)", format="%,.0f", help="shares x close, in the symbol's quote currency (Ccy)"),
        "Risk": num("Risk (quote)", format="%,.2f", help="shares x 2N, in the symbol's quote currency (Ccy)"),
        "Cost (account)": num(f"Cost ({acct})", format="%,.0f"),
        "Risk (account)": num(f"Risk ({acct})", format="%,.2f"), "Risk after %": num(format="%.2f"),
    }


# -- the watchlist (Settings page) ------------------------------------------------------------------
def watchlist(settings: Settings) -> tuple[list[str], list[str]]:
    """(symbols saved from the dashboard, symbols from the PAPISHARES_WATCHLIST file)."""
    return stored_watchlist(data.service(settings).store), read_watchlist_file(settings.watchlist_path)


def add_watch(settings: Settings, raw: str) -> str:
    symbol = add_to_watchlist(data.service(settings).store, raw)
    if not symbol:
        raise PapisharesError(f"{raw.strip()!r} is not a Yahoo-style symbol")
    _scan.clear()  # the next Entries run scans it
    return f"{symbol} added to the watchlist."


def remove_watch(settings: Settings, symbols: list[str]) -> str:
    store = data.service(settings).store
    for symbol in symbols:
        remove_from_watchlist(store, symbol)
    _scan.clear()
    return f"Removed {', '.join(symbols)}."
