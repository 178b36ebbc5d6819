"""The quantity decimals each instrument is known to accept, learned from the broker's rejections.

Trading 212's metadata does not say how many decimals an order quantity may carry (at most 4, some
instruments fewer). A `quantity-precision-mismatch` rejection does, so whoever sells (auto-sell,
managed stops, a `/sell` command) learns it here, and every later sell of that instrument uses it.
Kept in `kv` (small state, shared by every process through the database): no table needed.
"""

from __future__ import annotations

import json
import time

from papishares.orders.quantity import MAX_ORDER_DECIMALS
from papishares.store.db import Store

KEY = "autosell.precision"  # {ticker: decimals}; the name predates this module, kept so nothing learned is lost


def learned_precisions(store: Store) -> dict[str, int]:
    """Every instrument's learned decimals (a malformed stored value reads as nothing learned)."""
    return _decode(store.get(KEY))


def learned_precision(store: Store, ticker: str) -> int | None:
    """The decimals `ticker` accepts, or None while nothing was learned (then at most 4 are sent)."""
    return learned_precisions(store).get(ticker)


def learn_precision(store: Store, ticker: str, decimals: int) -> None:
    """Remember that `ticker` accepts `decimals` (clamped to 0..4) for its next sells."""
    decimals = max(0, min(int(decimals), MAX_ORDER_DECIMALS))
    with store.transaction() as conn:  # read-modify-write under the write lock: two sellers may learn at once
        row = conn.execute("SELECT value FROM kv WHERE key = ?", (KEY,)).fetchone()
        known = _decode(row[0] if row else None)
        known[ticker] = decimals
        conn.execute("INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                     (KEY, json.dumps(known, sort_keys=True), time.time()))


def _decode(text: str | None) -> dict[str, int]:
    try:
        raw = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    return {str(t): n for t, n in raw.items() if isinstance(n, int) and not isinstance(n, bool) and n >= 0}
