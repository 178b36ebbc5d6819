"""The history as every front end reads it (CLI, page, exports): rows from the store, joined."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from papishares.history import equity
from papishares.history.trades import (
    Trade,
    fills_from_rows,
    round_trips,
    split_adjusted,
    summary,
    with_exit_reasons,
    with_risk,
)
from papishares.store.db import Store

JOURNAL_KINDS = ("autosell", "brokerstop")


def _journal(store: Store) -> list[dict[str, Any]]:
    rows = store.query("SELECT ts, kind, ticker, action, data FROM journal WHERE kind IN (?, ?)", JOURNAL_KINDS)
    for r in rows:
        try:
            r["data"] = json.loads(r["data"]) if r["data"] else {}
        except ValueError:
            r["data"] = {}
    return rows


def _splits(store: Store) -> list[tuple[str, float, float]]:
    """The stock splits the store followed (journal kind `position`, action `split`)."""
    out = []
    for r in store.query("SELECT ts, ticker, data FROM journal WHERE kind = 'position' AND action = 'split'"):
        try:
            factor = float(json.loads(r["data"] or "{}").get("factor") or 0.0)
        except (ValueError, TypeError, AttributeError):
            continue
        if r["ticker"] and factor > 0:
            out.append((str(r["ticker"]), float(r["ts"]), factor))
    return out


def trades(store: Store) -> list[Trade]:
    fills = split_adjusted(fills_from_rows(store.query("SELECT * FROM hist_orders")), _splits(store))
    risks = store.query("SELECT ticker, opened_at, risk FROM initial_risk")
    return with_exit_reasons(with_risk(round_trips(fills), risks), _journal(store))


def trades_json(store: Store) -> dict[str, Any]:
    """`history trades --json` (INTERFACE.md): closed trades and their summary."""
    found = trades(store)
    return {"trades": [t.to_json() for t in found], "summary": summary(found)}


def trades_frame(store: Store) -> pd.DataFrame:
    rows = [t.to_json() for t in trades(store)]
    cols = ["ticker", "opened_at", "closed_at", "holding_days", "quantity", "entry_price", "exit_price",
            "currency", "realised_pnl", "initial_risk", "r_multiple", "exit_reason", "exit_order_id"]
    return pd.DataFrame(rows, columns=cols)


def daily_frame(store: Store) -> pd.DataFrame:
    """Daily points with the TWR index and drawdown (index: UTC day)."""
    rows = store.query("SELECT date, total_value, cash, invested, total_risk_pct, threshold_pct, currency "
                       "FROM daily_values ORDER BY date")
    frame = pd.DataFrame(rows, columns=["date", "total_value", "cash", "invested", "total_risk_pct",
                                        "threshold_pct", "currency"])
    frame.index = pd.to_datetime(frame["date"])
    if frame.empty:
        frame["flow"] = frame["twr"] = frame["drawdown"] = pd.Series(dtype=float)
        return frame
    flows = equity.daily_flows(store.query("SELECT type, amount, at FROM hist_transactions"))
    index = equity.twr_index(frame["total_value"], flows)
    frame["flow"] = flows.reindex(frame.index, fill_value=0.0)
    frame["twr"] = index
    frame["drawdown"] = equity.drawdown(index)
    return frame


def dividends_frame(store: Store) -> pd.DataFrame:
    rows = store.query("SELECT id, ticker, paid_on, amount, currency, quantity, gross_per_share, ticker_currency, "
                       "type FROM hist_dividends ORDER BY paid_on DESC")
    frame = pd.DataFrame(rows, columns=["id", "ticker", "paid_on", "amount", "currency", "quantity",
                                        "gross_per_share", "ticker_currency", "type"])
    frame["paid_on"] = pd.to_datetime(frame["paid_on"], unit="s", utc=True)
    return frame


def monthly_dividends(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=["month", "amount"])
    month = frame["paid_on"].dt.tz_localize(None).dt.to_period("M").dt.to_timestamp()
    return frame.groupby(month)["amount"].sum().rename_axis("month").reset_index()


def transactions_frame(store: Store) -> pd.DataFrame:
    rows = store.query("SELECT id, type, amount, currency, at FROM hist_transactions ORDER BY at DESC")
    frame = pd.DataFrame(rows, columns=["id", "type", "amount", "currency", "at"])
    frame["at"] = pd.to_datetime(frame["at"], unit="s", utc=True)
    return frame


def sync_status(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT kind, mode, next_path IS NOT NULL AS in_progress, complete_at, pages, items, note "
                       "FROM hist_sync ORDER BY kind")
