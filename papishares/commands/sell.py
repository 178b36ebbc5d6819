"""`/sell TICKER`: what a user's own sale would sell, asked before it is requested.

The request itself is queued by `papishares.commands.handlers.request_sell` and executed by the
worker holding the lease, through the order path (never sent twice).
"""

from __future__ import annotations

from dataclasses import dataclass

from papishares.commands.reading import UnknownPosition, find_position, unknown_position
from papishares.core.models import PositionView, Snapshot
from papishares.orders import quantity, sell_release
from papishares.store.db import Store
from papishares.store.quantities import learned_precision


@dataclass(frozen=True)
class SellQuestion:
    position: PositionView
    quantity: float  # what the sale would sell: the available shares, truncated to the broker's precision
    reserved: float  # shares a stop Papishares keeps at the broker holds (cancelled first); 0 without one
    managed_stop_price: float | None  # that stop's price; None without one


@dataclass(frozen=True)
class HeldByOwnOrders:
    """Nothing to sell: the user's own pending orders hold every share (never cancelled for them)."""

    ticker: str
    message: str


@dataclass(frozen=True)
class SellRequested:
    ticker: str
    key: str | None  # the request's intent key; None: this confirmation was already requested

    @property
    def requested(self) -> bool:
        return self.key is not None


def ask_sell(store: Store, snapshot: Snapshot | None, name: str) -> SellQuestion | HeldByOwnOrders | UnknownPosition:
    p = find_position(snapshot, name)
    if snapshot is None or p is None:
        return unknown_position(name, snapshot)
    managed = sell_release.managed_stop(store, snapshot, p.ticker)
    reserved = managed.quantity if managed is not None else 0.0
    qty = quantity.sell_quantity(p.quantity_available + reserved, learned_precision(store, p.ticker))
    if qty <= 0 and p.manual_stop_loss_quantity > 0:
        return HeldByOwnOrders(p.ticker, sell_release.own_orders_text(p))
    return SellQuestion(p, qty, reserved, managed.stop_price if managed is not None else None)
