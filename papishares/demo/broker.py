"""The built-in demo broker: a simulated GBP account that moves and fills orders.

State lives in the shared SQLite file (demo_kv, demo_positions, demo_orders) so the dashboard and
the worker see one account. Prices come from `papishares.demo.simulation` (a pure function of seed and
clock), so nothing needs to tick in the background: pending orders are settled lazily, inside the
`BEGIN IMMEDIATE` transaction of whichever read or order comes next, by replaying the price path
since the last settlement. Like Trading 212, a market order sent while its exchange is closed is
queued and fills at the next open; prices rest at the last close while a market is closed.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from papishares.broker.t212_history import HistoryPage
from papishares.core.errors import OrderRejected
from papishares.core.models import Account, BrokerPosition, Exchange, Instrument, Order
from papishares.demo import simulation as sim
from papishares.store import demo as demo_store
from papishares.store.db import Store

PENDING = ("NEW", "CONFIRMED")
SAMPLE_STEP_S = 5.0  # price path resolution when settling resting orders
MAX_SAMPLES = 20_000  # bounds the work after a long pause (the step widens instead)
EPS = 1e-9


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


class DemoBroker:
    """Implements the `Broker` protocol against the simulated account."""

    environment = "demo-sim"

    def __init__(self, store: Store, seed: int = 212, always_open: bool = False,
                 clock: Callable[[], float] = time.time, book: int | None = None) -> None:
        """`book`: with several accounts, this account's position among them: its own holdings
        (`simulation.held`); None: the one demo account."""
        self.store = store
        self.book = book
        self.seed = seed
        self.always_open = always_open
        self.clock = clock
        self._data_times: dict[str, float] = {}
        self.rate_headers: dict[str, dict[str, str]] = {}  # no rate limits: never any headers

    # -- state ----------------------------------------------------------------------------------
    @contextmanager
    def _state(self, kind: str | None = None) -> Iterator[tuple[sqlite3.Connection, float]]:
        """One atomic view: seed on first use, settle pending orders up to now, then read/write."""
        now = self.clock()
        with self.store.transaction() as conn:
            self._ensure_seeded(conn, now)
            self._settle(conn, now)
            yield conn, now
        if kind:
            self._data_times[kind] = now

    def reset(self) -> bool:
        """Start the demo afresh (order ids keep counting up so old journal entries stay unambiguous)."""
        with self.store.transaction() as conn:
            demo_store.reset(self.store)
            self._ensure_seeded(conn, self.clock())
        return True

    def _kv(self, conn: sqlite3.Connection, key: str) -> str | None:
        return demo_store.get(self.store, key)

    def _set_kv(self, conn: sqlite3.Connection, key: str, value: Any) -> None:
        demo_store.put(self.store, key, value)

    def _row(self, order_id: int) -> dict[str, Any]:
        row = demo_store.order(self.store, order_id)
        if row is None:
            raise KeyError(order_id)  # only asked for an order just written
        return row

    def _price(self, ticker: str, t: float) -> float:
        return sim.price(ticker, t, self.seed)

    def _current(self, ticker: str, now: float) -> float:
        return sim.current_price(ticker, now, self.seed, self.always_open)

    def _ensure_seeded(self, conn: sqlite3.Connection, now: float) -> None:
        if self._kv(conn, demo_store.SEEDED_AT) is not None:
            return
        invested = 0.0
        for inst in sim.held(self.book):
            opened = now - inst.held_weeks * 7 * 86400
            avg = round(self._price(inst.ticker, opened) * inst.avg_factor, 2)
            demo_store.seed_position(self.store, inst.ticker, inst.held_quantity, inst.in_pies, avg, opened)
            invested += inst.held_quantity * self._current(inst.ticker, now) * inst.fx
        self._set_kv(conn, demo_store.CASH, round(max(sim.start_value(self.book) - invested, 1000.0), 2))
        self._set_kv(conn, demo_store.REALISED, 0.0)
        self._set_kv(conn, demo_store.SEED, self.seed)
        self._set_kv(conn, demo_store.SEEDED_AT, now)
        self._set_kv(conn, demo_store.SETTLED_AT, now)
        # A manual protective stop well below the price, and a resting buy far below it.
        protected = "MSFT_US_EQ" if any(i.ticker == "MSFT_US_EQ" for i in sim.held(self.book)) else "RRl_EQ"
        price = self._current(protected, now)
        quantity = -2 if protected == "MSFT_US_EQ" else -50
        self._insert_order(conn, protected, "STOP", quantity, now - 3 * 86400, stop=round(price * 0.85, 2))
        bp = self._current("BPl_EQ", now)
        self._insert_order(conn, "BPl_EQ", "LIMIT", 100, now - 86400, limit=round(bp * 0.8, 2))

    def _insert_order(self, conn: sqlite3.Connection, ticker: str, type_: str, quantity: float, now: float,
                      stop: float | None = None, limit: float | None = None) -> int:
        return demo_store.add_order(self.store, ticker, type_, quantity, now, stop=stop, limit=limit)

    # -- settlement -----------------------------------------------------------------------------
    def _settle(self, conn: sqlite3.Connection, now: float) -> None:
        """Fill every pending order whose condition was met since the last settlement, in time order."""
        settled_at = float(self._kv(conn, demo_store.SETTLED_AT) or now)
        pending = demo_store.pending_orders(self.store)
        fills = []
        for order in pending:
            hit = self._trigger(order, max(order["created_at"] or settled_at, settled_at), now)
            if hit is not None:
                fills.append((hit[0], order["id"], order, hit[1]))
        for t, _, order, fill_price in sorted(fills, key=lambda f: (f[0], f[1])):
            self._fill(conn, order, t, fill_price)
        self._set_kv(conn, demo_store.SETTLED_AT, now)

    def _trigger(self, order: dict[str, Any], start: float, now: float) -> tuple[float, float] | None:
        """When (and at what price) a pending order's condition first held in [start, now]."""
        if start > now:
            return None
        ticker = order["ticker"]
        market = sim.market_of(ticker)
        if order["type"] == "MARKET":
            if self.always_open or sim.is_session_open(market, start):
                return start, self._price(ticker, start)
            opens = sim.next_open(market, start)
            return (opens, self._price(ticker, opens)) if opens is not None and opens <= now else None
        step = max(SAMPLE_STEP_S, (now - start) / MAX_SAMPLES)
        times = np.append(np.arange(start, now, step), now)
        path = sim.prices(ticker, times, self.seed)
        tradable = np.ones(times.shape, bool) if self.always_open else sim.open_mask(market, times)
        selling = order["quantity"] < 0
        if order["type"] in ("STOP", "STOP_LIMIT"):
            met = path <= order["stop_price"] if selling else path >= order["stop_price"]
        elif order["type"] == "LIMIT":
            met = path >= order["limit_price"] if selling else path <= order["limit_price"]
        else:
            return None
        hits = np.flatnonzero(met & tradable)
        if hits.size == 0:
            return None
        i = int(hits[0])
        return float(times[i]), float(path[i])

    def _fill(self, conn: sqlite3.Connection, order: dict[str, Any], t: float, fill_price: float) -> None:
        ticker, qty = order["ticker"], float(order["quantity"])
        fx = sim.UNIVERSE[ticker].fx
        cash = float(self._kv(conn, demo_store.CASH) or 0.0)
        held, avg = demo_store.position(self.store, ticker) or (0.0, 0.0)
        if qty < 0:
            sold = -qty
            if sold > held + EPS:
                self._end(conn, order["id"], "REJECTED", t)
                return
            left = held - sold
            if left <= EPS:
                demo_store.close_position(self.store, ticker)
            else:
                demo_store.set_quantity(self.store, ticker, left)
            self._set_kv(conn, demo_store.CASH, round(cash + sold * fill_price * fx, 2))
            realised = float(self._kv(conn, demo_store.REALISED) or 0.0) + sold * (fill_price - avg) * fx
            self._set_kv(conn, demo_store.REALISED, round(realised, 2))
        else:
            cost = qty * fill_price * fx
            if cost > cash + EPS:
                self._end(conn, order["id"], "REJECTED", t)
                return
            new_qty = held + qty
            new_avg = round((held * avg + qty * fill_price) / new_qty, 4)
            demo_store.buy_into(self.store, ticker, new_qty, new_avg, t)
            self._set_kv(conn, demo_store.CASH, round(cash - cost, 2))
        demo_store.fill(self.store, order["id"], t, fill_price, qty)

    def _end(self, conn: sqlite3.Connection, order_id: int, status: str, t: float) -> None:
        demo_store.end(self.store, order_id, status, t)

    # -- reads ----------------------------------------------------------------------------------
    def _positions(self, conn: sqlite3.Connection, now: float) -> list[BrokerPosition]:
        reserved = demo_store.reserved_by_sells(self.store)
        out = []
        for row in demo_store.positions(self.store):
            inst = sim.UNIVERSE[row["ticker"]]
            qty, avg = float(row["quantity"]), float(row["average_price"])
            current = self._current(inst.ticker, now)
            available = qty - float(reserved.get(inst.ticker, 0.0)) - float(row["quantity_in_pies"] or 0.0)
            value, cost = qty * current * inst.fx, qty * avg * inst.fx
            out.append(BrokerPosition(
                ticker=inst.ticker, name=inst.name, currency=inst.currency, quantity=qty,
                quantity_available=max(0.0, round(available, 8)), current_price=current, average_price=avg,
                wallet_currency=sim.ACCOUNT_CURRENCY, wallet_current_value=round(value, 2),
                wallet_total_cost=round(cost, 2), unrealised_pnl=round(value - cost, 2),
                created_at=_dt(row["created_at"]),
            ))
        return out

    def _order(self, row: dict[str, Any]) -> Order:
        inst = sim.UNIVERSE.get(row["ticker"])
        return Order(
            id=int(row["id"]), ticker=row["ticker"], type=row["type"], status=row["status"],
            quantity=float(row["quantity"]), side="SELL" if row["quantity"] < 0 else "BUY",
            filled_quantity=float(row["filled_quantity"] or 0.0), limit_price=row["limit_price"],
            stop_price=row["stop_price"], created_at=_dt(row["created_at"]),
            currency=inst.currency if inst else None,
        )

    def account_summary(self) -> Account:
        with self._state("account") as (conn, now):
            positions = self._positions(conn, now)
            cash = float(self._kv(conn, demo_store.CASH) or 0.0)
            realised = float(self._kv(conn, demo_store.REALISED) or 0.0)
        invested = sum(p.wallet_total_cost or 0.0 for p in positions)
        value = sum(p.wallet_current_value for p in positions)
        return Account(currency=sim.ACCOUNT_CURRENCY, total_value=round(cash + value, 2), cash=cash,
                       invested=round(invested, 2), unrealised_pnl=round(value - invested, 2),
                       realised_pnl=realised)

    def positions(self) -> list[BrokerPosition]:
        with self._state("positions") as (conn, now):
            return self._positions(conn, now)

    def orders(self) -> list[Order]:
        """Pending orders only, as Trading 212's `/equity/orders` lists them."""
        with self._state("orders") as (conn, _):
            rows = demo_store.pending_orders(self.store)
        return [self._order(r) for r in rows]

    def order(self, order_id: int) -> Order | None:
        """A pending order; None once it is gone (filled, cancelled, rejected), like a 404."""
        with self._state() as (conn, _):
            row = demo_store.order(self.store, order_id, pending_only=True)
        return self._order(row) if row else None

    def order_history(self, limit: int = 50) -> list[Order]:
        """Ended and pending orders, newest first (the demo's stand-in for `/history/orders`)."""
        with self._state() as (conn, _):
            rows = demo_store.recent_orders(self.store, limit)
        return [self._order(r) for r in rows]

    def probe(self, path: str, params: dict[str, str] | None = None) -> bool:
        """Every endpoint is served offline (no key, no scopes)."""
        return True

    def history_page(self, kind: str, path: str, patience: float = 0.0) -> HistoryPage:
        """A page of the demo account's history (papishares.demo.history): a year of it, offline."""
        from papishares.demo import history as demo_history

        with self._state():  # seeded and settled first
            pass
        return demo_history.page(self.store, self.seed, kind, path, self.book)

    def export_report(self, directory: str | Path) -> Path:
        """The demo's counterpart of Trading 212's CSV report: its history in the export's columns."""
        from papishares.demo import history as demo_history
        from papishares.history.t212_csv import report_csv

        with self._state():
            pass
        demo_history.seed_records(self.store, self.seed, self.book)
        text = report_csv(demo_history.items(self.store, self.seed, self.book), sim.ACCOUNT_CURRENCY,
                          {t: i.short_name for t, i in sim.UNIVERSE.items()})
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        target = out / "demo-report.csv"
        target.write_text(text, encoding="utf8")
        return target

    def instruments(self, refresh: bool = False) -> dict[str, Instrument]:
        self._data_times["instruments"] = self.clock()
        return sim.instruments()

    def exchanges(self, refresh: bool = False) -> list[Exchange]:
        now = self.clock()
        self._data_times["exchanges"] = now
        return sim.exchanges(now, self.always_open)

    def data_time(self, kind: str) -> float | None:
        """When data of this kind was last read (the demo is always fresh: no rate budget)."""
        return self._data_times.get(kind)

    # -- orders ---------------------------------------------------------------------------------
    def _check_order(self, ticker: str, quantity: float) -> sim.DemoInstrument:
        inst = sim.UNIVERSE.get(ticker)
        if inst is None:
            raise OrderRejected(f"Unknown instrument {ticker}.", "entity-not-found", status=404)
        if not np.isfinite(quantity) or abs(quantity) < EPS:
            raise OrderRejected("The order quantity must not be zero.", "min-quantity-exceeded", status=400)
        return inst

    def _check_sell(self, conn: sqlite3.Connection, now: float, ticker: str, quantity: float) -> None:
        if quantity >= 0:
            return
        held = {p.ticker: p for p in self._positions(conn, now)}.get(ticker)
        available = held.quantity_available if held else 0.0
        if -quantity > available + EPS:
            raise OrderRejected(
                f"Cannot sell {-quantity:g} {ticker}: only {available:g} available for trading.",
                "selling-equity-not-owned", detail=json.dumps({"available": available}), status=400,
            )

    def place_market_order(self, ticker: str, quantity: float, extended_hours: bool = False) -> Order:
        inst = self._check_order(ticker, quantity)
        with self._state() as (conn, now):
            self._check_sell(conn, now, ticker, quantity)
            if quantity > 0:
                cost = quantity * self._current(ticker, now) * inst.fx
                if cost > float(self._kv(conn, demo_store.CASH) or 0.0) + EPS:
                    raise OrderRejected("Insufficient funds for this order.", "insufficient-funds", status=400)
            order_id = self._insert_order(conn, ticker, "MARKET", quantity, now)
            if self.always_open or sim.is_session_open(sim.market_of(ticker), now):
                row = self._row(order_id)
                self._fill(conn, row, now, self._price(ticker, now))
            row = self._row(order_id)
        return self._order(row)

    def place_stop_order(self, ticker: str, quantity: float, stop_price: float,
                         time_validity: str = "GOOD_TILL_CANCEL") -> Order:
        self._check_order(ticker, quantity)
        if not (stop_price > 0 and np.isfinite(stop_price)):
            raise OrderRejected("The stop price must be above zero.", "price-too-far", status=400)
        with self._state() as (conn, now):
            self._check_sell(conn, now, ticker, quantity)
            order_id = self._insert_order(conn, ticker, "STOP", quantity, now, stop=float(stop_price))
            row = self._row(order_id)
        return self._order(row)

    def order_slot_in(self, method: str, path: str) -> float:
        """No rate limit: always now."""
        return 0.0

    def cancel_order(self, order_id: int) -> None:
        with self._state() as (conn, now):
            if not demo_store.cancel(self.store, order_id, now):
                raise OrderRejected(f"Order {order_id} is not pending.", "entity-not-found", status=404)
