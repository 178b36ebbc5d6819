"""Stops kept at the broker as a user sees them: the setting, what is managed, left out or refused.

`papishares brokerstops ...`, the Settings page's switch and the Positions page's per-position
switches call these; the worker's stop keeper (papishares.orders.stop_keeper) acts on the flags.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from papishares.orders import stop_keeper
from papishares.store.db import Store


@dataclass(frozen=True)
class ManagedStop:
    ticker: str
    quantity: float
    stop_price: float
    order_id: int


@dataclass(frozen=True)
class LeftOut:
    ticker: str
    reason: str


@dataclass(frozen=True)
class BrokerStopsStatus:
    on: bool  # the setting in force
    environment_on: bool  # PAPISHARES_BROKER_STOPS
    set_on_dashboard: bool  # the dashboard's saved value overrides the environment's
    managed: tuple[ManagedStop, ...]  # by ticker
    left_out: tuple[LeftOut, ...]  # oldest first
    refused_for_account: str | None  # the broker's reason, while a refusal younger than a day stands
    refused: tuple[LeftOut, ...]  # tickers the broker refused stop orders for (a day), by ticker


@dataclass(frozen=True)
class BrokerStopsSwitched:
    on: bool | None  # None: back to the environment's value


@dataclass(frozen=True)
class PositionSwitched:
    ticker: str
    kept: bool  # True: taken back in; False: left out (its stop is cancelled by the worker)
    changed: bool  # False: it was not left out in the first place


def status(store: Store, environment_on: bool, now: float | None = None) -> BrokerStopsStatus:
    now = time.time() if now is None else now
    account, tickers = stop_keeper.refused_now(store, now)
    refusals = stop_keeper.refusals(store)
    return BrokerStopsStatus(
        on=stop_keeper.enabled(store, environment_on),
        environment_on=environment_on,
        set_on_dashboard=store.get(stop_keeper.OVERRIDE_KEY) in ("on", "off"),
        managed=tuple(ManagedStop(t, row["quantity"], row["stop_price"], row["order_id"])
                      for t, row in sorted(stop_keeper.managed_rows(store).items())),
        left_out=tuple(LeftOut(t, row["reason"]) for t, row in stop_keeper.exclusions(store).items()),
        refused_for_account=refusals["account"]["reason"] if account else None,
        refused=tuple(LeftOut(t, refusals["tickers"][t]["reason"]) for t in sorted(tickers)),
    )


def switch(store: Store, on: bool | None) -> BrokerStopsSwitched:
    """The setting for every process (None: back to PAPISHARES_BROKER_STOPS)."""
    stop_keeper.set_enabled(store, on)
    return BrokerStopsSwitched(on)


def keep(store: Store, ticker: str) -> PositionSwitched:
    """Take a position back into the stops kept at the broker."""
    return PositionSwitched(ticker, True, stop_keeper.include(store, ticker))


def leave_out(store: Store, ticker: str, reason: str) -> PositionSwitched:
    """Leave a position out: the worker cancels its stop at the broker."""
    stop_keeper.exclude(store, ticker, reason)
    return PositionSwitched(ticker, False, True)
