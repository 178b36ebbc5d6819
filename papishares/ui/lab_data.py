"""The Lab's data: the backtests as the CLI computes them, cached per settings for a while."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from papishares.config import Settings
from papishares.ui import data

TTL = 600


@st.cache_data(ttl=TTL, show_spinner="Replaying your trades under every stop mode…")
def exits(_settings: Settings, key: str) -> dict[str, Any]:
    from papishares.backtest.run import exits_json

    return exits_json(_settings)


@st.cache_data(ttl=TTL, show_spinner="Running the entries backtest…")
def entries(_settings: Settings, key: str, symbols: tuple[str, ...], mode: str) -> dict[str, Any]:
    from papishares.backtest.run import entries_json

    return entries_json(_settings, list(symbols) or None, mode=mode)


@st.cache_data(ttl=TTL, show_spinner=False)
def trade_lines(_settings: Settings, key: str, trade: dict[str, Any],
                modes: list[str]) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """One trade's bars (from its entry) and each mode's stop line, from the same replay code; on the
    dashboard's own cached service, once per trade and configuration (`key`)."""
    from datetime import UTC, datetime

    from papishares.backtest.run import WARMUP_BARS, _bdays, load_bars
    from papishares.core import stop_modes
    from papishares.core.models import SymbolRequest
    from papishares.entries.universe import guess_currency

    service = data.service(_settings)
    now = datetime.now(UTC)
    request = SymbolRequest(trade.get("ticker") or trade["symbol"], trade["symbol"], guess_currency(trade["symbol"]))
    if trade.get("ticker"):
        inst = service.context([trade["ticker"]]).instruments.get(trade["ticker"])
        request = SymbolRequest(trade["ticker"], trade["symbol"], inst.currency if inst else request.quote_currency)
    entry = pd.Timestamp(trade["entry_date"])
    bars, missing = load_bars(service, [request], _bdays(entry.date(), now.date()) + WARMUP_BARS, now.timestamp())
    if trade["symbol"] in missing:
        return pd.DataFrame(), {}
    prepared = stop_modes.prepare(bars.for_symbol(trade["symbol"]))
    start = stop_modes.entry_bar(pd.DatetimeIndex(prepared.index), entry) or 0
    part = prepared.iloc[start:]
    risk = trade["entry_price"] - trade["initial_stop"]
    lines = {}
    for mode in modes:
        r = stop_modes.replay(mode, part, trade["entry_price"], risk)
        lines[mode] = pd.Series(r.stop_line, index=part.index).dropna()
    return part, lines
