"""Frames and `st.column_config` formats for the dashboard's tables.

Prices stay in each instrument's quote currency as Trading 212 gives them; GBX is shown in pence
("1,350.00p"), never silently turned into pounds. Amounts in the account currency (value, risk) are
numbers with the currency in the column title, so they sort.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from papishares.core import money
from papishares.core.models import Order, PositionView, Snapshot

NEAR_STOP_PCT = 3.0  # a price within 3% above its effective stop counts as "near"
MISSING = "–"  # what every table shows for a missing value (never "None" or "nan")
EXPOSURE = {"GBX": "GBP"}  # pence are pounds for currency exposure


def _num(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def price_text(value: float | None, currency: str | None) -> str:
    """A price in its quote currency: $155.80, £13.50, 1,350.00p (GBX), 12.30 CHF."""
    value = _num(value)
    return MISSING if value is None else money.amount(value, currency)


def text(value: object) -> str:
    """A text cell: None / NaN become "" (a table never shows "None" or "nan")."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    try:
        if pd.isna(value):  # type: ignore[call-overload]
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def dataframe(data: Any, **kw: Any) -> Any:
    """`st.dataframe` with the one placeholder for missing values (pages call this, not st.dataframe)."""
    kw.setdefault("placeholder", MISSING)
    kw.setdefault("hide_index", True)
    return st.dataframe(data, **kw)


def quote_amount(amount: float | None, fx: float | None, currency: str | None) -> str:
    """An account-currency amount (risk) restated in the position's quote currency, for beside it."""
    amount, fx = _num(amount), _num(fx)
    if amount is None or fx is None or fx <= 0:
        return MISSING
    return price_text(amount / fx, currency)


def doubt(p: PositionView) -> str:
    """Why a position's numbers are in doubt (broker data, units), "" when they are not."""
    return p.data_note or p.units_note or ""


def money_format(currency: str) -> str:
    """printf format for an account-currency NumberColumn."""
    sign = money.sign(currency)
    return f"{sign}%.2f" if sign else f"%.2f {currency}"


# Markers are plain text with shapes every font has (no emoji), coloured by `styled_positions`.
# What acts at the stop (PositionView.protection): the first two hold while no worker runs.
PROTECTION_WORDS = {"manual": "your stop orders", "broker": "stop at the broker", "partial": "stop orders: part",
                    "worker": "worker's auto-sell", "alert": "alert only", "none": "nothing"}
STOP_MODE_WORDS = {"risk": "risk: highest close since entry − the initial risk",
                   "chandelier": "chandelier: highest high − 3 ATR",
                   "breakeven": "breakeven: the initial stop, at the entry once 1R is reached",
                   "turtle": "turtle: 2 ATR below entry, then the 10-day low",
                   "sma": "sma: the initial stop, fixed (backtests also exit on a close below SMA 17)",
                   "macd": "macd: the initial stop, fixed (backtests also exit on a bearish MACD crossover)"}
BELOW, NEAR, OK, NO_STOP = "● BELOW STOP", "● NEAR STOP", "● OK", "○ NO STOP"
GREEN_TEXT, RED_TEXT, AMBER_TEXT = "color: #1a7f37", "color: #cf222e", "color: #bc4c00"
CELL_STYLES = {BELOW: "background-color: #ffd7d5; color: #a40e26; font-weight: 600",
               NEAR: "background-color: #fff1c2; color: #7d4e00", OK: GREEN_TEXT,
               NO_STOP: "background-color: #eaeef2; color: #57606a"}


def to_stop_pct(p: PositionView) -> float | None:
    """How far the price is above the stop that will act first (a managed stop at the broker, the
    user's, or the calculated one while the worker acts), else above the effective stop."""
    if p.acting_stop is None or not p.current_price:
        return p.distance_to_stop_pct
    return round((p.current_price - p.acting_stop) / p.current_price * 100, 4)


def stop_status(p: PositionView) -> str:
    if p.effective_stop is None and p.acting_stop is None:
        return NO_STOP
    distance = to_stop_pct(p)
    if p.stop_breached or (distance is not None and distance <= 0):
        return BELOW
    if distance is not None and distance <= NEAR_STOP_PCT:
        return NEAR
    return OK


def stop_counts(snapshot: Snapshot) -> tuple[int, int, int]:
    """(at or below stop, near stop, without any stop)."""
    states = [stop_status(p) for p in snapshot.positions]
    return states.count(BELOW), states.count(NEAR), states.count(NO_STOP)


def macd_marker(p: PositionView) -> str:
    marks = {"BULLISH": "▲ Bullish", "BEARISH": "▼ Bearish", "NEUTRAL": "● Neutral"}
    text = marks.get(p.macd_signal or "", "– no data")
    if p.macd_crossover == "BULLISH":
        text += ", crossed up ↑"
    elif p.macd_crossover == "BEARISH":
        text += ", crossed down ↓"
    return text


def sma_marker(p: PositionView) -> str:
    if p.sma_17 is None or p.current_price is None:
        return "– no data"
    if p.current_price > p.sma_17:
        return "▲ above"
    return "▼ below" if p.current_price < p.sma_17 else "= at"


