"""The schema: versioned with `PRAGMA user_version`, upgraded in place when a file is opened.

`STEPS[v]` upgrades version v - 1 to v. A step is an SQL script, or a function of the connection and
the account the file is opened for (a step that must fill rows with it). Version 4 changed nothing
(it shipped a bump alone), so it has no step: a file at 3 goes straight on to 5.

Version 8 gives every per-account row an `account` column (part of its key): the rows a file
already holds are the account it is opened for. The tables left without one hold what no one
account owns: the worker's lease, the bar cache, instruments and exchange schedules, symbol
overrides and the entries watchlist.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from papishares.store.keys import SHARED, is_shared

Step = str | Callable[[sqlite3.Connection, str], None]

# 0 -> 1: the base schema
_V1 = """
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
    """

# 1 -> 2: breach counting for the one-sell-per-breach rule, and the entries watchlist
_V2 = """
    ALTER TABLE position_state ADD COLUMN breach_count INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE position_state ADD COLUMN breached INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE watchlist (symbol TEXT PRIMARY KEY, added_at REAL);
    """

# 2 -> 3: a position missing from one answer is not forgotten at once (a transient empty list
# must not wipe high-water marks and stops)
_V3 = """
    ALTER TABLE position_state ADD COLUMN missing_since REAL;
    """

# 4 -> 5: the order journal and managed stops at the broker (issue 10). Every order request
# (market sell, stop placement, stop cancel) is one `sell_intents` row of its `kind`;
# `managed_stops` holds the one SELL STOP Papishares keeps per position; exclusions are
# positions the user (or a cancel outside Papishares) left out.
_V5 = """
    ALTER TABLE sell_intents ADD COLUMN kind TEXT NOT NULL DEFAULT 'market_sell';
    ALTER TABLE sell_intents ADD COLUMN origin TEXT NOT NULL DEFAULT 'auto-sell';
    ALTER TABLE sell_intents ADD COLUMN stop_price REAL;
    CREATE INDEX sell_intents_ticker_status ON sell_intents (ticker, status);
    CREATE TABLE managed_stops (
        ticker TEXT PRIMARY KEY, order_id INTEGER NOT NULL, stop_price REAL NOT NULL, quantity REAL NOT NULL,
        position_quantity REAL, placed_at REAL NOT NULL, moved_at REAL);
    CREATE TABLE broker_stop_exclusions (ticker TEXT PRIMARY KEY, reason TEXT, since REAL);
    """

# 5 -> 6: history: orders, dividends, transactions, trades, daily values (issue 11)
_V6 = """
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
    """

# 6 -> 7: Telegram commands and dashboard sign-in (issue 12): confirmation buttons, sells the
# user asked for by /sell (executed by the lease holder), silent alerts
_V7 = """
    CREATE TABLE tg_confirmations (
        id TEXT PRIMARY KEY, action TEXT NOT NULL, ticker TEXT, chat_id TEXT, user_id TEXT,
        message_id INTEGER, created_at REAL NOT NULL, expires_at REAL NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending');
    CREATE TABLE manual_sells (
        key TEXT PRIMARY KEY, ticker TEXT NOT NULL, chat_id TEXT, message_id INTEGER,
        status TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL, note TEXT,
        reported INTEGER NOT NULL DEFAULT 0);
    ALTER TABLE outbox ADD COLUMN silent INTEGER NOT NULL DEFAULT 0;
    """

# 7 -> 8: several accounts become an addition. Tables keyed by ticker, date, id or a constant are
# rebuilt with `account` first in their key (SQLite cannot change a key in place); append-only
# tables gain the column. Every existing row is the opening account's (kv: shared keys excepted).
_REKEYED = {
    "http_cache": """CREATE TABLE http_cache (
        account TEXT NOT NULL, endpoint TEXT NOT NULL, body TEXT, status INTEGER, fetched_at REAL,
        PRIMARY KEY (account, endpoint))""",
    "rate_block": """CREATE TABLE rate_block (
        account TEXT NOT NULL, endpoint TEXT NOT NULL, until REAL NOT NULL, PRIMARY KEY (account, endpoint))""",
    "position_state": """CREATE TABLE position_state (
        account TEXT NOT NULL, ticker TEXT NOT NULL, quantity REAL, average_price REAL, max_price REAL,
        stop_price REAL, stop_quantity REAL, last_price REAL, prev_price REAL,
        last_price_at REAL, opened_at REAL, updated_at REAL,
        breach_count INTEGER NOT NULL DEFAULT 0, breached INTEGER NOT NULL DEFAULT 0, missing_since REAL,
        PRIMARY KEY (account, ticker))""",
    "alert_keys": """CREATE TABLE alert_keys (
        account TEXT NOT NULL, key TEXT NOT NULL, created_at REAL, PRIMARY KEY (account, key))""",
    "sell_intents": """CREATE TABLE sell_intents (
        id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, key TEXT NOT NULL, ticker TEXT NOT NULL,
        quantity REAL NOT NULL, price REAL, stop REAL, status TEXT NOT NULL,
        broker_order_id INTEGER, created_at REAL NOT NULL, updated_at REAL, detail TEXT,
        kind TEXT NOT NULL DEFAULT 'market_sell', origin TEXT NOT NULL DEFAULT 'auto-sell', stop_price REAL,
        UNIQUE (account, key))""",
    "held_tickers": """CREATE TABLE held_tickers (
        account TEXT NOT NULL, ticker TEXT NOT NULL, reason TEXT, since REAL, PRIMARY KEY (account, ticker))""",
    "snapshots": """CREATE TABLE snapshots (
        account TEXT NOT NULL, key TEXT NOT NULL, generated_at REAL, body TEXT, PRIMARY KEY (account, key))""",
    "demo_kv": """CREATE TABLE demo_kv (
        account TEXT NOT NULL, key TEXT NOT NULL, value TEXT, PRIMARY KEY (account, key))""",
    "demo_positions": """CREATE TABLE demo_positions (
        account TEXT NOT NULL, ticker TEXT NOT NULL, quantity REAL NOT NULL, quantity_in_pies REAL DEFAULT 0,
        average_price REAL NOT NULL, created_at REAL, PRIMARY KEY (account, ticker))""",
    "managed_stops": """CREATE TABLE managed_stops (
        account TEXT NOT NULL, ticker TEXT NOT NULL, order_id INTEGER NOT NULL, stop_price REAL NOT NULL,
        quantity REAL NOT NULL, position_quantity REAL, placed_at REAL NOT NULL, moved_at REAL,
        PRIMARY KEY (account, ticker))""",
    "broker_stop_exclusions": """CREATE TABLE broker_stop_exclusions (
        account TEXT NOT NULL, ticker TEXT NOT NULL, reason TEXT, since REAL, PRIMARY KEY (account, ticker))""",
    "hist_orders": """CREATE TABLE hist_orders (
        account TEXT NOT NULL, id TEXT NOT NULL, ticker TEXT, side TEXT, type TEXT, status TEXT, quantity REAL,
        filled_quantity REAL, price REAL, currency TEXT, filled_at REAL, created_at REAL,
        net_value REAL, realised_pnl REAL, fx_rate REAL, initiated_from TEXT, body TEXT,
        PRIMARY KEY (account, id))""",
    "hist_dividends": """CREATE TABLE hist_dividends (
        account TEXT NOT NULL, id TEXT NOT NULL, ticker TEXT, paid_on REAL, amount REAL, currency TEXT,
        quantity REAL, gross_per_share REAL, ticker_currency TEXT, type TEXT, body TEXT,
        PRIMARY KEY (account, id))""",
    "hist_transactions": """CREATE TABLE hist_transactions (
        account TEXT NOT NULL, id TEXT NOT NULL, type TEXT, amount REAL, currency TEXT, at REAL, body TEXT,
        PRIMARY KEY (account, id))""",
    "hist_sync": """CREATE TABLE hist_sync (
        account TEXT NOT NULL, kind TEXT NOT NULL, mode TEXT NOT NULL DEFAULT 'backfill', next_path TEXT,
        complete_at REAL, pages INTEGER DEFAULT 0, items INTEGER DEFAULT 0, failures INTEGER DEFAULT 0,
        note TEXT, updated_at REAL, PRIMARY KEY (account, kind))""",
    "daily_values": """CREATE TABLE daily_values (
        account TEXT NOT NULL, date TEXT NOT NULL, total_value REAL, cash REAL, invested REAL,
        total_risk_pct REAL, threshold_pct REAL, currency TEXT, source TEXT, updated_at REAL,
        PRIMARY KEY (account, date))""",
    "initial_risk": """CREATE TABLE initial_risk (
        account TEXT NOT NULL, ticker TEXT NOT NULL, opened_at REAL NOT NULL, first_seen REAL,
        average_price REAL, stop REAL, quantity REAL, fx REAL, risk REAL, currency TEXT,
        PRIMARY KEY (account, ticker, opened_at))""",
    "manual_sells": """CREATE TABLE manual_sells (
        account TEXT NOT NULL, key TEXT NOT NULL, ticker TEXT NOT NULL, chat_id TEXT, message_id INTEGER,
        status TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL, note TEXT,
        reported INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (account, key))""",
}
_KV = """CREATE TABLE kv (
    account TEXT NOT NULL, key TEXT NOT NULL, value TEXT, updated_at REAL, PRIMARY KEY (account, key))"""
_GAIN_ACCOUNT = ("journal", "rate_log", "outbox", "demo_orders", "tg_confirmations")
_INDEXES = """
    CREATE INDEX rate_log_endpoint_ts ON rate_log (account, endpoint, ts);
    CREATE INDEX journal_account_ts ON journal (account, ts);
    CREATE INDEX sell_intents_ticker_status ON sell_intents (account, ticker, status);
    CREATE INDEX hist_orders_ticker ON hist_orders (account, ticker, filled_at);
"""


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def _rekey(conn: sqlite3.Connection, table: str, create: str, account_of: str) -> None:
    """SQLite's way to change a table's key: a new table, the rows copied, the old one dropped."""
    columns = ", ".join(_columns(conn, table))
    conn.execute(create.replace(f"CREATE TABLE {table} (", f"CREATE TABLE {table}__new (", 1))
    conn.execute(f"INSERT INTO {table}__new (account, {columns}) SELECT {account_of}, {columns} FROM {table}")  # noqa: S608
    conn.execute(f"DROP TABLE {table}")
    conn.execute(f"ALTER TABLE {table}__new RENAME TO {table}")


def _v8(conn: sqlite3.Connection, account: str) -> None:
    conn.create_function("papishares_kv_account", 1, lambda key: SHARED if is_shared(key) else account,
                         deterministic=True)
    _rekey(conn, "kv", _KV, "papishares_kv_account(key)")
    quoted = "'" + account.replace("'", "''") + "'"
    for table, create in _REKEYED.items():
        _rekey(conn, table, create, quoted)
    conn.execute("DROP INDEX IF EXISTS rate_log_endpoint_ts")
    conn.execute("DROP INDEX IF EXISTS journal_ts")
    for table in _GAIN_ACCOUNT:
        conn.execute(f"ALTER TABLE {table} ADD COLUMN account TEXT NOT NULL DEFAULT ''")
        conn.execute(f"UPDATE {table} SET account = ?", (account,))  # noqa: S608
    for statement in statements(_INDEXES):
        conn.execute(statement)


ACCOUNT_TABLES = ("kv", *_REKEYED, *_GAIN_ACCOUNT)


def rename_account(conn: sqlite3.Connection, old: str, new: str, *, keep_existing: bool = False) -> None:
    """Every per-account row of `old` becomes `new`'s (inside the caller's transaction).

    `keep_existing`: where `new` already has a row of the same key, that row stays and `old`'s
    stays under `old` (nothing is overwritten, nothing lost)."""
    verb = "UPDATE OR IGNORE" if keep_existing else "UPDATE"
    for table in ACCOUNT_TABLES:
        conn.execute(f"{verb} {table} SET account = ? WHERE account = ?", (new, old))  # noqa: S608


STEPS: dict[int, Step] = {1: _V1, 2: _V2, 3: _V3, 5: _V5, 6: _V6, 7: _V7, 8: _v8}
SCHEMA_VERSION = max(STEPS)


def statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def upgrade(conn: sqlite3.Connection, version: int, account: str) -> None:
    """Run every step after `version` (inside the caller's transaction), setting the version as it goes."""
    for target in range(version + 1, SCHEMA_VERSION + 1):
        step = STEPS.get(target)
        if callable(step):
            step(conn, account)
        elif step is not None:
            for statement in statements(step):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {target}")
