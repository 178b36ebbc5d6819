"""The entries watchlist (shared: market-data symbols, not an account's holdings)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from papishares.store.db import Store


def symbols(store: Store) -> list[str]:
    return [r[0] for r in store.execute("SELECT symbol FROM watchlist ORDER BY added_at, symbol")]


def add(store: Store, symbol: str, at: float) -> None:
    store.execute("INSERT OR IGNORE INTO watchlist (symbol, added_at) VALUES (?, ?)", (symbol, at))


def remove(store: Store, symbol: str) -> None:
    store.execute("DELETE FROM watchlist WHERE symbol = ?", (symbol,))