def _covered_pct(p: PositionView) -> float | None:
    if not p.manual_stop_loss_quantity or not p.quantity:
        return None
    return min(100.0, abs(p.manual_stop_loss_quantity) / abs(p.quantity) * 100)


def positions_frame(snapshot: Snapshot) -> pd.DataFrame:
    """One row per position, in snapshot order (row i is snapshot.positions[i])."""
    rows = []
    for p in snapshot.positions:
        rows.append({
            "Ticker": p.short_name,
            "Name": p.name,
            "Qty": p.quantity,
            "Price": price_text(p.current_price, p.currency),
            "Avg price": price_text(p.average_price, p.currency),
            "P&L %": p.profit_pct,
            "Max price": price_text(p.max_price, p.currency),
            "Stop": price_text(p.stop_loss_price, p.currency),
            "Stop %": p.stop_loss_percentage,
            "To stop %": to_stop_pct(p),
            "Status": stop_status(p),
            "SMA 17": price_text(p.sma_17, p.currency),
            "vs SMA 17": sma_marker(p),
            "MACD": macd_marker(p),
            "Manual stop": price_text(p.manual_stop_loss_price, p.currency),
            "Manual covers %": _covered_pct(p),
            "Protection": PROTECTION_WORDS.get(p.protection, p.protection),
            "Broker stop": price_text(p.broker_stop_price, p.currency),
            "Value": p.market_value,
            "Risk": p.risk,
            "Risk (quote)": quote_amount(p.risk, p.fx, p.currency),
            "Market": MISSING if p.market_open is None else ("open" if p.market_open else "closed"),
            "T212 ticker": p.ticker,
            "Currency": "GBX (pence)" if p.currency.upper() == "GBX" else p.currency,
            "Data": doubt(p),
        })
    return pd.DataFrame(rows, columns=POSITION_COLUMNS)


POSITION_COLUMNS = ["Ticker", "Status", "Price", "Stop", "To stop %", "Protection", "Broker stop", "P&L %",
                    "vs SMA 17", "MACD", "Manual stop", "Manual covers %", "Value", "Risk", "Risk (quote)", "Qty",
                    "Avg price", "Max price", "Stop %", "SMA 17", "Market", "Name", "Currency", "T212 ticker", "Data"]


def _marker_style(text: object) -> str:
    value = str(text)
    if value in CELL_STYLES:
        return CELL_STYLES[value]
    if value.startswith("▲"):
        return GREEN_TEXT
    return RED_TEXT if value.startswith("▼") else ""


def _signed_style(value: object) -> str:
    if not isinstance(value, int | float) or value != value:
        return ""
    return GREEN_TEXT if value > 0 else RED_TEXT if value < 0 else ""


def styled_positions(frame: pd.DataFrame) -> Any:
    """The positions frame with its markers coloured (a pandas Styler st.dataframe understands)."""
    return (frame.style.map(_marker_style, subset=["Status", "vs SMA 17", "MACD"])
            .map(_signed_style, subset=["P&L %"]))


def positions_config(account_currency: str) -> dict[str, object]:
    fmt = money_format(account_currency)
    cc = st.column_config
    return {
        "Qty": cc.NumberColumn(format="%.4g"),
        "P&L %": cc.NumberColumn(format="%+.2f%%", help="(current − average) / average"),
        "Stop": cc.TextColumn(help="Calculated trailing stop (quote currency); it only moves up"),
        "Stop %": cc.NumberColumn(format="%.2f%%", help="Stop below max(average, max price)"),
        "To stop %": cc.ProgressColumn(format="%.1f%%", min_value=0, max_value=25,
                                       help="How far the price is above its effective stop "
                                            "(the manual stop where present)"),
        "Manual stop": cc.TextColumn(help="Highest pending STOP/STOP_LIMIT sell order of yours"),
        "Protection": cc.TextColumn(help="What acts at the stop: stop orders at the broker (yours or the one "
                                         "Papishares keeps) act while no worker runs; auto-sell only while it runs"),
        "Broker stop": cc.TextColumn(help="The SELL STOP Papishares keeps at Trading 212 (PAPISHARES_BROKER_STOPS)"),
        "Manual covers %": cc.ProgressColumn(format="%.0f%%", min_value=0, max_value=100,
                                             help="Share of the position the manual stop orders cover"),
        "Value": cc.NumberColumn(f"Value ({account_currency})", format=fmt),
        "Risk": cc.NumberColumn(f"Risk ({account_currency})", format=fmt,
                                help="Loss from the average price down to the effective stop"),
        "Risk (quote)": cc.TextColumn(help="The same risk in the instrument's quote currency"),
        "Data": cc.TextColumn("Data in doubt", help="Unusable broker data or prices ~100x off (pence/pounds): "
                                                    "no calculated stop and never sold on until it is fixed"),
        "vs SMA 17": cc.TextColumn(help="Current price against the 17-day simple moving average"),
        "MACD": cc.TextColumn(help="MACD(12,26,9) against its signal line on the last completed bar"),
    }


