"""The quantity decimals each instrument is known to accept, learned from the broker's rejections.

Trading 212's metadata does not say how many decimals an order quantity may carry (at most 4, some
instruments fewer). A `quantity-precision-mismatch` rejection does, so whoever sells (auto-sell,
managed stops, a `/sell` command) learns it here, and every later sell of that instrument uses it.
Kept in `kv` (small state, shared by every process through the database): no table needed.
"""

from __future__ import annotations

import json

from papishares.orders.quantity import MAX_ORDER_DECIMALS
from papishares.store.db import Store
from papishares.store.keys import Key

KEY = Key.PRECISION  # {ticker: decimals}, shared: what an instrument accepts is the same in every account


def learned_precisions(store: Store) -> dict[str, int]:
    """Every instrument's learned decimals (a malformed stored value reads as nothing learned)."""
    return _decode(store.get(KEY))


def learned_precision(store: Store, ticker: str) -> int | None:
    """The decimals `ticker` accepts, or None while nothing was learned (then at most 4 are sent)."""
    return learned_precisions(store).get(ticker)


def learn_precision(store: Store, ticker: str, decimals: int) -> None:
    """Remember that `ticker` accepts `decimals` (clamped to 0..4) for its next sells."""
    decimals = max(0, min(int(decimals), MAX_ORDER_DECIMALS))
    with store.transaction():  # read-modify-write under the write lock: two sellers may learn at once
        known = _decode(store.get(KEY))
        known[ticker] = decimals
        store.set(KEY, json.dumps(known, sort_keys=True))


def _decode(text: str | None) -> dict[str, int]:
    try:
        raw = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    return {str(t): n for t, n in raw.items() if isinstance(n, int) and not isinstance(n, bool) and n >= 0}
