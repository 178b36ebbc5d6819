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


def frames(store: Store) -> dict[str, pd.DataFrame]:
    """The export tables, times as ISO 8601 UTC text (spreadsheets and tax tools read them as such)."""
    daily = book.daily_frame(store).reset_index(drop=True)
    dividends = book.dividends_frame(store)
    transactions = book.transactions_frame(store)
    for frame, col in ((dividends, "paid_on"), (transactions, "at")):
        frame[col] = frame[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"trades": book.trades_frame(store), "dividends": dividends, "transactions": transactions,
            "daily": daily[["date", "total_value", "cash", "invested", "total_risk_pct", "threshold_pct",
                            "currency", "flow", "twr", "drawdown"]]}


def write_csv(store: Store, directory: str | Path) -> list[Path]:
    """trades.csv, dividends.csv, transactions.csv, daily.csv in `directory` (created if missing)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in frames(store).items():
        path = out / f"{name}.csv"
        frame.to_csv(path, index=False)
        written.append(path)
    return written


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def excel_bytes(store: Store) -> bytes:
    """One .xlsx (openpyxl) with a sheet per export table."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in frames(store).items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()
