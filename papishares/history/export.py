"""Exports: the four CSV files of `history export DIR` and one Excel workbook with the same sheets.

Every file has a header row first and one row per item, even when there are no items.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from papishares.history import book
from papishares.store.db import Store

FILES = ("trades", "dividends", "transactions", "daily")


def frames(store: Store, account: str | None = None) -> dict[str, pd.DataFrame]:
    """The export tables, times as ISO 8601 UTC text (spreadsheets and tax tools read them as such).
    `account` (several accounts are configured): every table starts with an `account` column."""
    daily = book.daily_frame(store).reset_index(drop=True)
    dividends = book.dividends_frame(store)
    transactions = book.transactions_frame(store)
    for frame, col in ((dividends, "paid_on"), (transactions, "at")):
        frame[col] = frame[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    tables = {"trades": book.trades_frame(store), "dividends": dividends, "transactions": transactions,
              "daily": daily[["date", "total_value", "cash", "invested", "total_risk_pct", "threshold_pct",
                              "currency", "flow", "twr", "drawdown"]]}
    if account is not None:
        for frame in tables.values():
            frame.insert(0, "account", pd.Series([account] * len(frame), index=frame.index, dtype=object))
    return tables


def write_csv(store: Store, directory: str | Path, account: str | None = None) -> list[Path]:
    """trades.csv, dividends.csv, transactions.csv, daily.csv in `directory` (created if missing)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in frames(store, account).items():
        path = out / f"{name}.csv"
        frame.to_csv(path, index=False)
        written.append(path)
    return written


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def excel_bytes(store: Store, account: str | None = None) -> bytes:
    """One .xlsx (openpyxl) with a sheet per export table."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in frames(store, account).items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()
