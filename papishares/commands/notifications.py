"""`/mute` and `/notify`: when alerts ring, and how each kind of alert arrives."""

from __future__ import annotations

from dataclasses import dataclass

from papishares.notify import prefs
from papishares.store.db import Store

KINDS = prefs.KINDS  # the alert kinds a mode can be set for


@dataclass(frozen=True)
class MuteChanged:
    until: float | None  # epoch seconds alerts arrive silently until; None: they ring again


@dataclass(frozen=True)
class NotifySettings:
    modes: tuple[tuple[str, str], ...]  # (alert kind, on | silent | off)


def mute(store: Store, hours: float, now: float) -> MuteChanged:
    """Silence alerts for `hours` (0: ring again)."""
    return MuteChanged(prefs.mute(store, hours, now))


def is_mode(kind: str, mode: str) -> bool:
    return kind.lower() in prefs.KINDS and mode.lower() in prefs.MODES


def notify_settings(store: Store, kind: str | None = None, mode: str | None = None) -> NotifySettings:
    """The modes per kind, after setting `kind` to `mode` when both are given (checked by `is_mode`)."""
    if kind is not None and mode is not None:
        prefs.set_mode(store, kind.lower(), mode.lower())
    return NotifySettings(tuple(prefs.modes(store).items()))
