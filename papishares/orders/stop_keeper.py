"""The stops kept at the broker: the lease holder's shell around the pure plan (papishares.orders.stop_plan).

Each worker cycle, on a fresh snapshot and in this order:
  1. reconcile managed-stop requests whose outcome is unknown (timeout, 5xx, restart) against
     `/equity/orders` and `/equity/positions` fetched AFTER them, by the one verdict of
     papishares.orders.reconcile: a placement found pending is adopted, one not found after the
     grace is 'not_placed' (a later cycle may place it again: a second stop could not double-sell
     anyway, the first reserves the shares); a cancel whose order is still pending is
     'not_cancelled', one whose order is gone is settled;
  2. account for managed orders that disappeared (the same verdict): the position shrank or closed -> sold at the
     broker (journalled, alerted); shown expired by the broker -> placed again (papishares.orders.vanished);
     otherwise cancelled outside Papishares -> alerted, and the position is left out until the user
     takes it back in (`brokerstops on TICKER`);
  3. plan and act: every cancel and placement goes through papishares.orders.journal (intent before
     request, under the lease), placements limited to what the 1 / 2 s rate limit serves in a cycle.
The tickers whose shares a managed stop covers (or whose stop was just cancelled for an emergency
exit) are returned: auto-sell leaves them alone this cycle.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from papishares.broker import Broker
from papishares.core import data_quality
from papishares.core.errors import AuthError, OrderRejected
from papishares.core.models import Order, PositionView, Snapshot
from papishares.notify import rules as alerts
from papishares.orders import reconcile, stop_plan, vanished
from papishares.orders.journal import STOP_CANCEL, STOP_PLACE, OrderJournal, managed_order_ids, unresolved
from papishares.orders.reconcile import KEPT_STOP, Recorded, Verdict
from papishares.orders.stop_plan import StopInputs, StopPlan, StopSettings
from papishares.store import alerts as alert_store
from papishares.store import intents, managed_stops, manual_sells
from papishares.store.db import Store
from papishares.store.keys import AlertFamily, IntentKey, Key
from papishares.store.quantities import learned_precisions

log = logging.getLogger(__name__)

JOURNAL_KIND = "brokerstop"  # the Activity journal's kind; history reads action 'filled' as exit 'broker stop'
ORIGIN = "broker-stop"
OVERRIDE_KEY = Key.BROKER_STOPS_OVERRIDE  # 'on' / 'off' from the Settings page, over PAPISHARES_BROKER_STOPS
REFUSED_KEY = Key.BROKER_STOPS_REFUSED  # {"account": {"at", "reason"} | null, "tickers": {t: {"at", "reason"}}}
REFUSAL_RETRY = 86400.0  # a refusal is tried again no more than daily
STOP_POST_PERIOD = 2.0  # POST /equity/orders/stop: 1 / 2 s
UNSUPPORTED = re.compile(r"not (?:available|supported|allowed|permitted)|unsupported|order.?type", re.IGNORECASE)


# -- state shared with the service, the CLI and the pages ------------------------------------------------
def enabled(store: Store, default: bool) -> bool:
    value = store.get(OVERRIDE_KEY)
    return default if value not in ("on", "off") else value == "on"


def set_enabled(store: Store, on: bool | None) -> None:
    """The dashboard's switch (None: back to the environment's PAPISHARES_BROKER_STOPS)."""
    if on is None:
        store.delete(OVERRIDE_KEY)
        store.journal("settings", None, "reset", "PAPISHARES_BROKER_STOPS back to the environment's value")
        return
    store.set(OVERRIDE_KEY, "on" if on else "off")
    store.journal("settings", None, "changed", f"Stops kept at the broker switched {'on' if on else 'off'}")


def managed_rows(store: Store) -> dict[str, dict[str, Any]]:
    return managed_stops.rows(store)


def exclusions(store: Store) -> dict[str, dict[str, Any]]:
    return managed_stops.exclusions(store)


def exclude(store: Store, ticker: str, reason: str) -> None:
    managed_stops.exclude(store, ticker, reason, time.time())
    store.journal(JOURNAL_KIND, ticker, "excluded", f"{ticker} left out of the stops kept at the broker: {reason}")


def include(store: Store, ticker: str) -> bool:
    """Take a position back in. False when it was not left out."""
    gone = managed_stops.include(store, ticker)
    if gone:
        store.journal(JOURNAL_KIND, ticker, "included", f"{ticker} taken back into the stops kept at the broker")
    return bool(gone)


def refusals(store: Store) -> dict[str, Any]:
    return store.get_json(REFUSED_KEY) or {"account": None, "tickers": {}}


def refused_now(store: Store, now: float) -> tuple[bool, frozenset[str]]:
    """(the account refuses stop orders, tickers that do), for refusals younger than a day."""
    r = refusals(store)
    account = r.get("account")
    tickers = frozenset(t for t, v in (r.get("tickers") or {}).items() if now - float(v["at"]) < REFUSAL_RETRY)
    return bool(account and now - float(account["at"]) < REFUSAL_RETRY), tickers


def status_lines(store: Store, default_on: bool, now: float | None = None) -> list[str]:
    """`papishares brokerstops status`: the setting first (`on` / `off`), then what is managed and left out."""
    now = time.time() if now is None else now
    on = enabled(store, default_on)
    lines = ["on" if on else "off"]
    if store.get(OVERRIDE_KEY) in ("on", "off"):
        lines[0] += " (set on the dashboard)"
    for ticker, row in sorted(managed_rows(store).items()):
        lines.append(f"managed: {ticker} {row['quantity']:g} at {row['stop_price']:g} (order {row['order_id']})")
    for ticker, row in exclusions(store).items():
        lines.append(f"left out: {ticker} ({row['reason']})")
    account, tickers = refused_now(store, now)
    r = refusals(store)
    if account:
        lines.append(f"refused for the account: {r['account']['reason']} (tried again in a day)")
    for ticker in sorted(tickers):
        lines.append(f"refused: {ticker}: {r['tickers'][ticker]['reason']} (tried again in a day)")
    return lines


def selling_tickers(store: Store) -> frozenset[str]:
    """Tickers with a confirmed Telegram /sell not finished yet (papishares.commands.handlers' `manual_sells`):
    the keeper neither places nor moves their stop meanwhile, or it would take back the shares to sell."""
    return manual_sells.selling_tickers(store)


def live_managed(rows: dict[str, dict[str, Any]], orders: Sequence[Order]
                 ) -> dict[str, stop_plan.Managed]:
    """Managed rows whose order is pending at the broker, with the broker's own price and quantity."""
    pending = {o.id: o for o in orders if o.is_pending}
    out = {}
    for ticker, row in rows.items():
        order = pending.get(int(row["order_id"]))
        if order is not None:
            out[ticker] = stop_plan.Managed(order.id, float(order.stop_price or row["stop_price"]),
                                            abs(float(order.quantity)))
    return out


# -- the actor ------------------------------------------------------------------------------------------
@dataclass
class StopKeeper:
    store: Store
    broker: Broker
    emit: Callable[[alerts.AlertEvent], Any]
    lease_ok: Callable[[], bool] = lambda: True
    environment: str = "demo-sim"
    allow_live: bool = False
    dry_run: bool = False
    default_on: bool = False  # PAPISHARES_BROKER_STOPS
    min_move_pct: float = 0.5
    interval: float = 60.0
    cycle_seconds: float = 5.0  # the worker's cycle: bounds the placements one cycle may make
    unknown_grace: float = 10.0
    clock: Callable[[], float] = time.time
    last_plans: list[StopPlan] = field(default_factory=list)

    @property
    def journal(self) -> OrderJournal:
        return OrderJournal(self.store, self.broker, lambda: self.lease_ok(), self.clock,
                            journal_kind=JOURNAL_KIND)

    def note(self, ticker: str | None, action: str, message: str, data: dict[str, Any] | None = None) -> None:
        self.store.journal(JOURNAL_KIND, ticker, action, message, data)
        log.info("broker stop %s %s: %s", action, ticker or "", message)

    def alert(self, kind: str, headline: str, ticker: str | None, what: str, key: str | None = None) -> None:
        self.emit(alerts.AlertEvent(kind, f"{headline}\n{escape(what)}", ticker, key))

    # -- the cycle -------------------------------------------------------------------------------
    def run(self, snapshot: Snapshot, fresh: bool, data_since: Callable[[float], bool],
            unconfirmed: frozenset[str] = frozenset()) -> frozenset[str]:
        """One cycle's reconciliation, accounting and plan. Returns the tickers auto-sell leaves alone."""
        if snapshot.stale:
            return frozenset(live_managed(managed_rows(self.store), snapshot.orders))
        self.reconcile(snapshot, data_since)
        undecided = self.account(snapshot, data_since)
        rows = managed_rows(self.store)
        live = live_managed(rows, snapshot.orders)
        if not fresh:
            return frozenset(live)
        released = self.act(snapshot, rows, live, unconfirmed | undecided)
        return frozenset(live_managed(managed_rows(self.store), snapshot.orders)) | released

    # -- 1. reconciliation ------------------------------------------------------------------------
    def reconcile(self, snapshot: Snapshot, data_since: Callable[[float], bool]) -> None:
        """Settle the cancels, then the placements, whose outcome is unproven (papishares.orders.reconcile)."""
        managed_ids = managed_order_ids(self.store)  # as at the start: an adopted placement is not "ours" yet
        for intent in unresolved(self.store, STOP_CANCEL):
            self._reconcile_cancel(intent, snapshot, data_since)
        for intent in unresolved(self.store, STOP_PLACE):
            self._reconcile_placement(intent, snapshot, data_since, managed_ids)

    def _reconcile_cancel(self, intent: dict[str, Any], snapshot: Snapshot, data_since: Callable[[float], bool]
                          ) -> None:
        ticker = intent["ticker"]
        order_id = int(intent["broker_order_id"] or 0)
        seen = reconcile.seen_now(snapshot, ticker, reconcile.intent_since(intent), data_since,
                                  order=reconcile.pending_sell_order(snapshot.orders, order_id))
        verdict = reconcile.verdict(reconcile.recorded_intent(intent), seen)
        if verdict.waits:
            return  # data from before the cancel, or in doubt (filled or cancelled cannot be told): good data will
        journal = self.journal
        if verdict is Verdict.STILL_PENDING:
            journal.set_status(intent["key"], "not_cancelled", note="still pending at the broker")
            self.note(ticker, "reconciled", f"Earlier cancel of stop order {order_id}: it is still "
                      "pending at the broker (not cancelled)", {"key": intent["key"]})
            return
        managed_stops.forget(self.store, ticker, order_id)
        filled = verdict is Verdict.FILLED
        journal.set_status(intent["key"], "filled" if filled else "cancelled", note="gone from the pending orders")
        if filled:
            self._sold_at_broker(ticker, order_id, float(intent["stop_price"] or 0),
                                 float(intent["quantity"]), snapshot)
        else:
            self.note(ticker, "reconciled", f"Earlier cancel of stop order {order_id} went through",
                      {"key": intent["key"]})

    def _reconcile_placement(self, intent: dict[str, Any], snapshot: Snapshot, data_since: Callable[[float], bool],
                             managed_ids: frozenset[int]) -> None:
        ticker = intent["ticker"]
        order = reconcile.pending_stop_at(snapshot.orders, ticker, float(intent["stop_price"] or 0), managed_ids)
        seen = reconcile.seen_now(snapshot, ticker, reconcile.intent_since(intent), data_since, order=order,
                                  within_grace=self.clock() - float(intent["created_at"]) < self.unknown_grace)
        recorded = reconcile.recorded_intent(intent)
        verdict = reconcile.verdict(recorded, seen)
        if verdict is Verdict.STILL_PENDING and order is not None:
            self._adopt(ticker, order, recorded.position_quantity)
            self.journal.set_status(intent["key"], "placed", order_id=order.id, note="found pending at the broker")
            self.note(ticker, "reconciled", f"Earlier stop placement found pending (order {order.id})",
                      {"key": intent["key"], "order_id": order.id})
        elif verdict is Verdict.NO_ORDER_NO_FILL:
            self.journal.set_status(intent["key"], "not_placed", note="not in the pending orders")
            self.note(ticker, "reconciled", "Earlier stop placement is not at the broker: not placed",
                      {"key": intent["key"]})

    def _adopt(self, ticker: str, order: Order, position_quantity: float) -> None:
        self._record_managed(ticker, order.id, float(order.stop_price or 0), abs(order.quantity), position_quantity)

    def _record_managed(self, ticker: str, order_id: int, stop_price: float, quantity: float,
                        position_quantity: float) -> None:
        """The one managed stop of `ticker` (one row per ticker: never two managed stops)."""
        now = self.clock()
        managed_stops.record(self.store, ticker, order_id, stop_price, quantity, position_quantity, now)

    # -- 2. disappeared orders -------------------------------------------------------------------
    def account(self, snapshot: Snapshot, data_since: Callable[[float], bool]) -> frozenset[str]:
        """Returns the tickers whose stop left the pending orders but whose end cannot be told yet:
        nothing is placed for them this cycle (a placement would overwrite the record of the old one)."""
        busy = {i["ticker"] for i in unresolved(self.store)}
        undecided: set[str] = set()
        newest_history = vanished.first_page_reader(self.broker)  # one GET at most, for every stop gone
        for ticker, row in managed_rows(self.store).items():
            if ticker in busy:
                continue  # its unsettled request is reconciled first
            order_id = int(row["order_id"])
            seen = reconcile.seen_now(snapshot, ticker, float(row["placed_at"]), data_since,
                                      order=reconcile.pending_order(snapshot.orders, order_id))
            verdict = reconcile.verdict(Recorded(KEPT_STOP, float(row["position_quantity"] or 0)), seen)
            if verdict in (Verdict.STILL_PENDING, Verdict.WAIT_FOR_FRESH_DATA):
                continue  # still kept, or the data may predate its placement
            if verdict is Verdict.WAIT_DATA_IN_DOUBT:
                undecided.add(ticker)
                continue  # in-doubt data proves nothing about the order: decided on good data
            shrank = verdict is Verdict.FILLED
            found = None if shrank else vanished.evidence(self.store, order_id, newest_history)
            if not shrank and found is None:
                undecided.add(ticker)
                continue  # the history could not be read now: asked again next cycle
            managed_stops.forget(self.store, ticker, order_id)
            if shrank:
                self._sold_at_broker(ticker, order_id, float(row["stop_price"]), float(row["quantity"]), snapshot)
                continue
            status, texts = found or (None, [])
            why = vanished.classify(status, texts)
            if why != vanished.USER:
                self._expired(ticker, row, status, why)
                continue
            reason = f"its stop order {order_id} at {row['stop_price']:g} was cancelled outside Papishares"
            exclude(self.store, ticker, reason)
            self.alert("broker_stop_cancelled", f"⚠️ <b>Stop at the broker gone: {escape(ticker)}</b>", ticker,
                       f"{reason}. It is not replaced until you take {ticker} back in "
                       f"(`papishares brokerstops on {ticker}` or the Positions page).")
        return frozenset(undecided)

    def _expired(self, ticker: str, row: dict[str, Any], status: str | None, why: str) -> None:
        """A managed stop that expired at the broker: placed again by this cycle's plan, journalled,
        and said once."""
        order_id = int(row["order_id"])
        message = (f"Stop order {order_id} at {row['stop_price']:g} expired at the broker without a fill "
                   f"(Trading 212 shows it {status or 'ended'}); it is placed again")
        self.note(ticker, "expired", message, {"order_id": order_id, "status": status, "reading": why})
        self.alert("broker_stop_expired", f"⚠️ <b>Stop at the broker expired: {escape(ticker)}</b>", ticker,
                   message + ".", key=AlertFamily.BROKER_STOP.of("expired", order_id))

    def _sold_at_broker(self, ticker: str, order_id: int, stop_price: float, quantity: float,
                        snapshot: Snapshot) -> None:
        message = f"Sold at the broker: managed stop order {order_id} ({quantity:g} at {stop_price:g}) filled"
        intents.mark_filled(self.store, STOP_PLACE, order_id, self.clock())
        self.note(ticker, "filled", message, {"order_id": order_id, "stop_price": stop_price, "quantity": quantity,
                                              "exit_reason": "broker stop"})
        self.alert("broker_stop_filled", f"✅ <b>Sold at the broker: {escape(ticker)}</b>", ticker, message + ".",
                   key=AlertFamily.BROKER_STOP.of("filled", order_id))

    # -- 3. plan and act ----------------------------------------------------------------------------
    def inputs(self, p: PositionView, live: dict[str, stop_plan.Managed], rows: dict[str, dict[str, Any]],
               excluded: dict[str, Any], refused: tuple[bool, frozenset[str]], unconfirmed: frozenset[str],
               learned: dict[str, int], selling: frozenset[str] = frozenset()) -> StopInputs:
        row = rows.get(p.ticker)
        return StopInputs(
            ticker=p.ticker, quantity=p.quantity, available=p.quantity_available, current_price=p.current_price,
            calculated_stop=p.stop_loss_price, managed=live.get(p.ticker),
            learned_decimals=learned.get(p.ticker),
            last_move_at=float(row["moved_at"]) if row and row["moved_at"] else None,
            excluded=p.ticker in excluded, refused=refused[0] or p.ticker in refused[1],
            price_ok=not p.price_suspect and p.ticker not in unconfirmed and p.current_price > 0
            and data_quality.hold_reason(p) is None,  # unusable broker data or ~100x units: never acted on
            market_open=p.market_open, selling=p.ticker in selling)

    def settings(self) -> StopSettings:
        return StopSettings(enabled(self.store, self.default_on), self.min_move_pct, self.interval,
                            self.store.autosell_enabled)

    def act(self, snapshot: Snapshot, rows: dict[str, dict[str, Any]], live: dict[str, stop_plan.Managed],
            unconfirmed: frozenset[str]) -> frozenset[str]:
        now = self.clock()
        settings = self.settings()
        excluded = exclusions(self.store)
        refused = refused_now(self.store, now)
        learned = learned_precisions(self.store)
        selling = selling_tickers(self.store)
        plans = [stop_plan.plan(self.inputs(p, live, rows, excluded, refused, unconfirmed, learned, selling),
                                settings, now) for p in snapshot.positions]
        self.last_plans = plans
        todo = stop_plan.by_urgency([p for p in plans if p.sends], {p.ticker: p.current_price
                                                                     for p in snapshot.positions})
        if not todo:
            return frozenset()
        if self.environment == "t212-live" and not self.allow_live:
            self._once(AlertFamily.BROKER_STOP.of("live_forbidden", int(now // 86400)), None, "skipped",
                       "Stops not kept at the broker: live orders are not allowed (PAPISHARES_ALLOW_LIVE_ORDERS "
                       "is not true); the worker's auto-sell remains the protection")
            return frozenset()
        released: set[str] = set()
        places_left = max(1, int(self.cycle_seconds // STOP_POST_PERIOD))
        for plan in todo:
            view = snapshot.position(plan.ticker)
            if view is None:
                continue
            if self.dry_run:
                what = "cancel" if plan.action in (stop_plan.CANCEL, stop_plan.EMERGENCY) else "place"
                self._once(AlertFamily.BROKER_STOP.of("dry", plan.ticker, plan.action, f"{plan.stop_price:g}", f"{plan.quantity:g}"),
                           plan.ticker, f"would_{what}",
                           f"Would {plan.action} the stop at the broker: {plan.quantity:g} at {plan.stop_price:g} "
                           f"({plan.reason}; dry run, nothing sent)")
                continue
            if plan.action in (stop_plan.PLACE, stop_plan.MOVE):
                if places_left <= 0:
                    continue  # the next cycle: the stop-order rate limit serves one every 2 s
                places_left -= 1
            if plan.action == stop_plan.PLACE:
                self._place(view, plan, "placed", names=[p.ticker for p in snapshot.positions])
            elif plan.action == stop_plan.MOVE:
                self._wait_for_stop_slot()  # cancel only when the new stop can follow at once
                cancelled_at = self.clock()
                if self._cancel(view, plan, "move"):
                    self._place(view, plan, "moved", cancelled_at, [p.ticker for p in snapshot.positions])
            elif plan.action == stop_plan.CANCEL:
                self._cancel(view, plan, plan.reason)
            elif plan.action == stop_plan.EMERGENCY and self.release(
                    view, plan, f"🚨 <b>Emergency exit: {escape(plan.ticker)}</b>",
                    f"The price {view.current_price:g} reached the calculated stop {view.stop_loss_price:g} "
                    f"above the stop at the broker ({plan.stop_price:g}): that order is cancelled and auto-sell "
                    "sells at market on the next fresh cycle."):
                released.add(plan.ticker)
        return frozenset(released)

    def release(self, view: PositionView, plan: StopPlan, headline: str, what: str, key: str | None = None) -> bool:
        """Cancel the managed stop so a market sale can follow on the next fresh cycle: the emergency
        exit's step, also taken for the user's /sell (papishares.commands.handlers). True only when proven cancelled."""
        if not self._cancel(view, plan, "emergency" if key is None else "sell", key):
            return False
        self.alert("broker_stop_emergency", headline, plan.ticker, what)
        return True

    def _wait_for_stop_slot(self) -> None:
        """Wait (at most one period) until the 1 / 2 s stop-order budget has a slot, so the window
        between the cancel and the new placement is two round trips, not the rate limit's period."""
        wait = min(float(self.broker.order_slot_in("POST", "/equity/orders/stop")), STOP_POST_PERIOD + 0.5)
        if wait > 0:
            time.sleep(wait)

    def _once(self, mark: str, ticker: str | None, action: str, message: str) -> None:
        if alert_store.claim(self.store, mark, self.clock()):
            self.note(ticker, action, message)

    def _cancel(self, p: PositionView, plan: StopPlan, why: str, key: str | None = None) -> bool:
        """Cancel the managed order `plan.cancel_id`, journalled. True only when proven cancelled."""
        order_id = int(plan.cancel_id or 0)
        key = key or IntentKey.stop_cancel(p.ticker, order_id, self.clock())

        def ours_still(conn: Any) -> bool:
            return managed_stops.has(self.store, p.ticker, order_id)

        journal = self.journal
        if not journal.record(key, STOP_CANCEL, p.ticker, plan.quantity, origin=ORIGIN,
                              price=p.current_price, stop=p.stop_loss_price, stop_price=plan.stop_price,
                              detail={"position_quantity": p.quantity, "why": why}, guard=ours_still,
                              order_id=order_id):
            return False
        out = journal.cancel(key, order_id)
        if out.status == "cancelled":
            managed_stops.forget(self.store, p.ticker, order_id)
            self.note(p.ticker, "cancelled", f"Stop order {order_id} at {plan.stop_price:g} cancelled ({why})",
                      {"order_id": order_id, "why": why})
            return True
        self.note(p.ticker, out.status, out.message, {"order_id": order_id, "why": why})
        return False

    def _place(self, p: PositionView, plan: StopPlan, action: str, cancelled_at: float | None = None,
               names: list[str] | None = None) -> None:
        key = IntentKey.stop_place(p.ticker, self.clock())

        def none_managed(conn: Any) -> bool:  # never two managed stops for one position
            return not managed_stops.has(self.store, p.ticker)

        journal = self.journal
        if not journal.record(key, STOP_PLACE, p.ticker, plan.quantity, origin=ORIGIN,
                              price=p.current_price, stop=p.stop_loss_price, stop_price=plan.stop_price,
                              detail={"position_quantity": p.quantity, "reason": plan.reason}, guard=none_managed):
            return
        out = journal.place_stop(key, p.ticker, plan.quantity, plan.stop_price)
        data: dict[str, Any] = {"stop_price": plan.stop_price, "quantity": out.quantity, "reason": plan.reason}
        if cancelled_at is not None:
            data["unprotected_s"] = round(self.clock() - cancelled_at, 3)
        if out.order is not None and out.status in ("placed", "filled"):
            self._record_managed(p.ticker, out.order.id, plan.stop_price, out.quantity, p.quantity)
            self.note(p.ticker, action, f"Stop at the broker {action}: {out.quantity:g} at {plan.stop_price:g} "
                      f"(order {out.order.id})", data | {"order_id": out.order.id})
            return
        self.note(p.ticker, out.status, out.message, data)
        if out.status == "rejected" and isinstance(out.cause, AuthError):  # e.g. no orders:execute scope
            self._refuse(p.ticker, str(out.cause), names or [p.ticker], account=True)
        elif out.status == "rejected" and out.error is not None and self._is_refusal(out.error):
            self._refuse(p.ticker, str(out.error), names or [p.ticker])

    @staticmethod
    def _is_refusal(err: OrderRejected) -> bool:
        """A refusal of the order type (not a quantity, price or availability problem of this moment)."""
        kind = (err.error_type or "").lower()
        return not any(w in kind for w in ("precision", "not-owned", "quantity", "price", "funds"))

    def _refuse(self, ticker: str, reason: str, names: list[str], account: bool = False) -> None:
        now = self.clock()
        r = refusals(self.store)
        account = account or self.environment == "t212-live" or bool(UNSUPPORTED.search(reason))
        if account:
            r["account"] = {"at": now, "reason": reason}
        else:
            r.setdefault("tickers", {})[ticker] = {"at": now, "reason": reason}
        self.store.set_json(REFUSED_KEY, r)
        scope = "this account" if account else ticker
        self.note(ticker, "refused", f"Trading 212 refused stop orders for {scope}: {reason}. The worker's "
                  "auto-sell remains the protection; tried again in a day", {"account": account})
        self.alert("broker_stop_refused", f"⚠️ <b>Stops at the broker refused for {escape(scope)}</b>", ticker,
                   f"{reason}. Positions left to the worker's auto-sell: "
                   f"{', '.join(names) if account else ticker}. Tried again in a day.",
                   key=AlertFamily.BROKER_STOP.of("refused", scope, int(now // 86400)))
