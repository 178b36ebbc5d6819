"""The alert outbox: alerts wait in SQLite until Telegram accepts them, delivered in order, once.

Only the head of the queue is tried: when it fails (Telegram down, 5xx, 429) nothing behind it is
sent, so the phone shows alerts in the order they happened. A message Telegram refuses outright
(400, e.g. broken HTML) is marked `failed` so it cannot block the queue forever.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from papishares.notify.split import split_html
from papishares.notify.telegram import MAX_TEXT, TelegramResult
from papishares.store import outbox as outbox_store
from papishares.store.db import Store
from papishares.store.keys import KeyFamily

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_BACKOFF = 300.0
MAX_PER_FLUSH = 20  # Telegram allows ~1 message/s per chat: a long backlog drains over a few cycles

Sender = Callable[..., TelegramResult]  # send(text) or send(text, silent=True)


@dataclass(frozen=True)
class FlushResult:
    sent: int
    failed: int
    pending: int
    error: str | None = None


def pending_count(store: Store, channel: str = CHANNEL) -> int:
    return outbox_store.pending_count(store, channel)


def _backoff(attempts: int) -> float:
    return min(MAX_BACKOFF, 2.0 ** max(0, attempts - 1))


def _send_parts(store: Store, row_id: int, text: str, send: Sender, silent: bool = False) -> TelegramResult:
    """Send a message as its parts (one part unless over Telegram's limit), in order, each once:
    the parts already accepted are counted in `kv`, so a retry resumes after them."""
    parts = split_html(text, MAX_TEXT)
    key = KeyFamily.OUTBOX_PARTS_SENT.of(row_id)
    done = int(store.get(key) or 0) if len(parts) > 1 else 0
    result = TelegramResult(True)
    for index in range(done, len(parts)):
        result = send(parts[index], silent=True) if silent else send(parts[index])
        if not result.ok:
            break
        if len(parts) > 1:
            store.set(key, str(index + 1))
    return result


def flush(store: Store, send: Sender, channel: str = CHANNEL, now: Callable[[], float] = time.time,
          limit: int = MAX_PER_FLUSH) -> FlushResult:
    """Deliver pending messages oldest first; stop at the first one Telegram does not take yet."""
    sent = failed = 0
    error: str | None = None
    for _ in range(limit):
        row = outbox_store.head(store, channel)
        if row is None:
            break
        if row["next_attempt_at"] and row["next_attempt_at"] > now():
            break  # the head waits for its retry time; so does everything behind it
        result = _send_parts(store, row["id"], row["text"], send, bool(row.get("silent")))
        attempts = int(row["attempts"] or 0) + 1
        if result.ok:
            outbox_store.mark_sent(store, row["id"], attempts, now())
            store.delete(KeyFamily.OUTBOX_PARTS_SENT.of(row["id"]))
            sent += 1
            continue
        error = result.error
        if result.permanent:
            outbox_store.mark_failed(store, row["id"], attempts, result.error)
            store.delete(KeyFamily.OUTBOX_PARTS_SENT.of(row["id"]))
            log.warning("alert %s dropped: %s", row["id"], result.error)
            failed += 1
            continue
        wait = result.retry_after if result.retry_after is not None else _backoff(attempts)
        outbox_store.postpone(store, row["id"], attempts, now() + wait, result.error)
        log.warning("alert delivery postponed %.0f s: %s", wait, result.error)
        break
    return FlushResult(sent, failed, pending_count(store, channel), error)
