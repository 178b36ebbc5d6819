"""A Telegram group upgraded to a supergroup: keep delivering to the new chat, tell the user once.

Telegram answers a message to the old group with 400 and `parameters.migrate_to_chat_id`. The new
id is kept in the database (`kv` key `telegram.migrated.<old id>`), so every process on it (worker,
dashboard, CLI) delivers to the new chat while `TELEGRAM_CHAT_ID` still names the old one; once the
user updates the variable, the mapping no longer applies. The user is told once per upgrade: a
journal entry, a message in the new chat, and a banner on every dashboard page.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable

from papishares.store.db import Store

PREFIX = "telegram.migrated."
CHANNEL = "telegram"


def current_chat(store: Store, configured: str) -> str:
    """The chat to deliver to: the configured one, or where an upgrade moved it (followed a few hops)."""
    chat = configured
    for _ in range(3):
        moved = store.get(PREFIX + chat)
        if not moved or moved == chat:
            break
        chat = moved
    return chat


def record(store: Store, configured: str, old: str, new: str) -> bool:
    """Persist old -> new and tell the user once. True when this upgrade was new."""
    now = time.time()
    text = (f"This group became a supergroup: Papishares now delivers alerts to chat {new}. "
            f"Update TELEGRAM_CHAT_ID={new} (it still says {configured}).")
    with store.transaction() as conn:
        conn.execute("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                     (PREFIX + old, new))
        cur = conn.execute("INSERT OR IGNORE INTO alert_keys (key, created_at) VALUES (?, ?)",
                           (f"telegram-migrated:{old}:{new}", now))
        if cur.rowcount == 0:
            return False
        conn.execute("INSERT INTO journal (ts, kind, ticker, action, message, data) VALUES (?, 'alert', NULL, "
                     "'telegram_migrated', ?, ?)", (now, text, json.dumps({"old": old, "new": new})))
        conn.execute("INSERT INTO outbox (created_at, channel, text, status, attempts, next_attempt_at) "
                     "VALUES (?, ?, ?, 'pending', 0, 0)", (now, CHANNEL, "ℹ️ " + html.escape(text)))
    return True


def recorder(store: Store, configured: str) -> Callable[[str, str], None]:
    """The TelegramClient's `on_migrate` hook for this store."""
    def on_migrate(old: str, new: str) -> None:
        record(store, configured, old, new)
    return on_migrate


def notice(store: Store, configured: str | None) -> str | None:
    """The sentence the dashboard shows while TELEGRAM_CHAT_ID names a chat that was upgraded."""
    if not configured:
        return None
    chat = current_chat(store, configured)
    if chat == configured:
        return None
    return (f"Your Telegram group became a supergroup: alerts now go to chat {chat}. "
            f"Set TELEGRAM_CHAT_ID={chat} in the environment or .env (it still says {configured}).")
