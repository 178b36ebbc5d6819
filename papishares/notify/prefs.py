"""Per-kind notification settings and /mute: each alert kind is `on`, `silent` or `off`.

`on` rings the phone; `silent` is delivered with Telegram's `disable_notification`; `off` keeps the
alert in the journal (Activity page) only. `/mute HOURS` makes every alert silent until then. The
settings live in `kv`, shared by the worker, the dashboard's Settings page and Telegram's /notify.
"""

from __future__ import annotations

import time

from papishares.store.db import Store
from papishares.store.keys import Key

KINDS: dict[str, str] = {  # alert kind (papishares.notify.rules) -> what a person reads
    "stop_breached": "stop breached",
    "macd_crossover": "MACD crossover",
    "risk_above": "total risk above the limit",
    "autosell_placed": "sale placed",
    "autosell_rejected": "sale rejected",
    "autosell_skipped": "sale skipped for safety",
    "autosell_unknown": "sale outcome unknown",
    "autosell_dry_run": "would sell (dry run)",
    "auth_rejected": "API key rejected",
    "units_mismatch": "price units in doubt (no stop, no sale)",
    "broker_stop_filled": "sold by the stop at the broker",
    "broker_stop_emergency": "stop at the broker cancelled for a sale",
    "broker_stop_cancelled": "stop at the broker cancelled outside Papishares",
    "broker_stop_expired": "stop at the broker expired (placed again)",
    "broker_stop_refused": "stop orders refused by the broker",
}
MODES = ("on", "silent", "off")
MODES_KEY = Key.NOTIFY_MODES
MUTE_KEY = Key.NOTIFY_MUTE_UNTIL
MAX_MUTE_HOURS = 24 * 7


def modes(store: Store) -> dict[str, str]:
    """Every kind's mode (default `on`)."""
    saved = store.get_json(MODES_KEY) or {}
    return {kind: saved.get(kind, "on") if saved.get(kind) in MODES else "on" for kind in KINDS}


def set_mode(store: Store, kind: str, mode: str) -> None:
    if kind not in KINDS or mode not in MODES:
        raise ValueError(f"unknown alert kind or mode: {kind} {mode}")
    saved = store.get_json(MODES_KEY) or {}
    saved[kind] = mode
    store.set_json(MODES_KEY, saved)
    store.journal("settings", None, "notify", f"Alerts '{KINDS[kind]}' set to {mode}")


def muted_until(store: Store, now: float | None = None) -> float | None:
    until = store.get_json(MUTE_KEY)
    now = time.time() if now is None else now
    return float(until) if isinstance(until, int | float) and until > now else None


def mute(store: Store, hours: float, now: float | None = None) -> float | None:
    """Silence every alert for `hours` (0 ends a mute). Returns the end time, or None when unmuted."""
    now = time.time() if now is None else now
    if hours <= 0:
        store.set_json(MUTE_KEY, None)
        store.journal("settings", None, "unmute", "Alerts ring again")
        return None
    until = now + min(hours, MAX_MUTE_HOURS) * 3600
    store.set_json(MUTE_KEY, until)
    store.journal("settings", None, "mute", f"Alerts silent for {hours:g} h")
    return until


def delivery(store: Store, kind: str, now: float | None = None) -> str:
    """How one alert of `kind` goes out now: `on`, `silent` or `off` (journal only)."""
    mode = modes(store).get(kind, "on")
    if mode == "on" and muted_until(store, now) is not None:
        return "silent"
    return mode
