"""The last good snapshot per account, as JSON: what every front end shows when the broker cannot
be reached."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from papishares.store.db import Store

LAST = "last"


def save_last(store: Store, generated_at: float, body: str) -> None:
    store.execute("INSERT INTO snapshots (account, key, generated_at, body) VALUES (?, ?, ?, ?) "
                  "ON CONFLICT(account, key) DO UPDATE SET generated_at = excluded.generated_at, body = excluded.body",
                  (store.account, LAST, generated_at, body))


def last(store: Store) -> str | None:
    rows = store.execute("SELECT body FROM snapshots WHERE account = ? AND key = ?", (store.account, LAST))
    return rows[0][0] if rows else None
