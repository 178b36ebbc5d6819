"""The one SQLite file shared by the dashboard, the CLI and the worker.

WAL mode and a busy timeout let several processes use it at once. The schema is versioned with
`PRAGMA user_version`; `MIGRATIONS[i]` upgrades version i to i+1, so an older file upgrades in
place when opened. Updates that two processes could race on (high-water marks, stops, flags,
leases) are single statements or `BEGIN IMMEDIATE` transactions.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from papishares.core import units

BUSY_TIMEOUT_MS = 15000
CLOSED_GRACE_S = 60.0  # how long a position may be missing from the broker's answers before its state goes

MIGRATIONS: list[str] = [
    # 0 -> 1: the base schema
    """
    CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT, updated_at REAL);
    CREATE TABLE http_cache (endpoint TEXT PRIMARY KEY, body TEXT, status INTEGER, fetched_at REAL);
    CREATE TABLE rate_log (endpoint TEXT NOT NULL, ts REAL NOT NULL);
    CREATE INDEX rate_log_endpoint_ts ON rate_log (endpoint, ts);
    CREATE TABLE rate_block (endpoint TEXT PRIMARY KEY, until REAL NOT NULL);
    CREATE TABLE instruments (
        ticker TEXT PRIMARY KEY, name TEXT, short_name TEXT, currency TEXT, type TEXT, isin TEXT,
        working_schedule_id INTEGER, max_open_quantity REAL, extended_hours INTEGER, fetched_at REAL);
    CREATE TABLE exchanges (id INTEGER PRIMARY KEY, name TEXT, schedules TEXT, fetched_at REAL);
    CREATE TABLE position_state (
        ticker TEXT PRIMARY KEY, quantity REAL, average_price REAL, max_price REAL,
        stop_price REAL, stop_quantity REAL, last_price REAL, prev_price REAL,
        last_price_at REAL, opened_at REAL, updated_at REAL);
    CREATE TABLE bars (
        symbol TEXT NOT NULL, date TEXT NOT NULL, open REAL, high REAL, low REAL, close REAL,
        volume REAL, PRIMARY KEY (symbol, date));
    CREATE TABLE bars_meta (
        symbol TEXT PRIMARY KEY, source TEXT, source_currency TEXT, quote_currency TEXT,
        scale REAL, fetched_at REAL, error TEXT);
    CREATE TABLE symbol_overrides (ticker TEXT PRIMARY KEY, symbol TEXT NOT NULL, updated_at REAL);
    CREATE TABLE journal (
        id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, kind TEXT NOT NULL, ticker TEXT,
        action TEXT, message TEXT, data TEXT);
    CREATE INDEX journal_ts ON journal (ts);
    CREATE TABLE alert_keys (key TEXT PRIMARY KEY, created_at REAL);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT, created_at REAL NOT NULL, channel TEXT NOT NULL,
        text TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER DEFAULT 0,
        next_attempt_at REAL DEFAULT 0, sent_at REAL, last_error TEXT);
    CREATE TABLE sell_intents (
        id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, ticker TEXT NOT NULL,
        quantity REAL NOT NULL, price REAL, stop REAL, status TEXT NOT NULL,
        broker_order_id INTEGER, created_at REAL NOT NULL, updated_at REAL, detail TEXT);
    CREATE TABLE held_tickers (ticker TEXT PRIMARY KEY, reason TEXT, since REAL);
    CREATE TABLE lease (
        name TEXT PRIMARY KEY, owner TEXT NOT NULL, acquired_at REAL, expires_at REAL,
        heartbeat_at REAL, info TEXT);
    CREATE TABLE snapshots (key TEXT PRIMARY KEY, generated_at REAL, body TEXT);
    CREATE TABLE demo_kv (key TEXT PRIMARY KEY, value TEXT);
    CREATE TABLE demo_positions (
        ticker TEXT PRIMARY KEY, quantity REAL NOT NULL, quantity_in_pies REAL DEFAULT 0,
        average_price REAL NOT NULL, created_at REAL);
    CREATE TABLE demo_orders (
        id INTEGER PRIMARY KEY AUTOINCREMENT, ticker TEXT NOT NULL, type TEXT NOT NULL,
        status TEXT NOT NULL, quantity REAL NOT NULL, limit_price REAL, stop_price REAL,
        created_at REAL, filled_at REAL, fill_price REAL, filled_quantity REAL DEFAULT 0);
    """,
    # 1 -> 2: breach counting for the one-sell-per-breach rule, and the entries watchlist
    """
    ALTER TABLE position_state ADD COLUMN breach_count INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE position_state ADD COLUMN breached INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE watchlist (symbol TEXT PRIMARY KEY, added_at REAL);
    """,
    # 2 -> 3: a position missing from one answer is not forgotten at once (a transient empty list
    # must not wipe high-water marks and stops)
    """
    ALTER TABLE position_state ADD COLUMN missing_since REAL;
    """,
    # 3 -> 4: real accounts (issue 9): learned quantity precision, per-item data notes
    """
    """,
    # 4 -> 5: the order journal and managed stops at the broker (issue 10). Every order request
    # (market sell, stop placement, stop cancel) is one `sell_intents` row of its `kind`;
    # `managed_stops` holds the one SELL STOP Papishares keeps per position; exclusions are
    # positions the user (or a cancel outside Papishares) left out.
    """
    ALTER TABLE sell_intents ADD COLUMN kind TEXT NOT NULL DEFAULT 'market_sell';
    ALTER TABLE sell_intents ADD COLUMN origin TEXT NOT NULL DEFAULT 'auto-sell';
    ALTER TABLE sell_intents ADD COLUMN stop_price REAL;
    CREATE INDEX sell_intents_ticker_status ON sell_intents (ticker, status);
    CREATE TABLE managed_stops (
        ticker TEXT PRIMARY KEY, order_id INTEGER NOT NULL, stop_price REAL NOT NULL, quantity REAL NOT NULL,
        position_quantity REAL, placed_at REAL NOT NULL, moved_at REAL);
    CREATE TABLE broker_stop_exclusions (ticker TEXT PRIMARY KEY, reason TEXT, since REAL);
    """,
    # 5 -> 6: history: orders, dividends, transactions, trades, daily values (issue 11)
    """
    CREATE TABLE hist_orders (
        id TEXT PRIMARY KEY, ticker TEXT, side TEXT, type TEXT, status TEXT, quantity REAL,
        filled_quantity REAL, price REAL, currency TEXT, filled_at REAL, created_at REAL,
        net_value REAL, realised_pnl REAL, fx_rate REAL, initiated_from TEXT, body TEXT);
    CREATE INDEX hist_orders_ticker ON hist_orders (ticker, filled_at);
    CREATE TABLE hist_dividends (
        id TEXT PRIMARY KEY, ticker TEXT, paid_on REAL, amount REAL, currency TEXT, quantity REAL,
        gross_per_share REAL, ticker_currency TEXT, type TEXT, body TEXT);
    CREATE TABLE hist_transactions (
        id TEXT PRIMARY KEY, type TEXT, amount REAL, currency TEXT, at REAL, body TEXT);
    CREATE TABLE hist_sync (
        kind TEXT PRIMARY KEY, mode TEXT NOT NULL DEFAULT 'backfill', next_path TEXT,
        complete_at REAL, pages INTEGER DEFAULT 0, items INTEGER DEFAULT 0, failures INTEGER DEFAULT 0,
        note TEXT, updated_at REAL);
    CREATE TABLE daily_values (
        date TEXT PRIMARY KEY, total_value REAL, cash REAL, invested REAL, total_risk_pct REAL,
        threshold_pct REAL, currency TEXT, source TEXT, updated_at REAL);
    CREATE TABLE initial_risk (
        ticker TEXT NOT NULL, opened_at REAL NOT NULL, first_seen REAL, average_price REAL, stop REAL,
        quantity REAL, fx REAL, risk REAL, currency TEXT, PRIMARY KEY (ticker, opened_at));
    """,
    # 6 -> 7: Telegram commands and dashboard sign-in (issue 12): confirmation buttons, sells the
    # user asked for by /sell (executed by the lease holder), silent alerts
    """
    CREATE TABLE tg_confirmations (
        id TEXT PRIMARY KEY, action TEXT NOT NULL, ticker TEXT, chat_id TEXT, user_id TEXT,
        message_id INTEGER, created_at REAL NOT NULL, expires_at REAL NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending');
    CREATE TABLE manual_sells (
        key TEXT PRIMARY KEY, ticker TEXT NOT NULL, chat_id TEXT, message_id INTEGER,
        status TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL, note TEXT,
        reported INTEGER NOT NULL DEFAULT 0);
    ALTER TABLE outbox ADD COLUMN silent INTEGER NOT NULL DEFAULT 0;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class PriceRecord:
    """What the store holds for an open position after recording a new price."""

    max_price: float
    prev_price: float | None  # the price recorded before this one (for the >50% move rule)


class Store:
    """Thread-safe access to the SQLite file (one connection, serialised by a lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        conn = sqlite3.connect(
            str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _enable_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        self.db = sqlite_utils.Database(conn)
        self.conn = conn
        self._lock = threading.RLock()
        self.migrate()

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    # -- transactions ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """`BEGIN IMMEDIATE`: the write lock is taken at once, so read-then-write cannot race."""
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")

    def execute(self, sql: str, params: Any = ()) -> list[sqlite3.Row | tuple]:
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self.conn.execute(sql, params)
            cols = [c[0] for c in cur.description or ()]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def schema_version(self) -> int:
        return int(self.execute("PRAGMA user_version")[0][0])

    def migrate(self) -> None:
        with self.transaction() as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"the database {self.path} was written by a newer Papishares (schema {version})"
                )
            for step in range(version, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[step]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {step + 1}")

    # -- key/value flags ------------------------------------------------------------------------
    def get(self, key: str, default: str | None = None) -> str | None:
        rows = self.execute("SELECT value FROM kv WHERE key = ?", (key,))
        return rows[0][0] if rows else default

    def set(self, key: str, value: str) -> None:
        self.execute(
            "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (key, value, time.time()),
        )

    def get_json(self, key: str) -> Any:
        raw = self.get(key)
        return None if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any) -> None:
        self.set(key, json.dumps(value))

    @property
    def autosell_enabled(self) -> bool:
        return self.get("autosell") == "on"

    def set_autosell(self, enabled: bool) -> None:
        self.set("autosell", "on" if enabled else "off")
        self.journal("autosell", None, "on" if enabled else "off",
                     "Auto-sell switched " + ("on" if enabled else "off"))

    # -- journal (Activity page) ----------------------------------------------------------------
    def journal(self, kind: str, ticker: str | None, action: str, message: str,
                data: dict[str, Any] | None = None) -> int:
        with self._lock:
            cur = self.conn.execute(
                "INSERT INTO journal (ts, kind, ticker, action, message, data) VALUES (?, ?, ?, ?, ?, ?)",
                (time.time(), kind, ticker, action, message, json.dumps(data) if data else None),
            )
            return int(cur.lastrowid or 0)

    def journal_entries(self, limit: int = 200, kind: str | None = None) -> list[dict[str, Any]]:
        if kind:
            return self.query("SELECT * FROM journal WHERE kind = ? ORDER BY id DESC LIMIT ?", (kind, limit))
        return self.query("SELECT * FROM journal ORDER BY id DESC LIMIT ?", (limit,))

    # -- position state: high-water marks and ratcheted stops ------------------------------------
    def record_price(self, ticker: str, quantity: float, average_price: float, price: float,
                     now: float | None = None, opened_at: float | None = None,
                     fetched_at: float | None = None) -> PriceRecord:
        """Record a price seen for an open position; raise its high-water mark atomically.

        A price about 100x away from the average price (`units.units_mismatch`: pence against
        pounds) never enters the high-water mark, not even on first sight or when seen again.
        A price more than 50% away from the last recorded one does not raise the high-water mark
        until it is seen again in a LATER broker answer (`fetched_at`; the same cached answer read
        twice confirms nothing): a pence/pounds mix-up must never lift a stop 100x. Nor does a price
        (or an average price) about 100x away from the stored high-water mark, even when the price and
        the average agree with each other: the stored stop stands in the high's units. `opened_at` is
        the broker's creation time of the position: one created after the stored state began is a
        new position (sold and bought back between two looks), so its state starts afresh.
        """
        now = time.time() if now is None else now
        if opened_at is not None:
            self.execute("DELETE FROM position_state WHERE ticker = ? AND opened_at IS NOT NULL AND opened_at < ?",
                         (ticker, opened_at - 1.0))
        self._follow_split(ticker, quantity, average_price, now)
        row = self.execute(
            """
            INSERT INTO position_state (ticker, quantity, average_price, max_price, last_price,
                                        prev_price, last_price_at, opened_at, updated_at)
            VALUES (:t, :q, :avg, CASE WHEN :lift THEN max(:price, :avg) ELSE :avg END, :price, NULL, :fetched,
                    :opened, :now)
            ON CONFLICT(ticker) DO UPDATE SET
                max_price = CASE
                    WHEN position_state.max_price > 0 AND excluded.last_price > 0
                      AND max(excluded.last_price / position_state.max_price,
                              position_state.max_price / excluded.last_price) >= :units
                    THEN position_state.max_price  -- a price in other units than the stored high: kept
                    WHEN NOT :lift
                      OR (excluded.last_price_at > coalesce(position_state.last_price_at, 0)
                          AND position_state.last_price > 0
                          AND abs(excluded.last_price / position_state.last_price - 1) > :move)
                      OR (excluded.last_price_at <= coalesce(position_state.last_price_at, 0)
                          AND position_state.prev_price > 0
                          AND abs(excluded.last_price / position_state.prev_price - 1) > :move)
                    THEN max(position_state.max_price, CASE WHEN position_state.max_price > 0
                        AND excluded.average_price > 0
                        AND max(excluded.average_price / position_state.max_price,
                                position_state.max_price / excluded.average_price) >= :units
                        THEN 0 ELSE excluded.average_price END)  -- nor an average in other units
                    ELSE max(position_state.max_price, excluded.max_price) END,
                prev_price = CASE WHEN excluded.last_price_at > coalesce(position_state.last_price_at, 0)
                    THEN position_state.last_price ELSE position_state.prev_price END,
                last_price = CASE WHEN excluded.last_price_at > coalesce(position_state.last_price_at, 0)
                    THEN excluded.last_price ELSE position_state.last_price END,
                last_price_at = max(coalesce(position_state.last_price_at, 0), excluded.last_price_at),
                quantity = excluded.quantity,
                average_price = excluded.average_price,
                missing_since = NULL,
                updated_at = excluded.updated_at
            RETURNING max_price, prev_price
            """,
            {"t": ticker, "q": quantity, "avg": average_price, "price": price, "now": now,
             "move": units.SUSPECT_MOVE, "units": units.UNITS_RATIO,
             "lift": int(not units.units_mismatch(price, average_price)),
             "opened": now if opened_at is None else opened_at,
             "fetched": now if fetched_at is None else fetched_at},
        )
        max_price, prev = row[0]
        return PriceRecord(float(max_price), None if prev is None else float(prev))

    def _follow_split(self, ticker: str, quantity: float, average_price: float, now: float) -> None:
        """A stock split seen between two answers (quantity x r, average / r: `units.split_factor`)
        scales the stored high-water mark, prices and stop into the new scale, so the split is
        neither a fall through the stop (a sale) nor a stop left far below the price."""
        select = "SELECT quantity, average_price, max_price, stop_price FROM position_state WHERE ticker = ?"

        def factor_of(old: Any) -> float | None:
            return None if old is None else units.split_factor(old[0], old[1], quantity, average_price)

        rows = self.execute(select, (ticker,))  # the hot path: a read, no write lock, unless a split shows
        if factor_of(rows[0] if rows else None) is None:
            return
        with self.transaction() as conn:  # seen again under the lock: the dashboard and the worker scale once
            old = conn.execute(select, (ticker,)).fetchone()
            factor = factor_of(old)
            if factor is None:
                return
            conn.execute("UPDATE position_state SET max_price = max_price * :f, last_price = last_price * :f, "
                         "prev_price = prev_price * :f, stop_price = stop_price * :f, stop_quantity = :q, "
                         "quantity = :q, average_price = :avg WHERE ticker = :t",
                         {"f": factor, "q": quantity, "avg": average_price, "t": ticker})
            ratio = f"{1 / factor:g}:1" if factor < 1 else f"1:{factor:g}"
            conn.execute("INSERT INTO journal (ts, kind, ticker, action, message, data) VALUES (?, ?, ?, ?, ?, ?)",
                         (now, "position", ticker, "split",
                          f"{ticker}: a {ratio} split (quantity {old[0]:g} -> {quantity:g}, average {old[1]:g} -> "
                          f"{average_price:g}): the high-water mark and the stop are scaled with it",
                          json.dumps({"factor": factor, "max_price": old[2], "stop_price": old[3]})))

    def ratchet_stop(self, ticker: str, quantity: float, stop: float | None) -> float | None:
        """Store a newly computed stop; it never moves down while the quantity is unchanged.

        Returns the stop in force. `None` in, with no stored stop for this quantity, stays `None`.
        """
        row = self.execute(
            """
            UPDATE position_state SET
                stop_price = CASE
                    WHEN stop_quantity = :q AND stop_price IS NOT NULL
                    THEN max(stop_price, coalesce(:stop, stop_price))
                    ELSE :stop END,
                stop_quantity = :q
            WHERE ticker = :t
            RETURNING stop_price
            """,
            {"t": ticker, "q": quantity, "stop": stop},
        )
        if not row:
            return stop
        return None if row[0][0] is None else float(row[0][0])

    def position_states(self) -> dict[str, dict[str, Any]]:
        return {r["ticker"]: r for r in self.query("SELECT * FROM position_state")}

    def forget_closed_positions(self, open_tickers: AbstractSet[str], now: float | None = None,
                                grace: float = CLOSED_GRACE_S) -> list[str]:
        """Drop the state of positions missing from the broker's answers for longer than `grace`.

        A reopened position starts afresh (see `record_price`); one missing from a single answer
        keeps its high-water mark and stop. Returns the tickers dropped.
        """
        now = time.time() if now is None else now
        with self.transaction() as conn:
            stored = {r[0] for r in conn.execute("SELECT ticker FROM position_state")}
            for ticker in stored - open_tickers:
                conn.execute("UPDATE position_state SET missing_since = ? WHERE ticker = ? AND missing_since IS NULL",
                             (now, ticker))
            gone = [r[0] for r in conn.execute(
                "DELETE FROM position_state WHERE missing_since IS NOT NULL AND missing_since <= ? RETURNING ticker",
                (now - grace,)).fetchall()]
        return sorted(gone)

    # -- symbol overrides -----------------------------------------------------------------------
    def symbol_overrides(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self.execute("SELECT ticker, symbol FROM symbol_overrides")}

    def set_symbol_override(self, ticker: str, symbol: str | None) -> None:
        if not symbol:
            self.execute("DELETE FROM symbol_overrides WHERE ticker = ?", (ticker,))
            return
        self.execute(
            "INSERT INTO symbol_overrides (ticker, symbol, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(ticker) DO UPDATE SET symbol = excluded.symbol, updated_at = excluded.updated_at",
            (ticker, symbol.strip(), time.time()),
        )


def _enable_wal(conn: sqlite3.Connection, attempts: int = 100) -> None:
    """Switch a new file to WAL. The switch needs the file to itself and ignores the busy timeout,
    so when the dashboard and the worker create the file together one of them retries briefly."""
    for attempt in range(attempts):
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def open_store(path: str | Path) -> Store:
    return Store(path)
