"""An account's history: the broker's orders, dividends and transactions as synced (`hist_*`), the
sync's progress (`hist_sync`), daily account values and each position's initial risk."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from papishares.store.db import Store

ITEM_TABLES = {"orders": "hist_orders", "dividends": "hist_dividends", "transactions": "hist_transactions"}
SYNC_FIELDS = ("kind", "mode", "next_path", "complete_at", "pages", "items", "failures", "note")


def _mine(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        row.pop("account", None)
    return rows


# -- synced items ---------------------------------------------------------------------------------
def upsert_items(store: Store, kind: str, rows: Iterable[dict[str, Any]]) -> int:
    """Insert or update items (rows keyed by `id`) of `kind`. Returns how many were new."""
    table = ITEM_TABLES[kind]
    new = 0
    with store.transaction():
        for row in rows:
            cols = list(row)
            if not store.execute(f"SELECT 1 FROM {table} WHERE account = ? AND id = ?",  # noqa: S608
                                 (store.account, row["id"])):
                new += 1
            store.execute(
                f"INSERT INTO {table} (account, {', '.join(cols)}) VALUES (?, {', '.join('?' for _ in cols)}) "  # noqa: S608
                f"ON CONFLICT(account, id) DO UPDATE SET "
                f"{', '.join(f'{c} = excluded.{c}' for c in cols if c != 'id')}",
                [store.account, *(row[c] for c in cols)])
    return new


def orders(store: Store) -> list[dict[str, Any]]:
    return _mine(store.query("SELECT * FROM hist_orders WHERE account = ?", (store.account,)))


def order(store: Store, order_id: str) -> dict[str, Any] | None:
    """The synced order `order_id`'s status and body."""
    rows = store.query("SELECT status, body FROM hist_orders WHERE account = ? AND id = ?", (store.account, order_id))
    return rows[0] if rows else None


def dividends(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT id, ticker, paid_on, amount, currency, quantity, gross_per_share, ticker_currency, "
                       "type FROM hist_dividends WHERE account = ? ORDER BY paid_on DESC", (store.account,))


def transactions(store: Store) -> list[dict[str, Any]]:
    """Newest first."""
    return store.query("SELECT id, type, amount, currency, at FROM hist_transactions WHERE account = ? "
                       "ORDER BY at DESC", (store.account,))


def flows(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT type, amount, at FROM hist_transactions WHERE account = ?", (store.account,))


# -- sync progress --------------------------------------------------------------------------------
def sync_state(store: Store, kind: str) -> dict[str, Any] | None:
    rows = _mine(store.query("SELECT * FROM hist_sync WHERE account = ? AND kind = ?", (store.account, kind)))
    return rows[0] if rows else None


def save_sync_state(store: Store, state: dict[str, Any], at: float) -> None:
    store.execute(
        "INSERT INTO hist_sync (account, kind, mode, next_path, complete_at, pages, items, failures, note, "
        "updated_at) VALUES (:account, :kind, :mode, :next_path, :complete_at, :pages, :items, :failures, :note, "
        ":now) ON CONFLICT(account, kind) DO UPDATE SET mode = excluded.mode, next_path = excluded.next_path, "
        "complete_at = excluded.complete_at, pages = excluded.pages, items = excluded.items, "
        "failures = excluded.failures, note = excluded.note, updated_at = excluded.updated_at",
        {**{k: state.get(k) for k in SYNC_FIELDS}, "now": at, "account": store.account})


def sync_status(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT kind, mode, next_path IS NOT NULL AS in_progress, complete_at, pages, items, note "
                       "FROM hist_sync WHERE account = ? ORDER BY kind", (store.account,))


# -- daily values ---------------------------------------------------------------------------------
def daily_values(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT date, total_value, cash, invested, total_risk_pct, threshold_pct, currency "
                       "FROM daily_values WHERE account = ? ORDER BY date", (store.account,))


def record_day(store: Store, date: str, total_value: float, cash: float, invested: float, total_risk_pct: float,
               threshold_pct: float, currency: str, at: float) -> None:
    """The day's point from a snapshot (a later snapshot of the day replaces it)."""
    store.execute(
        "INSERT INTO daily_values (account, date, total_value, cash, invested, total_risk_pct, threshold_pct, "
        "currency, source, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'snapshot', ?) "
        "ON CONFLICT(account, date) DO UPDATE SET "
        "total_value = excluded.total_value, cash = excluded.cash, invested = excluded.invested, "
        "total_risk_pct = excluded.total_risk_pct, threshold_pct = excluded.threshold_pct, "
        "currency = excluded.currency, source = 'snapshot', updated_at = excluded.updated_at "
        "WHERE excluded.updated_at >= coalesce(daily_values.updated_at, 0)",
        (store.account, date, total_value, cash, invested, total_risk_pct, threshold_pct, currency, at))


def add_days(store: Store, rows: Iterable[Sequence[Any]], source: str) -> None:
    """Points for days not recorded yet: (date, total_value, cash, invested, total_risk_pct,
    threshold_pct, currency, updated_at) rows; a day already there is kept."""
    with store.transaction() as conn:
        conn.executemany(
            "INSERT OR IGNORE INTO daily_values (account, date, total_value, cash, invested, total_risk_pct, "
            "threshold_pct, currency, source, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(store.account, *row[:7], source, row[7]) for row in rows])


# -- initial risk ---------------------------------------------------------------------------------
def initial_risks(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT ticker, opened_at, risk, stop FROM initial_risk WHERE account = ?", (store.account,))


def add_initial_risks(store: Store, rows: Iterable[Sequence[Any]]) -> None:
    """First looks: (ticker, opened_at, first_seen, average_price, stop, quantity, fx, risk, currency)
    rows; a position (ticker, opened_at) seen before keeps its first."""
    with store.transaction() as conn:
        conn.executemany(
            "INSERT OR IGNORE INTO initial_risk (account, ticker, opened_at, first_seen, average_price, stop, "
            "quantity, fx, risk, currency) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(store.account, *row) for row in rows])


# -- the journal's history lines ------------------------------------------------------------------
def journal_of_kinds(store: Store, kinds: Sequence[str]) -> list[dict[str, Any]]:
    marks = ",".join("?" * len(kinds))
    return store.query(f"SELECT ts, kind, ticker, action, data FROM journal WHERE account = ? "  # noqa: S608
                       f"AND kind IN ({marks})", (store.account, *kinds))


def splits(store: Store) -> list[dict[str, Any]]:
    """The stock splits the store followed (journal kind `position`, action `split`)."""
    return store.query("SELECT ts, ticker, data FROM journal WHERE account = ? AND kind = 'position' "
                       "AND action = 'split'", (store.account,))
