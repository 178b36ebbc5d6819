"""The built-in demo broker's simulated account (`demo_kv`, `demo_positions`, `demo_orders`), per
account: each account the demo simulates is its own. Order ids count up across accounts, as a
broker's do, so a journal entry never names two orders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from papishares.store.db import Store

SEEDED_AT = "seeded_at"  # demo_kv keys: when the account was seeded, its cash, realised P&L, seed, last settlement
CASH = "cash"
REALISED = "realised"
SEED = "seed"
SETTLED_AT = "settled_at"
PENDING = ("NEW", "CONFIRMED")


def reset(store: Store) -> None:
    """Forget the account's simulated state (not other accounts')."""
    with store.transaction():
        for table in ("demo_kv", "demo_positions", "demo_orders"):
            store.execute(f"DELETE FROM {table} WHERE account = ?", (store.account,))  # noqa: S608 - fixed names


def get(store: Store, key: str) -> str | None:
    rows = store.execute("SELECT value FROM demo_kv WHERE account = ? AND key = ?", (store.account, key))
    return None if not rows else rows[0][0]


def put(store: Store, key: str, value: Any) -> None:
    store.execute("INSERT INTO demo_kv (account, key, value) VALUES (?, ?, ?) "
                  "ON CONFLICT(account, key) DO UPDATE SET value = excluded.value", (store.account, key, str(value)))


# -- positions ------------------------------------------------------------------------------------
def positions(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT ticker, quantity, quantity_in_pies, average_price, created_at FROM demo_positions "
                       "WHERE account = ? ORDER BY ticker", (store.account,))


def position(store: Store, ticker: str) -> tuple[float, float] | None:
    """(quantity, average price) held of `ticker`."""
    rows = store.execute("SELECT quantity, average_price FROM demo_positions WHERE account = ? AND ticker = ?",
                         (store.account, ticker))
    return (float(rows[0][0]), float(rows[0][1])) if rows else None


def seed_position(store: Store, ticker: str, quantity: float, in_pies: float, average_price: float,
                  created_at: float) -> None:
    store.execute("INSERT OR REPLACE INTO demo_positions (account, ticker, quantity, quantity_in_pies, average_price, "
                  "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                  (store.account, ticker, quantity, in_pies, average_price, created_at))


def buy_into(store: Store, ticker: str, quantity: float, average_price: float, at: float) -> None:
    """The position after a buy: its new quantity and average (created at `at` when new)."""
    store.execute("INSERT INTO demo_positions (account, ticker, quantity, quantity_in_pies, average_price, created_at) "
                  "VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT(account, ticker) DO UPDATE SET "
                  "quantity = excluded.quantity, average_price = excluded.average_price",
                  (store.account, ticker, quantity, average_price, at))


def set_quantity(store: Store, ticker: str, quantity: float) -> None:
    store.execute("UPDATE demo_positions SET quantity = ? WHERE account = ? AND ticker = ?",
                  (quantity, store.account, ticker))


def close_position(store: Store, ticker: str) -> None:
    store.execute("DELETE FROM demo_positions WHERE account = ? AND ticker = ?", (store.account, ticker))


# -- orders ---------------------------------------------------------------------------------------
def add_order(store: Store, ticker: str, type_: str, quantity: float, at: float,
              stop: float | None = None, limit: float | None = None) -> int:
    return store.inserted("INSERT INTO demo_orders (account, ticker, type, status, quantity, limit_price, stop_price, "
                          "created_at) VALUES (?, ?, ?, 'NEW', ?, ?, ?, ?)",
                          (store.account, ticker, type_, quantity, limit, stop, at))


_ORDER = ("id, ticker, type, status, quantity, limit_price, stop_price, created_at, filled_at, fill_price, "
          "filled_quantity")


def order(store: Store, order_id: int, pending_only: bool = False) -> dict[str, Any] | None:
    extra = " AND status IN ('NEW', 'CONFIRMED')" if pending_only else ""
    rows = store.query(f"SELECT {_ORDER} FROM demo_orders WHERE account = ? AND id = ?{extra}",  # noqa: S608
                       (store.account, order_id))
    return rows[0] if rows else None


def pending_orders(store: Store) -> list[dict[str, Any]]:
    return store.query(f"SELECT {_ORDER} FROM demo_orders WHERE account = ? AND status IN ('NEW', 'CONFIRMED') "  # noqa: S608
                       "ORDER BY id", (store.account,))


def recent_orders(store: Store, limit: int) -> list[dict[str, Any]]:
    """Every order, newest first."""
    return store.query(f"SELECT {_ORDER} FROM demo_orders WHERE account = ? ORDER BY id DESC LIMIT ?",  # noqa: S608
                       (store.account, limit))


def filled_orders(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT id, ticker, quantity, fill_price, filled_at FROM demo_orders WHERE account = ? "
                       "AND status = 'FILLED' AND fill_price IS NOT NULL", (store.account,))


def reserved_by_sells(store: Store) -> dict[str, float]:
    """Shares each pending sell order holds, by ticker."""
    return {r[0]: float(r[1]) for r in store.execute(
        "SELECT ticker, -sum(quantity) FROM demo_orders WHERE account = ? AND status IN ('NEW', 'CONFIRMED') "
        "AND quantity < 0 GROUP BY ticker", (store.account,))}


def fill(store: Store, order_id: int, at: float, price: float, quantity: float) -> None:
    store.execute("UPDATE demo_orders SET status = 'FILLED', filled_at = ?, fill_price = ?, filled_quantity = ? "
                  "WHERE account = ? AND id = ?", (at, price, quantity, store.account, order_id))


def end(store: Store, order_id: int, status: str, at: float) -> None:
    store.execute("UPDATE demo_orders SET status = ?, filled_at = ? WHERE account = ? AND id = ?",
                  (status, at, store.account, order_id))


def cancel(store: Store, order_id: int, at: float) -> bool:
    """Cancel a pending order; False when it is not pending."""
    return store.changed("UPDATE demo_orders SET status = 'CANCELLED', filled_at = ? WHERE account = ? AND id = ? "
                         "AND status IN ('NEW', 'CONFIRMED')", (at, store.account, order_id)) > 0
