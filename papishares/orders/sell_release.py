"""A Telegram /sell of shares a managed stop at the broker reserves: cancel that stop, then sell.

The shares a Papishares-managed SELL STOP covers are not `quantityAvailableForTrading`, so a /sell
would find nothing to sell. Instead, once every check of `autosell.checked()` passes, the stop is
cancelled through the stop keeper's emergency-exit step (`StopKeeper.release`: an order-journal
`stop_cancel` intent under the key `tgsell:<conf>:release`, recorded under the lease before it is
sent), and the market sale follows in the next fresh cycle, checked again. Meanwhile the keeper
neither places nor moves a stop for that ticker (`stop_keeper.selling_tickers`). A cancel that did
not go through, or a stop that filled meanwhile, ends the request with a sentence: nothing more is
sent. The user's OWN stop is never cancelled (`own_orders_text`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape
from typing import Any

from papishares.core.models import PositionView, Snapshot
from papishares.orders import reconcile, stop_plan
from papishares.orders.journal import UNRESOLVED
from papishares.orders.reconcile import Verdict
from papishares.orders.stop_keeper import StopKeeper, live_managed, managed_rows
from papishares.store import intents
from papishares.store.db import Store
from papishares.store.keys import IntentKey

WAIT, SELL, DONE = "wait", "sell", "done"


def release_key(key: str) -> str:
    return IntentKey.release(key)


def managed_stop(store: Store, snapshot: Snapshot, ticker: str) -> stop_plan.Managed | None:
    """The managed stop of `ticker` as pending in this snapshot, or None."""
    return live_managed(managed_rows(store), snapshot.orders).get(ticker)


def own_orders_text(p: PositionView) -> str:
    """Why nothing can be sold when the user's own pending sells hold every share (never cancelled here).
    Plain text: the caller escapes it for Telegram's HTML."""
    stop = (f" (your stop at {p.manual_stop_loss_price:g} for {p.manual_stop_loss_quantity:g})"
            if p.manual_stop_loss_price else "")
    return (f"Not sold: your own pending sell orders{stop} reserve every share of {p.short_name or p.ticker}, "
            "so there is nothing to sell. Papishares does not cancel your orders: cancel yours in Trading 212 first, "
            "then send /sell again.")


def release_intent(store: Store, key: str) -> dict[str, Any] | None:
    return intents.by_key(store, release_key(key))


def start(keeper: StopKeeper, p: PositionView, m: stop_plan.Managed, key: str) -> tuple[str, str] | None:
    """Cancel the managed stop for the /sell under `key`. (status, note) for the request, or None when
    nothing was recorded (lease lost, another request on the ticker unsettled): try again next cycle."""
    what = (f"Your /sell of {p.ticker}: the stop Papishares kept at the broker (order {m.order_id}, {m.quantity:g} "
            f"at {m.stop_price:g}) is cancelled first; the sale at market follows on the next fresh cycle.")
    done = keeper.release(p, stop_plan.release(p.ticker, m), f"🛑 <b>Stop at the broker cancelled for your "
                          f"/sell: {escape(p.ticker)}</b>", what, key=release_key(key))
    intent = release_intent(keeper.store, key)
    if intent is None:
        return None
    if done:
        return "releasing", (f"The stop at the broker (order {m.order_id}, {m.quantity:g} at {m.stop_price:g}) is "
                             "cancelled: selling at market on the next fresh cycle.")
    return "releasing", (f"Cancelling the stop at the broker (order {m.order_id}) first: "
                         f"{_note(intent) or intent['status']}. Checking before anything else.")


def follow(store: Store, intent: dict[str, Any], snapshot: Snapshot,
           data_since: Callable[[float], bool]) -> tuple[str, str, str]:
    """Where the cancel for a /sell stands: (WAIT | SELL | DONE, the request's status, its note).

    SELL only once the cancel is proven and the positions and orders were fetched after it."""
    status = intent["status"]
    order_id = intent["broker_order_id"]
    if status in UNRESOLVED:
        return WAIT, "releasing", ""  # the keeper reconciles an unproven cancel against fresh orders
    if status == "not_cancelled":  # reconciled on data fetched after the cancel: the stop is still there
        return DONE, "rejected", (f"Not sold: the stop at the broker (order {order_id}) could not be cancelled (it "
                                  "is still pending there). Nothing more was sent.")
    if status != "filled":
        # A cancel the broker answered: cancelled, or refused (a 404 when the stop had just filled). Its
        # order is not looked for: only the position, fetched after the answer, tells a fill from a refusal.
        seen = reconcile.seen_now(snapshot, intent["ticker"], reconcile.intent_since(intent), data_since, order=None)
        verdict = reconcile.verdict(reconcile.recorded_intent(intent), seen)
        if verdict is Verdict.WAIT_FOR_FRESH_DATA:
            return WAIT, "releasing", ""  # the released shares (or a fill) show only in data fetched after it
        if status == "cancelled":
            return SELL, "releasing", ""  # the sale is checked again on this fresh data (what is available now)
        if verdict.waits:
            return WAIT, "releasing", ""  # in-doubt position data cannot tell a fill from a refusal
        status = "filled" if verdict is Verdict.FILLED else status
    if status == "filled":
        return DONE, "filled", (f"Not sent: the stop at the broker (order {order_id}) filled meanwhile, so the "
                                "shares were sold there. Nothing more was sent.")
    why = _note(intent) or status
    return DONE, "rejected", (f"Not sold: the stop at the broker (order {order_id}) could not be cancelled ({why}). "
                              "Nothing more was sent.")


def _note(intent: dict[str, Any]) -> str:
    return str(json.loads(intent["detail"] or "{}").get("note") or "").strip().rstrip(".")
