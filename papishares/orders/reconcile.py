"""The one reconcile verdict: what a recorded order request came to, from what the broker shows now.

An order request whose answer proved nothing (timeout, 5xx, the process killed), and a managed stop
that left the pending orders, are settled here, the same way for auto-sell, the stops kept at the
broker and a Telegram /sell:

- positions and orders fetched BEFORE the request (or a stale snapshot) prove nothing: wait;
- its order is pending at the broker: STILL_PENDING;
- the position's data is in doubt (unusable broker data, ~100x units): wait, decided on good data;
- the position is gone or smaller than when the request was recorded: FILLED (shares were sold);
- an unproven market sell or stop placement not seen yet: the broker may not show it at once, so
  wait for the grace;
- otherwise: NO_ORDER_NO_FILL (nothing pending, nothing sold).

What each verdict means for the request's owner (the journal status it writes):

    request              STILL_PENDING       FILLED                 NO_ORDER_NO_FILL
    market_sell          placed              filled                 held (the user re-arms it)
    stop_place           placed (adopted)    -- (not looked at)     not_placed
    stop_cancel          not_cancelled       filled                 cancelled
    kept_stop            (still kept)        sold at the broker     ended unfilled: expired or the user's

A stop placement is proven only by its order: the position is not evidence for it.
Pure: no store, no broker, no clock (papishares.orders.autosell and papishares.orders.stop_keeper
gather the evidence; papishares.orders.sell_release reads it for a /sell).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from papishares.core import data_quality
from papishares.core.models import Order, PositionView, Snapshot
from papishares.orders.journal import MARKET_SELL, STOP_CANCEL, STOP_PLACE

EPS = 1e-9  # quantities closer than this are equal
KEPT_STOP = "kept_stop"  # a managed stop proven placed (a `managed_stops` row) that left the pending orders
KINDS = (MARKET_SELL, STOP_PLACE, STOP_CANCEL, KEPT_STOP)
_AWAITS_GRACE = frozenset({MARKET_SELL, STOP_PLACE})  # unproven sends: the broker may show them late
_POSITION_IS_EVIDENCE = frozenset({MARKET_SELL, STOP_CANCEL, KEPT_STOP})


class Verdict(StrEnum):
    WAIT_FOR_FRESH_DATA = "wait_for_fresh_data"  # the data predates the request (or is stale)
    WAIT_DATA_IN_DOUBT = "wait_data_in_doubt"  # the position's data cannot tell a fill from nothing
    WAIT_GRACE = "wait_grace"  # not at the broker yet, but it may still show up
    STILL_PENDING = "still_pending"  # its order is pending at the broker
    FILLED = "filled"  # the position is gone or smaller: shares were sold
    NO_ORDER_NO_FILL = "no_order_no_fill"  # nothing pending and the position unchanged

    @property
    def waits(self) -> bool:
        """Nothing is proven yet: look again on a later cycle, send nothing meanwhile."""
        return self in (Verdict.WAIT_FOR_FRESH_DATA, Verdict.WAIT_DATA_IN_DOUBT, Verdict.WAIT_GRACE)


@dataclass(frozen=True)
class Recorded:
    """The request as the journal (or the managed-stop row) recorded it."""

    kind: str  # MARKET_SELL | STOP_PLACE | STOP_CANCEL | KEPT_STOP
    position_quantity: float  # the position when the request was recorded


@dataclass(frozen=True)
class Seen:
    """What the broker shows now, and whether it can be believed."""

    fresh_since_request: bool  # a fresh snapshot whose positions and orders were fetched after the request
    order_pending: bool  # its order (or the one order that can only be it) is pending at the broker
    position_quantity: float | None  # None: no position any more
    position_in_doubt: bool = False  # unusable broker data or ~100x units (papishares.core.data_quality)
    within_grace: bool = False  # recorded so recently that the broker may not show it yet


def verdict(recorded: Recorded, seen: Seen) -> Verdict:
    """What `recorded` came to, given what is `seen` now (the rules in this module's docstring)."""
    if recorded.kind not in KINDS:
        raise ValueError(f"not a reconciled request kind: {recorded.kind!r}")
    if not seen.fresh_since_request:
        return Verdict.WAIT_FOR_FRESH_DATA
    if seen.order_pending:
        return Verdict.STILL_PENDING
    if recorded.kind in _POSITION_IS_EVIDENCE:
        if seen.position_in_doubt:
            return Verdict.WAIT_DATA_IN_DOUBT
        if shrank(recorded.position_quantity, seen.position_quantity):
            return Verdict.FILLED
    if recorded.kind in _AWAITS_GRACE and seen.within_grace:
        return Verdict.WAIT_GRACE
    return Verdict.NO_ORDER_NO_FILL


def shrank(before: float, now: float | None) -> bool:
    """The position is gone (None) or smaller than `before`: shares were sold."""
    return now is None or now < before - EPS


# -- evidence: which pending order can only be the request (pure, over the orders as fetched) --------------
def pending_market_sell(orders: Iterable[Order], ticker: str, managed: frozenset[int]) -> Order | None:
    """A pending MARKET sell of `ticker` that is not a managed stop: the market sale, queued at the broker.
    (The user's own resting stops and limits may sit beside it: they are not this sale.)"""
    found = {o.ticker: o for o in orders
             if o.is_sell and o.is_pending and o.id not in managed and o.type.upper() == "MARKET"}
    return found.get(ticker)


def pending_stop_at(orders: Iterable[Order], ticker: str, stop_price: float, managed: frozenset[int]
                    ) -> Order | None:
    """The newest pending SELL STOP of `ticker` at `stop_price` not already managed: the placement."""
    found = [o for o in orders if o.is_pending and o.is_sell and o.ticker == ticker and o.id not in managed
             and o.type.upper() == "STOP" and o.stop_price is not None and abs(o.stop_price - stop_price) < 1e-6]
    return max(found, key=lambda o: o.id) if found else None


def pending_sell_order(orders: Iterable[Order], order_id: int) -> Order | None:
    """The pending SELL order `order_id` (the order a cancel was for)."""
    return next((o for o in orders if o.is_pending and o.is_sell and o.id == order_id), None)


def pending_order(orders: Iterable[Order], order_id: int) -> Order | None:
    """The pending order `order_id`, whichever side (a managed stop still at the broker)."""
    return next((o for o in orders if o.is_pending and o.id == order_id), None)


# -- the shell's side: a journal row or a managed-stop row, and this cycle's snapshot -------------------------
def recorded_intent(intent: Mapping[str, Any]) -> Recorded:
    """A `sell_intents` row as the verdict reads it (its position when recorded is in `detail`)."""
    detail = json.loads(intent["detail"] or "{}")
    return Recorded(str(intent["kind"]), float(detail.get("position_quantity") or 0.0))


def intent_since(intent: Mapping[str, Any]) -> float:
    """When the intent last changed: data fetched before then may predate its request."""
    return float(intent["updated_at"] or intent["created_at"])


def seen_now(snapshot: Snapshot, ticker: str, since: float, data_since: Callable[[float], bool], *,
             order: Order | None, within_grace: bool = False) -> Seen:
    """What this cycle's snapshot shows of `ticker` for a request recorded at `since`.

    `data_since(t)` says whether both positions and orders were fetched after time t."""
    view: PositionView | None = snapshot.position(ticker)
    return Seen(fresh_since_request=not snapshot.stale and data_since(since),
                order_pending=order is not None,
                position_quantity=None if view is None else view.quantity,
                position_in_doubt=view is not None and data_quality.hold_reason(view) is not None,
                within_grace=within_grace)
