"""Auto-sell: the pure sell decision, and its journalled, reconciled, never-repeated execution.

Treated like a bank payment:
- a breach has an identity, `ticker:opened_at:breach_count` (the count goes up each time the price
  falls to the stop from above), and at most ONE order is ever sent per breach: the intent is
  inserted into `sell_intents` under that UNIQUE key, inside `BEGIN IMMEDIATE` and only while this
  worker holds the lease, BEFORE the request is sent;
- an answer that does not prove the outcome (timeout, 5xx, the process killed) leaves the intent
  'intent'/'unknown', and the ticker is blocked until the intent is reconciled with FRESH pending
  orders and positions (the one verdict of papishares.orders.reconcile): a pending sell or a smaller
  position means it was placed; otherwise the ticker is held back (`held_tickers`) and the user is
  alerted until they re-arm it;
- every decision (sold, rejected, skipped and why) goes to the journal, once per breach and reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any

from papishares.broker import Broker
from papishares.core import data_quality, units
from papishares.core.models import Order, PositionView, Snapshot
from papishares.notify import rules as alerts
from papishares.orders import reconcile
from papishares.orders.journal import MARKET_SELL, OrderJournal, managed_order_ids, sent_since, unresolved
from papishares.orders.quantity import sell_quantity
from papishares.orders.reconcile import Verdict
from papishares.store import alerts as alert_store
from papishares.store import intents, positions
from papishares.store.db import Store
from papishares.store.keys import AlertFamily, IntentKey, Key
from papishares.store.quantities import learned_precisions

log = logging.getLogger(__name__)

SEEN_KEY = Key.AUTOSELL_SEEN  # {ticker: {"price", "at", "suspect"}}: the lease holder's last look at each price
SEEN_KEEP = 86400.0  # a look at a position no longer held is forgotten after a day

# Skips worth a phone alert ("skipped for safety"); the rest are only journalled.
SAFETY_SKIPS = frozenset({"suspect_price", "live_forbidden", "nothing_available", "dry_run"})


# -- pure ------------------------------------------------------------------------------------------------
def breach_key(ticker: str, opened_at: float | None, breach_count: int) -> str:
    return IntentKey.breach_sale(ticker, opened_at, breach_count)


@dataclass(frozen=True)
class SellContext:
    """Everything the decision reads besides the position itself."""

    enabled: bool
    fresh: bool  # the snapshot's prices were fetched in this cycle
    environment: str
    allow_live: bool
    dry_run: bool = False
    held: frozenset[str] = frozenset()
    unresolved: frozenset[str] = frozenset()  # tickers with an intent not yet reconciled
    pending_sell: frozenset[str] = frozenset()  # tickers with a pending SELL order of the user's
    broker_stop: frozenset[str] = frozenset()  # tickers whose shares a managed stop covers (or just released)
    done: frozenset[str] = frozenset()  # breach keys already acted on
    # tickers with an order request recorded after this snapshot's positions were fetched (a sale or a
    # stop earlier in this cycle): its quantities and pending orders predate that order
    sent_since_data: frozenset[str] = frozenset()
    unconfirmed: frozenset[str] = frozenset()  # prices no earlier worker cycle has confirmed
    precision: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    ticker: str
    action: str  # "sell" | "skip" | "dry_run"
    reason: str  # a short code: sell, off, held, stale, suspect_price, pending_sell, ...
    message: str  # a sentence for the journal and the phone
    quantity: float = 0.0
    key: str = ""

    @property
    def alert(self) -> bool:
        return self.action == "dry_run" or (self.action == "skip" and self.reason in SAFETY_SKIPS)


def pending_sells(orders: tuple[Order, ...] | list[Order], managed: frozenset[int] = frozenset()) -> frozenset[str]:
    """Tickers with a pending SELL order of the user's (Papishares' managed stops are not theirs)."""
    return frozenset(o.ticker for o in orders if o.is_sell and o.is_pending and o.id not in managed)


def decide(p: PositionView, key: str, ctx: SellContext) -> Decision | None:
    """The sell decision for one position; None when its price is above its calculated stop
    (or this breach was already acted on). With auto-sell on, a position in doubt (unusable broker
    data, ~100x units) is always a skip, whatever its stop says (journalled once per breach)."""
    doubt = data_quality.hold_reason(p)
    if doubt is not None and ctx.enabled and key not in ctx.done:
        return Decision(p.ticker, "skip", "bad_data" if p.data_note else "units_mismatch",
                        f"Not sold: {doubt}.", key=key)
    stop = p.stop_loss_price
    if stop is None or p.current_price > stop or key in ctx.done:
        return None
    where = f"price {p.current_price:g} at or below the stop {stop:g}"
    if not ctx.enabled:
        return Decision(p.ticker, "skip", "off", f"Not sold: auto-sell is off ({where}).", key=key)
    quantity = sell_quantity(p.quantity_available, ctx.precision.get(p.ticker))  # <= 4 decimals, truncated
    return checked(p, key, ctx, quantity, where, "Selling")


def checked(p: PositionView, key: str, ctx: SellContext, quantity: float, where: str, verb: str) -> Decision:
    """The safety checks every sale passes (auto-sell's and the user's own /sell): a skip naming the
    first one that fails, else the dry-run note or the sell of `quantity`."""

    def skip(reason: str, why: str) -> Decision:
        return Decision(p.ticker, "skip", reason, f"Not sold: {why} ({where}).", key=key)

    doubt = data_quality.hold_reason(p)  # also for the user's /sell: never sold on bad or 100x data
    if doubt is not None:
        return skip("bad_data" if p.data_note else "units_mismatch", doubt)
    if p.ticker in ctx.held:
        return skip("held", "an earlier sale's outcome is unknown; re-arm it with "
                            f"`papishares autosell rearm {p.ticker}` or on the Activity page")
    if p.ticker in ctx.unresolved:
        return skip("reconciling", "an earlier sell request is being checked with the broker")
    if not ctx.fresh:
        return skip("stale", "the price is not fresh from this cycle")
    if p.price_suspect or p.ticker in ctx.unconfirmed:
        return skip("suspect_price", "the price moved more than 50% since the last one seen; "
                                     "waiting for the next cycle to confirm it")
    if p.ticker in ctx.broker_stop:
        return skip("broker_stop", "a stop order kept at the broker covers its shares")
    if p.ticker in ctx.sent_since_data:
        return skip("sent_since_data", "an order for it was sent after these prices were fetched; "
                                       "waiting for fresh data")
    if p.market_open is not True:
        return skip("market_closed", "its exchange is closed by the Trading 212 schedule"
                    if p.market_open is False else "its exchange's schedule is unknown")
    # The user's own pending sells keep the shares they reserve; the rest (quantityAvailableForTrading)
    # is still protected: a partial manual stop no longer blocks the whole position (issue 10).
    if quantity <= 0 and p.ticker in ctx.pending_sell:
        return skip("pending_sell", "sell orders already pending for it reserve every share")
    if quantity <= 0:
        return skip("nothing_available", "no shares are available for trading (pies or pending orders)")
    if ctx.environment == "t212-live" and not ctx.allow_live:
        return skip("live_forbidden", "live orders are not allowed (PAPISHARES_ALLOW_LIVE_ORDERS is not true)")
    if ctx.dry_run:
        return Decision(p.ticker, "dry_run", "dry_run",
                        f"Would sell {quantity:g} at market (dry run, nothing sent; {where}).", quantity, key)
    return Decision(p.ticker, "sell", "sell", f"{verb} {quantity:g} at market ({where}).", quantity, key)


# -- state ----------------------------------------------------------------------------------------------
def held_tickers(store: Store) -> list[dict[str, Any]]:
    return intents.held(store)


def rearm(store: Store, ticker: str) -> bool:
    """Hand a held position back to auto-sell. False when nothing was held for `ticker`.

    The breach count goes up by one, so a breach still under way gets a new identity and may sell.
    """
    if not intents.rearm(store, ticker, time.time()):
        return False
    store.journal("autosell", ticker, "rearmed", f"{ticker} handed back to auto-sell by the user")
    return True


def update_breaches(store: Store, snapshot: Snapshot) -> dict[str, str]:
    """Count breaches (price at or below the calculated stop) and return each position's breach key.

    Called only by the lease holder on a fresh snapshot: a breach starts when the price goes to or
    below the stop (count + 1) and ends when it recovers above it.
    """
    keys: dict[str, str] = {}
    for p in snapshot.positions:
        breached = int(p.stop_loss_price is not None and p.current_price <= p.stop_loss_price)
        row = positions.note_breach(store, p.ticker, bool(breached))
        if row is not None:
            keys[p.ticker] = breach_key(p.ticker, row[1], row[0])
    return keys


def unconfirmed_prices(store: Store, snapshot: Snapshot) -> frozenset[str]:
    """Tickers whose price no earlier worker cycle has confirmed (a >50% move, or not a price at all).

    The service's `price_suspect` compares with the last price *any* snapshot recorded, and the
    dashboard and the CLI record prices too: a bad tick the dashboard happened to look at first
    would count as confirmed on the worker's first sight of it. The contract asks for the next
    *worker cycle* to see it again, so the lease holder keeps its own looks here. A look counts only
    when its positions were fetched after the previous one: the same cached answer served to two
    cycles is one look, and confirms nothing.
    """
    seen: dict[str, Any] = store.get_json(SEEN_KEY) or {}
    at = snapshot.data_time.timestamp() if snapshot.data_time else None
    out: set[str] = set()
    for p in snapshot.positions:
        last = seen.get(p.ticker)
        last_at = last.get("at") if last else None
        if last is not None and at is not None and last_at is not None and at <= float(last_at):
            suspect = bool(last.get("suspect"))  # the same look again: nothing new confirms it
        else:
            prev = float(last["price"]) if last and last.get("price") is not None else None
            price = p.current_price
            suspect = units.moved_too_far(prev, price)
            seen[p.ticker] = {"price": price, "at": at if at is not None else snapshot.generated_at.timestamp(),
                              "suspect": suspect}
        if suspect:
            out.add(p.ticker)
    held = {p.ticker for p in snapshot.positions}
    horizon = snapshot.generated_at.timestamp() - SEEN_KEEP
    store.set_json(SEEN_KEY, {t: v for t, v in seen.items() if t in held or float(v.get("at") or 0) > horizon})
    return frozenset(out)


def unresolved_intents(store: Store) -> list[dict[str, Any]]:
    """Market sells (auto-sell's, the user's /sell) whose outcome is not settled yet."""
    return unresolved(store, MARKET_SELL)


def done_keys(store: Store, keys: list[str]) -> frozenset[str]:
    return intents.existing_keys(store, keys)


# -- the actor ------------------------------------------------------------------------------------------
Emit = Callable[[alerts.AlertEvent], Any]


@dataclass
class AutoSeller:
    """Runs decisions and executions for one worker. `lease_ok()` is checked inside the intent's
    transaction, so a worker that lost its lease can never send."""

    store: Store
    broker: Broker
    emit: Emit
    lease_ok: Callable[[], bool] = lambda: True
    environment: str = "demo-sim"
    allow_live: bool = False
    dry_run: bool = False
    unknown_grace: float = 10.0  # seconds an unproven outcome is re-checked before the ticker is held
    clock: Callable[[], float] = time.time

    # -- decisions ---------------------------------------------------------------------------------
    @property
    def journal(self) -> OrderJournal:
        return OrderJournal(self.store, self.broker, lambda: self.lease_ok(), self.clock)

    def context(self, snapshot: Snapshot, fresh: bool, unconfirmed: frozenset[str] = frozenset(),
                done: frozenset[str] = frozenset(), broker_stop: frozenset[str] = frozenset()) -> SellContext:
        """What every sale's checks read, from the store and this cycle's snapshot."""
        return SellContext(
            enabled=self.store.autosell_enabled,
            fresh=fresh and not snapshot.stale,
            environment=self.environment,
            allow_live=self.allow_live,
            dry_run=self.dry_run,
            held=frozenset(h["ticker"] for h in held_tickers(self.store)),
            unresolved=frozenset(i["ticker"] for i in unresolved(self.store)),  # any kind
            sent_since_data=sent_since(self.store, snapshot.data_time.timestamp())
            if snapshot.data_time is not None else frozenset(),
            pending_sell=pending_sells(snapshot.orders, managed_order_ids(self.store)),
            broker_stop=broker_stop,
            done=done,
            precision=learned_precisions(self.store),
            unconfirmed=unconfirmed,
        )

    def run(self, snapshot: Snapshot, fresh: bool, breach_keys: dict[str, str],
            unconfirmed: frozenset[str] = frozenset(), broker_stop: frozenset[str] = frozenset()) -> list[Decision]:
        ctx = self.context(snapshot, fresh, unconfirmed, done=done_keys(self.store, list(breach_keys.values())),
                           broker_stop=broker_stop)
        decisions = []
        for p in snapshot.positions:
            key = breach_keys.get(p.ticker)
            if key is None:
                continue
            decision = decide(p, key, ctx)
            if decision is None:
                continue
            decisions.append(decision)
            if decision.action == "sell":
                self.execute(p, decision, snapshot.account.currency)
            else:
                self._note_skip(p, decision, snapshot.account.currency)
        return decisions

    def _note_skip(self, p: PositionView, d: Decision, currency: str) -> None:
        """Journal (and for safety skips, alert) a skip once per breach and reason."""
        if not alert_store.claim(self.store, AlertFamily.AUTOSELL.of(d.key, d.reason), self.clock()):
            return
        action = "would_sell" if d.action == "dry_run" else "skipped"
        self.store.journal("autosell", p.ticker, action, d.message,
                           {"reason": d.reason, "breach": d.key, "price": p.current_price,
                            "stop": p.stop_loss_price, "quantity": d.quantity})
        log.info("auto-sell %s %s: %s", action, p.ticker, d.message)
        if d.alert:
            kind = "autosell_dry_run" if d.action == "dry_run" else "autosell_skipped"
            self.emit(alerts.autosell_event(kind, p, d.message, currency))

    # -- execution ---------------------------------------------------------------------------------
    def execute(self, p: PositionView, d: Decision, currency: str, require_flag: bool = True,
                origin: str = "auto-sell") -> str:
        """Send the one sell for this decision through the order journal (`d.key` is its identity: a
        breach, or a user's /sell). `require_flag=False` for the user's own /sell: it needs no auto-sell
        flag, all else holds. Returns the intent's final status for this cycle."""
        def guard(conn: Any) -> bool:
            # The user may have switched auto-sell off since this cycle began (an earlier sale of the
            # cycle can take the whole HTTP timeout): the flag is read again under the write lock.
            return not require_flag or self.store.autosell_enabled

        detail = {"position_quantity": p.quantity, "available": p.quantity_available,
                  "environment": self.environment}
        journal = self.journal
        if not journal.record(d.key, MARKET_SELL, p.ticker, d.quantity, origin=origin,
                              price=p.current_price, stop=p.stop_loss_price, detail=detail, guard=guard):
            log.info("sell of %s not sent: %s already handled, auto-sell switched off or lease not held",
                     p.ticker, d.key)
            return "not_ours"
        out = journal.sell_market(d.key, p.ticker, d.quantity)
        if out.status == "deferred":
            self.store.journal("autosell", p.ticker, "deferred", out.message, {"breach": d.key})
        elif out.status == "unknown":
            self.store.journal("autosell", p.ticker, "unknown",
                               f"{out.message}; checking pending orders and positions before anything else",
                               {"breach": d.key})
        else:
            order_id = out.order.id if out.order else None
            message = (f"Sold {out.quantity:g} at market (order {order_id}, {out.order.status})."
                       if out.order is not None else out.message)
            action = "sold" if out.status in ("placed", "filled") else "rejected"
            self.store.journal("autosell", p.ticker, action, message,
                               {"breach": d.key, "order_id": order_id, "price": p.current_price,
                                "stop": p.stop_loss_price, "quantity": out.quantity})
            kind = "autosell_placed" if action == "sold" else "autosell_rejected"
            self.emit(alerts.autosell_event(kind, p, message, currency))
        return out.status

    # -- reconciliation -----------------------------------------------------------------------------
    def reconcile(self, snapshot: Snapshot, data_since: Callable[[float], bool]) -> list[tuple[str, str]]:
        """Settle intents whose outcome is unproven, from pending orders and positions fetched after them.

        `data_since(t)` says whether both positions and orders were fetched after time t.
        Returns (ticker, new status) pairs.
        """
        out: list[tuple[str, str]] = []
        if snapshot.stale:
            return out
        managed = managed_order_ids(self.store)  # our stops are pending sells, not this sale
        for intent in unresolved_intents(self.store):
            ticker = intent["ticker"]
            order = reconcile.pending_market_sell(snapshot.orders, ticker, managed)
            seen = reconcile.seen_now(snapshot, ticker, reconcile.intent_since(intent), data_since, order=order,
                                      within_grace=self.clock() - float(intent["created_at"]) < self.unknown_grace)
            verdict = reconcile.verdict(reconcile.recorded_intent(intent), seen)
            if verdict.waits:
                continue  # the data predates the request, is in doubt, or the broker may not show it yet
            if verdict is Verdict.NO_ORDER_NO_FILL:
                self._hold(intent, snapshot)
                out.append((ticker, "held"))
                continue
            order_id: int | None = None
            if verdict is Verdict.STILL_PENDING and order is not None:  # queued at the broker
                status, note, order_id = "placed", f"found pending sell order {order.id} at the broker", order.id
            else:  # FILLED
                status, note = "filled", "the position is gone or smaller: the sell went through"
            view = snapshot.position(ticker)
            self.journal.set_status(intent["key"], status, order_id=order_id, note=note)
            self.store.journal("autosell", ticker, "reconciled", f"Earlier sell request for {ticker}: {note}",
                               {"breach": intent["key"], "status": status})
            if view is not None:
                self.emit(alerts.autosell_event("autosell_placed", view, f"Reconciled: {note}.",
                                                snapshot.account.currency))
            else:
                self.emit(alerts.AlertEvent("autosell_placed", f"✅ <b>Auto-sell went through: "
                                            f"{escape(ticker)}</b>\n{escape(note)}.", ticker))
            out.append((ticker, status))
        return out

    def _hold(self, intent: dict[str, Any], snapshot: Snapshot) -> None:
        ticker = intent["ticker"]
        reason = (f"sell request of {intent['quantity']:g} has an unknown outcome: no pending sell order and "
                  "the position is unchanged")
        intents.hold(self.store, ticker, reason, self.clock())
        self.journal.set_status(intent["key"], "held", note=reason)
        message = (f"Outcome unknown: {reason}. Auto-sell leaves {ticker} to you: check Trading 212, then "
                   f"re-arm with `papishares autosell rearm {ticker}` or the dashboard's Activity page.")
        self.store.journal("autosell", ticker, "held", message, {"breach": intent["key"]})
        view = snapshot.position(ticker)
        if view is not None:
            self.emit(alerts.autosell_event("autosell_unknown", view, message, snapshot.account.currency))
        else:
            self.emit(alerts.AlertEvent("autosell_unknown", f"❓ <b>Auto-sell outcome unknown: "
                                        f"{escape(ticker)}</b>\n{escape(message)}", ticker))
