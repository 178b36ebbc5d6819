"""Alert delivery: dedup keys, the journal (Activity page) and the Telegram outbox.

`Notifier.emit(event)` records an alert at most once per dedup key, in one transaction: the key,
a journal entry (so alerts show on the Activity page even without Telegram) and, when Telegram is
configured, an outbox row. `Notifier.flush()` delivers the outbox in order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from papishares.config import Settings
from papishares.notify import outbox, prefs
from papishares.notify.rules import AlertEvent, AlertPlan, for_account, sample_event
from papishares.notify.telegram import TelegramClient
from papishares.store import alerts as alert_store
from papishares.store import outbox as outbox_store
from papishares.store.db import Store

log = logging.getLogger(__name__)

__all__ = ["Notifier", "send_test_alert"]


class Notifier:
    def __init__(self, settings: Settings, store: Store, telegram: TelegramClient | None = None) -> None:
        self.settings = settings
        self.store = store
        self.telegram = telegram if telegram is not None else TelegramClient.from_settings(settings, store)
        # With several accounts every message says whose it is (one chat hears them all).
        self.account = settings.account_name if settings.several else None

    def close(self) -> None:
        if self.telegram is not None:
            self.telegram.close()

    def keys(self) -> set[str]:
        return alert_store.keys(self.store)

    def emit(self, event: AlertEvent) -> bool:
        """Record the alert unless its key was already used. True when it is new."""
        now = time.time()
        mode = prefs.delivery(self.store, event.kind, now) if self.telegram is not None else "off"
        with self.store.transaction():
            if event.key is not None and not alert_store.claim(self.store, event.key, now):
                return False
            self.store.journal("alert", event.ticker, event.kind, event.plain,
                               {"key": event.key, "telegram": self.telegram is not None, "delivery": mode}, at=now)
            if mode != "off":  # per-kind settings and /mute (papishares.notify.prefs)
                outbox_store.add(self.store, outbox.CHANNEL, for_account(event.text, self.account), now,
                                 silent=mode == "silent")
        log.info("alert %s%s", event.kind, f" {event.ticker}" if event.ticker else "")
        return True

    def clear(self, keys: Iterable[str]) -> None:
        for key in keys:
            alert_store.clear(self.store, key)

    def apply(self, plan: AlertPlan) -> int:
        self.clear(plan.clear)
        return sum(1 for e in plan.events if self.emit(e))

    def flush(self) -> outbox.FlushResult | None:
        if self.telegram is None:
            return None
        return outbox.flush(self.store, self.telegram.send)


def send_test_alert(settings: Settings, store: Store) -> str:
    """The dashboard's "send test alert" button: send now (not through the outbox), one line back."""
    client = TelegramClient.from_settings(settings, store)
    if client is None:
        return "Telegram is not configured: set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID."
    try:
        result = client.send(sample_event(settings.environment).text)
    finally:
        client.close()
    if result.ok:
        store.journal("alert", None, "test", "Test alert sent to Telegram")
        return f"Test alert sent to chat {client.chat_id}."
    store.journal("alert", None, "test_failed", f"Test alert failed: {result.error}")
    return f"Test alert not delivered: {result.error}."
