-- The schema as released before accounts (schema version 7): migrations 1 to 7, recorded from
-- papishares/store/db.py at commit 1267b54, so the upgrade is tested against the real thing.

-- 0 -> 1
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


-- 1 -> 2
ALTER TABLE position_state ADD COLUMN breach_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE position_state ADD COLUMN breached INTEGER NOT NULL DEFAULT 0;
CREATE TABLE watchlist (symbol TEXT PRIMARY KEY, added_at REAL);


-- 2 -> 3
ALTER TABLE position_state ADD COLUMN missing_since REAL;


-- 3 -> 4


-- 4 -> 5
ALTER TABLE sell_intents ADD COLUMN kind TEXT NOT NULL DEFAULT 'market_sell';
ALTER TABLE sell_intents ADD COLUMN origin TEXT NOT NULL DEFAULT 'auto-sell';
ALTER TABLE sell_intents ADD COLUMN stop_price REAL;
CREATE INDEX sell_intents_ticker_status ON sell_intents (ticker, status);
CREATE TABLE managed_stops (
    ticker TEXT PRIMARY KEY, order_id INTEGER NOT NULL, stop_price REAL NOT NULL, quantity REAL NOT NULL,
    position_quantity REAL, placed_at REAL NOT NULL, moved_at REAL);
CREATE TABLE broker_stop_exclusions (ticker TEXT PRIMARY KEY, reason TEXT, since REAL);


-- 5 -> 6
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


-- 6 -> 7
CREATE TABLE tg_confirmations (
    id TEXT PRIMARY KEY, action TEXT NOT NULL, ticker TEXT, chat_id TEXT, user_id TEXT,
    message_id INTEGER, created_at REAL NOT NULL, expires_at REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending');
CREATE TABLE manual_sells (
    key TEXT PRIMARY KEY, ticker TEXT NOT NULL, chat_id TEXT, message_id INTEGER,
    status TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL, note TEXT,
    reported INTEGER NOT NULL DEFAULT 0);
ALTER TABLE outbox ADD COLUMN silent INTEGER NOT NULL DEFAULT 0;


PRAGMA user_version = 7;
