"""Trading 212's rate limits, per account, shared by every process: the request log, the blocks
the server asked for, and the cached answers (`http_cache`) a process may serve instead of asking.

Trading 212 counts requests per API key, so every row here is the store's account's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from papishares.store.db import Store


def blocked_until(store: Store, key: str) -> float | None:
    rows = store.execute("SELECT until FROM rate_block WHERE account = ? AND endpoint = ?", (store.account, key))
    return float(rows[0][0]) if rows else None


def block(store: Store, key: str, until: float) -> None:
    """No process may send `key` before `until` (only ever extends an existing block)."""
    store.execute(
        "INSERT INTO rate_block (account, endpoint, until) VALUES (?, ?, ?) "
        "ON CONFLICT(account, endpoint) DO UPDATE SET until = max(until, excluded.until)",
        (store.account, key, until),
    )


def forget_before(store: Store, key: str, window_start: float) -> None:
    store.execute("DELETE FROM rate_log WHERE account = ? AND endpoint = ? AND ts <= ?",
                  (store.account, key, window_start))


def stamps(store: Store, key: str, after: float | None = None) -> list[float]:
    """The log's times for `key` (after `after` when given), oldest first."""
    return [float(r[0]) for r in store.execute(
        "SELECT ts FROM rate_log WHERE account = ? AND endpoint = ? AND ts > ? ORDER BY ts",
        (store.account, key, float("-inf") if after is None else after))]


def log_request(store: Store, key: str, at: float) -> int:
    """A slot taken (stamped `at`); its row id, to complete or release it."""
    return store.inserted("INSERT INTO rate_log (account, endpoint, ts) VALUES (?, ?, ?)", (store.account, key, at))


def complete(store: Store, row_id: int, at: float) -> None:
    """Stamp a slot with the answer's time, never later than before."""
    store.execute("UPDATE rate_log SET ts = min(ts, ?) WHERE rowid = ?", (at, row_id))


def release(store: Store, row_id: int) -> None:
    store.execute("DELETE FROM rate_log WHERE rowid = ?", (row_id,))


# -- cached answers -------------------------------------------------------------------------------
def cached(store: Store, cache_key: str) -> tuple[str, int, float] | None:
    """(body, status, fetched_at) of the cached answer, or None."""
    rows = store.execute("SELECT body, status, fetched_at FROM http_cache WHERE account = ? AND endpoint = ?",
                         (store.account, cache_key))
    if not rows:
        return None
    body, status, fetched_at = rows[0]
    return str(body), int(status), float(fetched_at)


def store_response(store: Store, cache_key: str, body: str, status: int, fetched_at: float) -> None:
    """Keep an answer unless a newer one is kept already."""
    store.execute(
        "INSERT INTO http_cache (account, endpoint, body, status, fetched_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(account, endpoint) DO UPDATE SET body = excluded.body, status = excluded.status, "
        "fetched_at = excluded.fetched_at WHERE excluded.fetched_at >= http_cache.fetched_at",
        (store.account, cache_key, body, status, fetched_at),
    )


def invalidate(store: Store, prefix: str) -> None:
    """Forget cached answers whose key starts with `prefix`."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    store.execute("DELETE FROM http_cache WHERE account = ? AND endpoint LIKE ? ESCAPE '\\'",
                  (store.account, escaped + "%"))
