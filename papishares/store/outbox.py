"""Messages waiting for delivery (`outbox`), oldest first. Each row names the account it speaks
for; delivery is one queue for the one chat, in order, whichever account raised a message."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from papishares.store.db import Store


def add(store: Store, channel: str, text: str, at: float, silent: bool = False) -> int:
    return store.inserted(
        "INSERT INTO outbox (account, created_at, channel, text, status, attempts, next_attempt_at, silent) "
        "VALUES (?, ?, ?, ?, 'pending', 0, 0, ?)", (store.account, at, channel, text, int(silent)))


def pending_count(store: Store, channel: str) -> int:
    return int(store.execute("SELECT count(*) FROM outbox WHERE channel = ? AND status = 'pending'",
                             (channel,))[0][0])


def head(store: Store, channel: str) -> dict[str, Any] | None:
    """The oldest pending message of `channel`."""
    rows = store.query("SELECT id, text, attempts, next_attempt_at, silent FROM outbox "
                       "WHERE channel = ? AND status = 'pending' ORDER BY id LIMIT 1", (channel,))
    return rows[0] if rows else None


def mark_sent(store: Store, row_id: int, attempts: int, at: float) -> None:
    store.execute("UPDATE outbox SET status = 'sent', attempts = ?, sent_at = ?, last_error = NULL WHERE id = ?",
                  (attempts, at, row_id))


def mark_failed(store: Store, row_id: int, attempts: int, error: str | None) -> None:
    store.execute("UPDATE outbox SET status = 'failed', attempts = ?, last_error = ? WHERE id = ?",
                  (attempts, error, row_id))


def postpone(store: Store, row_id: int, attempts: int, until: float, error: str | None) -> None:
    store.execute("UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                  (attempts, until, error, row_id))


def prune_delivered(store: Store, before: float) -> None:
    """Forget delivered (or dropped) messages older than `before`."""
    store.execute("DELETE FROM outbox WHERE status != 'pending' AND created_at < ?", (before,))