def positions_csv(snapshot: Snapshot) -> bytes:
    """Every snapshot field of every position, machine-readable (raw numbers, quote currencies)."""
    return pd.DataFrame([p.to_json() for p in snapshot.positions]).to_csv(index=False).encode()


MANAGED = "Managed by Papishares"


def orders_frame(orders: tuple[Order, ...], currencies: Mapping[str, str],
                 managed: frozenset[int] = frozenset()) -> pd.DataFrame:
    """Pending orders; `managed` holds the ids Papishares sent (papishares.orders.journal), the rest are the user's."""
    rows = []
    for o in orders:
        ccy = o.currency or currencies.get(o.ticker, "")
        rows.append({
            "Ticker": o.ticker,
            "Type": o.type,
            "Side": "SELL" if o.is_sell else "BUY",
            "Qty": abs(o.quantity),
            "Filled": o.filled_quantity,
            "Limit": price_text(o.limit_price, ccy),
            "Stop": price_text(o.stop_price, ccy),
            "Status": o.status,
            MANAGED: "yes" if o.id in managed else "no",
            "Currency": "GBX (pence)" if ccy.upper() == "GBX" else ccy,
            "Id": str(o.id),
        })
    return pd.DataFrame(rows, columns=["Ticker", "Type", "Side", "Qty", "Filled", "Limit", "Stop", "Status",
                                       MANAGED, "Currency", "Id"])


def risk_frame(snapshot: Snapshot) -> pd.DataFrame:
    """Risk per position in account currency, largest first; positions without any stop flagged."""
    rows = [{
        "Ticker": p.short_name,
        "Risk": p.risk,
        "Risk (quote)": quote_amount(p.risk, p.fx, p.currency),
        "Loss if stop hit": p.open_risk,
        "% of account": p.risk / snapshot.account.total_value * 100 if snapshot.account.total_value else 0.0,
        "Stop": price_text(p.effective_stop, p.currency),
        "No stop": p.effective_stop is None,
        "Note": text(p.stop_loss_note),
    } for p in snapshot.positions]
    frame = pd.DataFrame(rows, columns=["Ticker", "Risk", "Risk (quote)", "Loss if stop hit", "% of account", "Stop",
                                        "No stop", "Note"])
    return frame.sort_values("Risk", ascending=False, ignore_index=True)


def risk_config(account_currency: str) -> dict[str, object]:
    fmt = money_format(account_currency)
    cc = st.column_config
    return {
        "Risk": cc.NumberColumn(f"Risk ({account_currency})", format=fmt,
                                help="From the average price down to the effective stop"),
        "Loss if stop hit": cc.NumberColumn(f"Loss if stop hit ({account_currency})", format=fmt,
                                            help="From the current price down to the effective stop"),
        "Risk (quote)": cc.TextColumn(help="The same risk in the instrument's quote currency"),
        "% of account": cc.NumberColumn(format="%.2f%%"),
        "No stop": cc.CheckboxColumn(help="No calculated and no manual stop: the whole value is at risk"),
    }


def concentration(snapshot: Snapshot) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(by instrument, by currency): market value in account currency and % of the account value."""
    total = snapshot.account.total_value or 0.0
    frame = pd.DataFrame([{
        "Instrument": p.short_name,
        "Currency": EXPOSURE.get(p.currency.upper(), p.currency.upper()),
        "Value": p.market_value or 0.0,
    } for p in snapshot.positions], columns=["Instrument", "Currency", "Value"])
    by_inst = frame.groupby("Instrument", as_index=False)["Value"].sum()
    by_ccy = frame.groupby("Currency", as_index=False)["Value"].sum()
    for part in (by_inst, by_ccy):
        part["% of account"] = part["Value"] / total * 100 if total else 0.0
    return (by_inst.sort_values("Value", ascending=False, ignore_index=True),
            by_ccy.sort_values("Value", ascending=False, ignore_index=True))


def journal_config() -> dict[str, object]:
    cc = st.column_config
    return {
        "time": cc.DatetimeColumn("Time (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        "kind": cc.TextColumn("Kind"),
        "ticker": cc.TextColumn("Ticker"),
        "action": cc.TextColumn("Action"),
        "message": cc.TextColumn("Message", width="large"),
    }


def show_journal(events: pd.DataFrame | None, err: str | None, empty: str) -> None:
    """The journal table (Home and Activity), or why it cannot be shown."""
    if err:
        st.warning(err)
    elif events is None or events.empty:
        st.caption(empty)
    else:
        dataframe(events[["time", "kind", "ticker", "action", "message"]], column_config=journal_config())


def no_market_data_frame(snapshot: Snapshot | None) -> pd.DataFrame:
    """The positions without market data (no Yahoo symbol, or no bars for it) and why (Settings page)."""
    rows = [{"T212 ticker": p.ticker, "Name": p.name, "Yahoo symbol": p.yahoo_symbol or MISSING,
             "Why": text(p.market_data_note)}
            for p in (snapshot.positions if snapshot else ()) if p.market_data_note]
    return pd.DataFrame(rows, columns=["T212 ticker", "Name", "Yahoo symbol", "Why"])
