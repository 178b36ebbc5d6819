"""The one SQLite file shared by the dashboard, the CLI and the worker: the connection and its door.

WAL mode and a busy timeout let several processes use it at once. The schema (`schema.py`) is
upgraded in place when a file is opened. Updates that two processes could race on (high-water
marks, stops, flags, leases) are single statements or `BEGIN IMMEDIATE` transactions.

A `Store` is opened for one account: every per-account row it reads or writes is that account's,
so callers never pass the account. Each concern's statements live in its own module of this
package (`positions`, `intents`, `outbox`, `history`, ...), as functions of the `Store`; those
functions call `execute` / `query`, which join the caller's `transaction()` when one is open on
this thread (one connection, one re-entrant lock).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from papishares.store import positions
from papishares.store.keys import SHARED, Key, is_shared
from papishares.store.positions import CLOSED_GRACE_S, PriceRecord
from papishares.store.schema import SCHEMA_VERSION, rename_account, upgrade

__all__ = ["BUSY_TIMEOUT_MS", "CLOSED_GRACE_S", "DEFAULT_ACCOUNT", "PriceRecord", "SCHEMA_VERSION", "Store"]

BUSY_TIMEOUT_MS = 15000
DEFAULT_ACCOUNT = "invest"  # one account named after PAPISHARES_ACCOUNT_TYPE, `invest` by default
ACCOUNT_NAME = re.compile(r"[a-z0-9_]+")


class Store:
    """Thread-safe access to the SQLite file for one account (one connection, serialised by a lock)."""

    def __init__(self, path: str | Path, account: str = DEFAULT_ACCOUNT, *, sole: bool = False) -> None:
        """`sole`: this is the file's only account, so rows kept under an earlier name of it (the
        account type changed) are its own: they follow the new name instead of vanishing from view."""
        if not ACCOUNT_NAME.fullmatch(account):
            raise ValueError(f"an account name is lowercase letters, digits and _, not {account!r}")
        self.path = Path(path)
        self.account = account
        conn = sqlite3.connect(
            str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _enable_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        self.conn = conn
        self._lock = threading.RLock()
        self._depth = 0  # transactions open on the thread holding the lock
        self.migrate()
        if sole:
            self._adopt_earlier_name()

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    # -- transactions ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """`BEGIN IMMEDIATE`: the write lock is taken at once, so read-then-write cannot race.

        Opened again inside one on the same thread, it joins the outer one (which commits or rolls back).
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._depth = 0

    def execute(self, sql: str, params: Any = ()) -> list[Any]:
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self.conn.execute(sql, params)
            cols = [c[0] for c in cur.description or ()]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def changed(self, sql: str, params: Any = ()) -> int:
        """Run a write; the number of rows it changed."""
        with self._lock:
            return int(self.conn.execute(sql, params).rowcount)

    def inserted(self, sql: str, params: Any = ()) -> int:
        """Run an INSERT; the new row's id."""
        with self._lock:
            return int(self.conn.execute(sql, params).lastrowid or 0)

    def _adopt_earlier_name(self) -> None:
        """The one account's rows move to its current name when the file last knew it by another."""
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM kv WHERE account = ? AND key = ?",
                               (SHARED, Key.SOLE_ACCOUNT)).fetchone()
            earlier = row[0] if row else None
            if earlier == self.account:
                return
            if earlier:
                rename_account(conn, earlier, self.account)
            conn.execute("INSERT INTO kv (account, key, value, updated_at) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT(account, key) DO UPDATE SET value = excluded.value, "
                         "updated_at = excluded.updated_at", (SHARED, Key.SOLE_ACCOUNT, self.account, time.time()))

    def adopt_single_account(self, into: str | None = None) -> str | None:
        """Several accounts now share the file: the rows of the single-account set-up that came before
        (kept under the name in `store.sole_account`) become account `into`'s (the first account;
        default this store's), and the file no longer has a sole account. Any account's store may do
        it, once, before it reads. Returns the earlier name when there was one."""
        into = into or self.account
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM kv WHERE account = ? AND key = ?",
                               (SHARED, Key.SOLE_ACCOUNT)).fetchone()
            if row is None:
                return None
            earlier = str(row[0])
            if earlier and earlier != into:
                rename_account(conn, earlier, into, keep_existing=True)
            conn.execute("DELETE FROM kv WHERE account = ? AND key = ?", (SHARED, Key.SOLE_ACCOUNT))
            return earlier

    def schema_version(self) -> int:
        return int(self.execute("PRAGMA user_version")[0][0])

    def migrate(self) -> None:
        with self.transaction() as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"the database {self.path} was written by a newer Papishares (schema {version})"
                )
            upgrade(conn, version, self.account)

    # -- key/value state (keys: `keys.py`) ------------------------------------------------------
    def _owner(self, key: str) -> str:
        return SHARED if is_shared(key) else self.account

    def get(self, key: str, default: str | None = None) -> str | None:
        rows = self.execute("SELECT value FROM kv WHERE account = ? AND key = ?", (self._owner(key), key))
        return rows[0][0] if rows else default

    def set(self, key: str, value: str, at: float | None = None) -> None:
        self.execute(
            "INSERT INTO kv (account, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(account, key) "
            "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (self._owner(key), key, value, time.time() if at is None else at),
        )

    def delete(self, key: str) -> None:
        self.execute("DELETE FROM kv WHERE account = ? AND key = ?", (self._owner(key), key))

    def get_json(self, key: str) -> Any:
        raw = self.get(key)
        return None if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any) -> None:
        self.set(key, json.dumps(value))

    @property
    def autosell_enabled(self) -> bool:
        return self.get(Key.AUTOSELL) == "on"

    def set_autosell(self, enabled: bool) -> None:
        self.set(Key.AUTOSELL, "on" if enabled else "off")
        self.journal("autosell", None, "on" if enabled else "off",
                     "Auto-sell switched " + ("on" if enabled else "off"))

    # -- journal (Activity page) ----------------------------------------------------------------
    def journal(self, kind: str, ticker: str | None, action: str, message: str,
                data: dict[str, Any] | None = None, at: float | None = None) -> int:
        return self.inserted(
            "INSERT INTO journal (account, ts, kind, ticker, action, message, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self.account, time.time() if at is None else at, kind, ticker, action, message,
             json.dumps(data) if data else None))

    def journal_entries(self, limit: int = 200, kind: str | None = None) -> list[dict[str, Any]]:
        if kind:
            return self.query("SELECT * FROM journal WHERE account = ? AND kind = ? ORDER BY id DESC LIMIT ?",
                              (self.account, kind, limit))
        return self.query("SELECT * FROM journal WHERE account = ? ORDER BY id DESC LIMIT ?", (self.account, limit))

    def journal_kinds(self) -> list[str]:
        return [r[0] for r in self.execute("SELECT DISTINCT kind FROM journal WHERE account = ? ORDER BY kind",
                                           (self.account,))]

    # -- position state: high-water marks and ratcheted stops (`positions.py`) ------------------
    def record_price(self, ticker: str, quantity: float, average_price: float, price: float,
                     now: float | None = None, opened_at: float | None = None,
                     fetched_at: float | None = None) -> PriceRecord:
        return positions.record_price(self, ticker, quantity, average_price, price, now=now,
                                      opened_at=opened_at, fetched_at=fetched_at)

    def ratchet_stop(self, ticker: str, quantity: float, stop: float | None) -> float | None:
        return positions.ratchet_stop(self, ticker, quantity, stop)

    def position_states(self) -> dict[str, dict[str, Any]]:
        return positions.states(self)

    def forget_closed_positions(self, open_tickers: AbstractSet[str], now: float | None = None,
                                grace: float = CLOSED_GRACE_S) -> list[str]:
        return positions.forget_closed(self, open_tickers, now=now, grace=grace)

    # -- symbol overrides (shared: a ticker's market-data symbol is the same in every account) ---
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
