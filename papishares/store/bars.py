"""The daily-bar cache (`bars`, `bars_meta`), shared by every account: a symbol's bars are the same
whoever holds it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from papishares.store.db import Store


def meta(store: Store, symbols: Sequence[str]) -> list[dict[str, Any]]:
    marks = ",".join("?" * len(symbols))
    return store.query(f"SELECT * FROM bars_meta WHERE symbol IN ({marks})", list(symbols))  # noqa: S608


def bars(store: Store, symbols: Sequence[str]) -> list[tuple[Any, ...]]:
    """(symbol, date, open, high, low, close, volume) rows, by symbol and date."""
    marks = ",".join("?" * len(symbols))
    return store.execute(f"SELECT symbol, date, open, high, low, close, volume FROM bars "  # noqa: S608
                         f"WHERE symbol IN ({marks}) ORDER BY symbol, date", list(symbols))


def replace_bars(store: Store, symbol: str, rows: Iterable[Sequence[Any]], source: str, quote_currency: str,
                 fetched_at: float) -> None:
    """A symbol's bars, (date, open, high, low, close, volume) rows, replace what was cached (joins the
    caller's transaction)."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM bars WHERE symbol = ?", (symbol,))
        conn.executemany("INSERT INTO bars (symbol, date, open, high, low, close, volume) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         [(symbol, *row) for row in rows])
        conn.execute("INSERT INTO bars_meta (symbol, source, quote_currency, fetched_at, error) "
                     "VALUES (?, ?, ?, ?, NULL) ON CONFLICT(symbol) DO UPDATE SET source = excluded.source, "
                     "quote_currency = excluded.quote_currency, fetched_at = excluded.fetched_at, error = NULL",
                     (symbol, source, quote_currency, fetched_at))


def note_error(store: Store, symbols: Sequence[str], note: str) -> None:
    marks = ",".join("?" * len(symbols))
    store.execute(f"UPDATE bars_meta SET error = ? WHERE symbol IN ({marks})", [note, *symbols])  # noqa: S608


def source_currency(store: Store, symbol: str) -> str | None:
    rows = store.execute("SELECT source_currency FROM bars_meta WHERE symbol = ?", (symbol,))
    return str(rows[0][0]) if rows and rows[0][0] else None


def set_source_currency(store: Store, symbol: str, source: str, currency: str) -> None:
    store.execute("INSERT INTO bars_meta (symbol, source, source_currency) VALUES (?, ?, ?) "
                  "ON CONFLICT(symbol) DO UPDATE SET source_currency = excluded.source_currency",
                  (symbol, source, currency))
