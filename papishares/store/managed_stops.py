"""The SELL STOP orders Papishares keeps at the broker (`managed_stops`, one per position at most)
and the positions left out of them (`broker_stop_exclusions`), per account."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from papishares.store.db import Store


def rows(store: Store) -> dict[str, dict[str, Any]]:
    return {r["ticker"]: r for r in store.query(
        "SELECT ticker, order_id, stop_price, quantity, position_quantity, placed_at, moved_at FROM managed_stops "
        "WHERE account = ?", (store.account,))}


def order_ids(store: Store) -> frozenset[int]:
    return frozenset(int(r[0]) for r in store.execute("SELECT order_id FROM managed_stops WHERE account = ?",
                                                      (store.account,)))


def has(store: Store, ticker: str, order_id: int | None = None) -> bool:
    """A managed stop for `ticker` (that one order when `order_id` is given)."""
    if order_id is None:
        return bool(store.execute("SELECT 1 FROM managed_stops WHERE account = ? AND ticker = ?",
                                  (store.account, ticker)))
    return bool(store.execute("SELECT 1 FROM managed_stops WHERE account = ? AND ticker = ? AND order_id = ?",
                              (store.account, ticker, order_id)))


def record(store: Store, ticker: str, order_id: int, stop_price: float, quantity: float,
           position_quantity: float, at: float) -> None:
    """The one managed stop of `ticker` (replaces any earlier row)."""
    store.execute(
        "INSERT OR REPLACE INTO managed_stops (account, ticker, order_id, stop_price, quantity, position_quantity, "
        "placed_at, moved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (store.account, ticker, order_id, stop_price, quantity, position_quantity, at, at))


def forget(store: Store, ticker: str, order_id: int) -> None:
    store.execute("DELETE FROM managed_stops WHERE account = ? AND ticker = ? AND order_id = ?",
                  (store.account, ticker, order_id))


def exclusions(store: Store) -> dict[str, dict[str, Any]]:
    return {r["ticker"]: r for r in store.query(
        "SELECT ticker, reason, since FROM broker_stop_exclusions WHERE account = ? ORDER BY since", (store.account,))}


def exclude(store: Store, ticker: str, reason: str, since: float) -> None:
    store.execute("INSERT INTO broker_stop_exclusions (account, ticker, reason, since) VALUES (?, ?, ?, ?) "
                  "ON CONFLICT(account, ticker) DO UPDATE SET reason = excluded.reason, since = excluded.since",
                  (store.account, ticker, reason, since))


def include(store: Store, ticker: str) -> bool:
    """Take a position back in; False when it was not left out."""
    return bool(store.execute("DELETE FROM broker_stop_exclusions WHERE account = ? AND ticker = ? RETURNING ticker",
                              (store.account, ticker)))
