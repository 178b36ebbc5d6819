"""The order journal's rows (`sell_intents`: one per order request, of its `kind`) and the tickers
held back from selling (`held_tickers`), per account. The decisions are in `papishares.orders`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from papishares.store.db import Store

UNSETTLED = ("intent", "unknown")


def unresolved(store: Store, kind: str | None = None) -> list[dict[str, Any]]:
    """Requests whose outcome is not settled, oldest first (of one `kind` when given)."""
    if kind is None:
        return store.query("SELECT * FROM sell_intents WHERE account = ? AND status IN ('intent', 'unknown') "
                           "ORDER BY id", (store.account,))
    return store.query("SELECT * FROM sell_intents WHERE account = ? AND status IN ('intent', 'unknown') "
                       "AND kind = ? ORDER BY id", (store.account, kind))


def busy(store: Store, ticker: str) -> bool:
    """An unsettled request of any kind, or a held sale, for `ticker`."""
    if store.execute("SELECT 1 FROM held_tickers WHERE account = ? AND ticker = ?", (store.account, ticker)):
        return True
    return bool(store.execute("SELECT 1 FROM sell_intents WHERE account = ? AND ticker = ? "
                              "AND status IN ('intent', 'unknown')", (store.account, ticker)))


def tickers_since(store: Store, moment: float) -> frozenset[str]:
    """Tickers with a request of any kind recorded at or after `moment`."""
    return frozenset(r[0] for r in store.execute(
        "SELECT DISTINCT ticker FROM sell_intents WHERE account = ? AND created_at >= ?", (store.account, moment)))


def record(store: Store, key: str, kind: str, ticker: str, quantity: float, *, origin: str, at: float,
           price: float | None = None, stop: float | None = None, stop_price: float | None = None,
           detail: dict[str, Any] | None = None, order_id: int | None = None) -> bool:
    """Insert the intent under `key`; False when the key was recorded already."""
    return store.changed(
        "INSERT OR IGNORE INTO sell_intents (account, key, ticker, quantity, price, stop, status, created_at, "
        "updated_at, detail, kind, origin, stop_price, broker_order_id) "
        "VALUES (?, ?, ?, ?, ?, ?, 'intent', ?, ?, ?, ?, ?, ?, ?)",
        (store.account, key, ticker, quantity, price, stop, at, at, json.dumps(detail or {}), kind, origin,
         stop_price, order_id)) == 1


def by_key(store: Store, key: str) -> dict[str, Any] | None:
    rows = store.query("SELECT * FROM sell_intents WHERE account = ? AND key = ?", (store.account, key))
    return rows[0] if rows else None


def existing_keys(store: Store, keys: list[str]) -> frozenset[str]:
    if not keys:
        return frozenset()
    marks = ",".join("?" * len(keys))
    return frozenset(r[0] for r in store.execute(
        f"SELECT key FROM sell_intents WHERE account = ? AND key IN ({marks})", [store.account, *keys]))  # noqa: S608


def set_status(store: Store, key: str, status: str, at: float, detail: dict[str, Any],
               order_id: int | None = None, quantity: float | None = None) -> None:
    store.execute(
        "UPDATE sell_intents SET status = ?, broker_order_id = coalesce(?, broker_order_id), "
        "quantity = coalesce(?, quantity), updated_at = ?, detail = ? WHERE account = ? AND key = ?",
        (status, order_id, quantity, at, json.dumps(detail), store.account, key))


def drop_unsent(store: Store, key: str) -> None:
    """Forget an intent proven never sent."""
    store.execute("DELETE FROM sell_intents WHERE account = ? AND key = ? AND status = 'intent'", (store.account, key))


def placed_order_ids(store: Store) -> frozenset[int]:
    """Broker ids of the requests recorded as placed."""
    return frozenset(int(r[0]) for r in store.execute(
        "SELECT broker_order_id FROM sell_intents WHERE account = ? AND status = 'placed' "
        "AND broker_order_id IS NOT NULL", (store.account,)))


def mark_filled(store: Store, kind: str, order_id: int, at: float) -> None:
    """The placed request of `kind` that became broker order `order_id` filled."""
    store.execute("UPDATE sell_intents SET status = 'filled', updated_at = ? WHERE account = ? AND kind = ? "
                  "AND broker_order_id = ? AND status = 'placed'", (at, store.account, kind, order_id))


# -- held tickers ---------------------------------------------------------------------------------
def held(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT ticker, reason, since FROM held_tickers WHERE account = ? ORDER BY since",
                       (store.account,))


def hold(store: Store, ticker: str, reason: str, since: float) -> None:
    store.execute("INSERT OR IGNORE INTO held_tickers (account, ticker, reason, since) VALUES (?, ?, ?, ?)",
                  (store.account, ticker, reason, since))


def rearm(store: Store, ticker: str, at: float) -> bool:
    """Release a held ticker: its unsettled or held requests become 'rearmed', its breach count
    goes up by one. False when nothing was held."""
    with store.transaction():
        if store.changed("DELETE FROM held_tickers WHERE account = ? AND ticker = ?", (store.account, ticker)) == 0:
            return False
        store.execute("UPDATE sell_intents SET status = 'rearmed', updated_at = ? WHERE account = ? AND ticker = ? "
                      "AND status IN ('intent', 'unknown', 'held')", (at, store.account, ticker))
        store.execute("UPDATE position_state SET breach_count = breach_count + 1 WHERE account = ? AND ticker = ?",
                      (store.account, ticker))
    return True
