"""The order journal: the ONE intent -> request -> outcome mechanism every order path uses.

Auto-sell's market sell, the managed stop's placement and cancel (papishares.orders.stop_keeper) and the
user's own `/sell` all go through it, like a bank payment:
- `record()` inserts the intent (a `sell_intents` row of its `kind`) inside `BEGIN IMMEDIATE`, only
  while this worker holds the lease and only when the caller's `guard` still passes under the write
  lock, BEFORE anything is sent; a key is UNIQUE, so one intent is one request, ever;
- `sell_market()` / `place_stop()` / `cancel()` send it once (a precision rejection gets exactly one
  truncated retry, from papishares.orders.quantity) and set the row's status from the answer;
- an answer that proves nothing (timeout, 5xx, unreadable body, the process killed) leaves the row
  'unknown' (or 'intent'): its owner settles it with the one verdict of papishares.orders.reconcile
  on FRESH `/equity/orders` and `/equity/positions`, and nothing is sent for that ticker until it is
  settled (`busy()`).

Kinds (also what papishares.history reads as exit reasons, with `origin`):
    market_sell   origin 'auto-sell' | 'telegram' | 'emergency'   -> a sale by the worker
    stop_place    origin 'broker-stop'                            -> a managed SELL STOP placed
    stop_cancel   origin 'broker-stop'                            -> a managed SELL STOP cancelled
Statuses: intent, unknown (unproven) -> placed | filled | rejected | cancelled | not_placed |
not_cancelled | held | rearmed.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from papishares.broker import Broker
from papishares.core.errors import AuthError, LiveOrdersForbidden, OrderRejected, PapisharesError, RateLimited
from papishares.core.models import Order
from papishares.orders.quantity import is_precision_error, retry_decimals, sell_quantity, stated_precision
from papishares.store import intents, managed_stops
from papishares.store.db import Store
from papishares.store.quantities import learn_precision

log = logging.getLogger(__name__)

UNRESOLVED = ("intent", "unknown")
MARKET_SELL, STOP_PLACE, STOP_CANCEL = "market_sell", "stop_place", "stop_cancel"

Guard = Callable[[sqlite3.Connection], bool]


@dataclass(frozen=True)
class Outcome:
    """What one request came to. status: placed | filled | cancelled | rejected | deferred | unknown | not_ours."""

    status: str
    message: str
    quantity: float = 0.0
    order: Order | None = None
    error: OrderRejected | None = None
    cause: Exception | None = None  # what refused it before or without an order (auth, live guard)

    @property
    def proven(self) -> bool:
        return self.status not in ("unknown", "not_ours")


def unresolved(store: Store, kind: str | None = None) -> list[dict[str, Any]]:
    return intents.unresolved(store, kind)


def busy(store: Store, ticker: str) -> bool:
    """An unsettled request of any kind, or a held sale, for `ticker`: nothing new may be sent."""
    return intents.busy(store, ticker)


def sent_since(store: Store, moment: float) -> frozenset[str]:
    """Tickers with an order request of any kind recorded at or after `moment` (whatever its outcome):
    data fetched before `moment` no longer shows what is available or pending for them."""
    return intents.tickers_since(store, moment)


@dataclass
class OrderJournal:
    store: Store
    broker: Broker
    lease_ok: Callable[[], bool] = lambda: True
    clock: Callable[[], float] = time.time
    journal_kind: str = "autosell"  # the Activity journal's kind for retries written here

    # -- intents -----------------------------------------------------------------------------------
    def record(self, key: str, kind: str, ticker: str, quantity: float, *, origin: str, price: float | None = None,
               stop: float | None = None, stop_price: float | None = None, detail: dict[str, Any] | None = None,
               guard: Guard | None = None, order_id: int | None = None) -> bool:
        """Insert the intent under `key`, under the lease, when nothing else is unsettled for the ticker
        and `guard(conn)` passes under the same write lock. False: not ours to send."""
        now = self.clock()
        with self.store.transaction() as conn:
            if not self.lease_ok() or busy(self.store, ticker):
                return False
            if guard is not None and not guard(conn):
                return False
            return intents.record(self.store, key, kind, ticker, quantity, origin=origin, at=now, price=price,
                                  stop=stop, stop_price=stop_price, detail=detail, order_id=order_id)

    def set_status(self, key: str, status: str, order_id: int | None = None, note: str | None = None,
                   quantity: float | None = None, extra: dict[str, Any] | None = None) -> None:
        row = intents.by_key(self.store, key)
        detail = json.loads(row["detail"] or "{}") if row else {}
        if note:
            detail["note"] = note
        detail.update(extra or {})
        intents.set_status(self.store, key, status, self.clock(), detail, order_id=order_id, quantity=quantity)

    def drop(self, key: str) -> None:
        """Forget an intent proven never sent (refused before sending, e.g. by the rate budget)."""
        intents.drop_unsent(self.store, key)

    # -- requests ----------------------------------------------------------------------------------
    def sell_market(self, key: str, ticker: str, quantity: float) -> Outcome:
        """`POST /equity/orders/market` for a recorded intent (the sell of `quantity` shares)."""
        return self._send(key, ticker, quantity, "market sell",
                          lambda q: self.broker.place_market_order(ticker, -q, extended_hours=False))

    def place_stop(self, key: str, ticker: str, quantity: float, stop_price: float) -> Outcome:
        """`POST /equity/orders/stop`, GOOD_TILL_CANCEL, for a recorded intent."""
        return self._send(key, ticker, quantity, f"stop order at {stop_price:g}",
                          lambda q: self.broker.place_stop_order(ticker, -q, stop_price, "GOOD_TILL_CANCEL"))

    def cancel(self, key: str, order_id: int) -> Outcome:
        """`DELETE /equity/orders/{id}` for a recorded intent. A 404 is 'rejected' (not pending any more:
        filled or cancelled already); its caller works out which from fresh data."""
        try:
            self.broker.cancel_order(order_id)
        except OrderRejected as err:
            return self._settle(key, Outcome("rejected", f"Cancel of order {order_id} refused: {err}", error=err))
        except RateLimited as err:
            self.drop(key)
            return Outcome("deferred", f"Cancel of order {order_id} not sent yet: {err}")
        except (LiveOrdersForbidden, AuthError) as err:
            return self._settle(key, Outcome("rejected", f"Cancel of order {order_id} not sent: {err}"))
        except Exception as err:  # noqa: BLE001 - timeout, 5xx: the outcome is unknown
            return self._unknown(key, f"cancel of order {order_id}", err, None)
        return self._settle(key, Outcome("cancelled", f"Order {order_id} cancelled."))

    def _send(self, key: str, ticker: str, quantity: float, what: str, send: Callable[[float], Order]) -> Outcome:
        retried = False
        while True:
            log.warning("order journal: sending %s of %g %s (%s)", what, quantity, ticker, key)
            try:
                order = send(quantity)
            except OrderRejected as err:
                smaller, decimals = self._precision_retry(err, ticker, quantity)
                if not retried and 0 < smaller < quantity:
                    self.store.journal(self.journal_kind, ticker, "retry",
                                       f"Broker refused the precision of {quantity:g}: retrying once with "
                                       f"{smaller:g} ({decimals} decimals)",
                                       {"key": key, "breach": key, "first": quantity, "second": smaller})
                    # A rejection means nothing was placed: one retry, truncated, is safe.
                    quantity, retried = smaller, True
                    self.set_status(key, "intent", quantity=quantity, note="precision retry")
                    continue
                return self._settle(key, Outcome("rejected", f"{what.capitalize()} of {quantity:g} rejected by "
                                                 f"the broker: {err}", quantity, error=err))
            except RateLimited as err:
                self.drop(key)  # refused before sending (or a 429): nothing was placed
                return Outcome("deferred", f"{what.capitalize()} not sent yet: {err}", quantity)
            except (LiveOrdersForbidden, AuthError) as err:
                return self._settle(key, Outcome("rejected", f"{what.capitalize()} of {quantity:g} not sent: {err}",
                                                 quantity, cause=err))
            except Exception as err:  # noqa: BLE001 - timeout, 5xx, anything: the outcome is unknown
                return self._unknown(key, f"{what} of {quantity:g}", err, quantity)
            status = "filled" if order.status.upper() == "FILLED" else "placed"
            return self._settle(key, Outcome(status, f"{what.capitalize()} of {quantity:g} placed "
                                             f"(order {order.id}, {order.status}).", quantity, order))

    def _precision_retry(self, err: OrderRejected, ticker: str, sent: float) -> tuple[float, int]:
        """(the truncated quantity for the one retry, its decimals) after a precision rejection, else (0, 0).

        A stated number is learned for the instrument's next sells, whichever reading it has."""
        texts = (*err.texts, err.detail or "")
        if not is_precision_error(err.error_type, *texts):
            return 0.0, 0
        stated = stated_precision(*texts)
        decimals = retry_decimals(sent, stated)
        if stated is not None:
            learn_precision(self.store, ticker, decimals)
        return sell_quantity(sent, decimals), decimals

    def _settle(self, key: str, outcome: Outcome) -> Outcome:
        self.set_status(key, outcome.status, order_id=outcome.order.id if outcome.order else None,
                        note=outcome.message, quantity=outcome.quantity or None)
        return outcome

    def _unknown(self, key: str, what: str, err: Exception, quantity: float | None) -> Outcome:
        note = str(err) if isinstance(err, PapisharesError) else type(err).__name__
        self.set_status(key, "unknown", note=note[:300], quantity=quantity)
        log.warning("order journal: outcome of %s unknown (%s)", what, note)
        return Outcome("unknown", f"{what[0].upper() + what[1:]} sent but its outcome is unknown ({note})",
                       quantity or 0.0)


def managed_order_ids(store: Store) -> frozenset[int]:
    """Ids of the SELL STOP orders Papishares keeps at the broker (papishares.orders.stop_keeper): not the user's."""
    return managed_stops.order_ids(store)


def papishares_order_ids(store: Store) -> frozenset[int]:
    """Ids of every order Papishares sent and may still see pending: its managed stops, and any order
    the journal recorded as placed (a market sell queued while its market is closed). The Orders page
    marks them; every other pending order is the user's own."""
    return managed_order_ids(store) | intents.placed_order_ids(store)
