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
from papishares.store import history as history_store
from papishares.store.db import Store

JOURNAL_KINDS = ("autosell", "brokerstop")


def _journal(store: Store) -> list[dict[str, Any]]:
    rows = history_store.journal_of_kinds(store, JOURNAL_KINDS)
    for r in rows:
        try:
            r["data"] = json.loads(r["data"]) if r["data"] else {}
        except ValueError:
            r["data"] = {}
    return rows


def _splits(store: Store) -> list[tuple[str, float, float]]:
    """The stock splits the store followed (journal kind `position`, action `split`)."""
    out = []
    for r in history_store.splits(store):
        try:
            factor = float(json.loads(r["data"] or "{}").get("factor") or 0.0)
        except (ValueError, TypeError, AttributeError):
            continue
        if r["ticker"] and factor > 0:
            out.append((str(r["ticker"]), float(r["ts"]), factor))
    return out


def trades(store: Store) -> list[Trade]:
    fills = split_adjusted(fills_from_rows(history_store.orders(store)), _splits(store))
    risks = history_store.initial_risks(store)
    return with_exit_reasons(with_risk(round_trips(fills), risks), _journal(store))


def trades_json(store: Store, account: str | None = None) -> dict[str, Any]:
    """`history trades --json` (INTERFACE.md): closed trades and their summary. `account` (several
    accounts are configured): each trade carries its account's name."""
    found = trades(store)
    named = {"account": account} if account is not None else {}
    return {"trades": [{**t.to_json(), **named} for t in found], "summary": summary(found)}


def trades_frame(store: Store) -> pd.DataFrame:
    rows = [t.to_json() for t in trades(store)]
    cols = ["ticker", "opened_at", "closed_at", "holding_days", "quantity", "entry_price", "exit_price",
            "currency", "realised_pnl", "initial_risk", "r_multiple", "exit_reason", "exit_order_id"]
    return pd.DataFrame(rows, columns=cols)


def daily_frame(store: Store) -> pd.DataFrame:
    """Daily points with the TWR index and drawdown (index: UTC day)."""
    rows = history_store.daily_values(store)
    frame = pd.DataFrame(rows, columns=["date", "total_value", "cash", "invested", "total_risk_pct",
                                        "threshold_pct", "currency"])
    frame.index = pd.to_datetime(frame["date"])
    if frame.empty:
        frame["flow"] = frame["twr"] = frame["drawdown"] = pd.Series(dtype=float)
        return frame
    flows = equity.daily_flows(history_store.flows(store))
    index = equity.twr_index(frame["total_value"], flows)
    frame["flow"] = flows.reindex(frame.index, fill_value=0.0)
    frame["twr"] = index
    frame["drawdown"] = equity.drawdown(index)
    return frame


def dividends_frame(store: Store) -> pd.DataFrame:
    rows = history_store.dividends(store)
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
    rows = history_store.transactions(store)
    frame = pd.DataFrame(rows, columns=["id", "type", "amount", "currency", "at"])
    frame["at"] = pd.to_datetime(frame["at"], unit="s", utc=True)
    return frame


def sync_status(store: Store) -> list[dict[str, Any]]:
    return history_store.sync_status(store)
