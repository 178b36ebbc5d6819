"""Once-only keys (`alert_keys`, named in `keys.py`): an event is alerted or acted on once per
account until its key is cleared."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from papishares.store.db import Store


def keys(store: Store) -> set[str]:
    return {r[0] for r in store.execute("SELECT key FROM alert_keys WHERE account = ?", (store.account,))}


def claim(store: Store, key: str, at: float) -> bool:
    """Take `key` now; False when it was taken already (the event was handled)."""
    return store.changed("INSERT OR IGNORE INTO alert_keys (account, key, created_at) VALUES (?, ?, ?)",
                         (store.account, key, at)) == 1


def clear(store: Store, key: str) -> None:
    store.execute("DELETE FROM alert_keys WHERE account = ? AND key = ?", (store.account, key))


def prune(store: Store, before: float, prefixes: Iterable[str]) -> None:
    """Forget keys taken before `before` whose key starts with one of `prefixes`."""
    for prefix in prefixes:
        store.execute("DELETE FROM alert_keys WHERE account = ? AND created_at < ? AND substr(key, 1, ?) = ?",
                      (store.account, before, len(prefix), prefix))
