"""Auto-sell as a user sees it: the flag, switching it, the positions held back and re-arming one.

The Telegram `/autosell` and `/rearm`, `papishares autosell ...` and the dashboard's toggle and
Re-arm buttons all call these. The selling itself is papishares.orders.autosell's.
"""

from __future__ import annotations

from dataclasses import dataclass

from papishares.commands.reading import find_position
from papishares.config import Settings
from papishares.core.models import Snapshot
from papishares.orders import autosell as selling
from papishares.store.db import Store


@dataclass(frozen=True)
class AutoSellState:
    enabled: bool


@dataclass(frozen=True)
class AutoSellChanged:
    enabled: bool  # the flag as it is now (journalled)


@dataclass(frozen=True)
class HeldPosition:
    """A position held back from auto-sell: a sale whose outcome stayed unknown."""

    ticker: str
    reason: str | None
    since: float


@dataclass(frozen=True)
class RearmResult:
    ticker: str
    rearmed: bool  # False: nothing was held back for it


@dataclass(frozen=True)
class AutoSellQuestion:
    """What switching asks before it acts (the live account gets a warning)."""

    enabled: bool  # the wanted state
    live: bool  # switching ON for the live account
    live_orders_allowed: bool  # PAPISHARES_ALLOW_LIVE_ORDERS


@dataclass(frozen=True)
class RearmQuestion:
    ticker: str


@dataclass(frozen=True)
class NothingHeld:
    name: str  # as the user wrote it


def state(store: Store) -> AutoSellState:
    return AutoSellState(store.autosell_enabled)


def switch(store: Store, enabled: bool) -> AutoSellChanged:
    store.set_autosell(enabled)
    return AutoSellChanged(enabled)


def held(store: Store) -> tuple[HeldPosition, ...]:
    return tuple(HeldPosition(h["ticker"], h["reason"], h["since"]) for h in selling.held_tickers(store))


def rearm(store: Store, ticker: str) -> RearmResult:
    return RearmResult(ticker, bool(selling.rearm(store, ticker)))


def ask_switch(settings: Settings, enabled: bool) -> AutoSellQuestion:
    return AutoSellQuestion(enabled, settings.is_live and enabled, settings.allow_live_orders)


def ask_rearm(store: Store, snapshot: Snapshot | None, name: str) -> RearmQuestion | NothingHeld:
    """The held ticker `name` means (a Trading 212 ticker or a held short name)."""
    p = find_position(snapshot, name)
    ticker = p.ticker if p else name.upper()
    if ticker not in {h.ticker for h in held(store)}:
        return NothingHeld(name)
    return RearmQuestion(ticker)
