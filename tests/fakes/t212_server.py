"""A real HTTP server on 127.0.0.1 speaking the Trading 212 public API v0, for tests and benchmarks.

    with FakeTrading212.running() as t212:          # default scenario, random free port
        t212.base_url                               # http://127.0.0.1:PORT/api/v0
        t212.set_price("AAPL_US_EQ", 150.0)
        t212.inject("GET", "/equity/positions", "status", status=500)
        t212.violations_total                       # requests that broke a rate limit

It keeps its own copy of the documented rate limits (sliding windows, per endpoint) and counts
every request that would have been refused as a violation, so a test proves the client never
exceeds a limit. Faults are queued per method and path and used once each (or `times`).

Other processes drive it through the admin API (no auth, not rate limited):
    GET  /__admin/state                   counters, violations, order posts, account, positions, orders
    POST /__admin/price       {"ticker", "price"}     (pending sell stops the price reaches fill)
    POST /__admin/refuse_stops {"error_type"}          (stop orders refused; null: accepted again)
    POST /__admin/fault       {"method", "path", "kind", ...}    (see `Fault`)
    POST /__admin/market      {"schedule_id", "open"}
    POST /__admin/position    {"ticker", "quantity", "average_price", "current_price"}
    POST /__admin/reset_counters
    POST /__admin/scenario    {"name", "positions"}
    POST /__admin/precision   {"ticker"?, "decimals"?, "style"?, "reading"?}    (see `set_precision`)
    GET  /__admin/spec        the spec violations recorded so far (see tests/fakes/t212_spec.py)

Like the real broker, an order quantity may carry at most 4 decimals (some instruments fewer) and a
`quantity-precision-mismatch` rejection names the precision ALLOWED (`precision_reading = "sent"`
names the one sent instead); its body comes in the shape `precision_style` picks. Every request
and every ordinary answer is checked against the published OpenAPI spec (`spec_violations`).

CLI (foreground, Ctrl-C to stop):
    python -m tests.fakes.t212_server --port 8212 [--scenario default|many|empty|real] [--positions 50]
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import threading
import time
import zlib
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes import t212_history, t212_spec
from tests.fakes import t212_realistic as realistic

API_PREFIX = "/api/v0"
DEFAULT_KEY = "test-key-1234"
DEFAULT_SECRET = "test-secret-5678"

# The documented limits (shared/t212/README.md): (count, period seconds). Kept apart from the
# client's own table on purpose: the fake is the independent referee.
RATE_LIMITS: dict[str, tuple[int, float]] = {
    "GET /equity/account/summary": (1, 5),
    "GET /equity/positions": (1, 1),
    "GET /equity/orders": (1, 5),
    "GET /equity/orders/{id}": (1, 1),
    "DELETE /equity/orders/{id}": (50, 60),
    "POST /equity/orders/market": (50, 60),
    "POST /equity/orders/limit": (1, 2),
    "POST /equity/orders/stop": (1, 2),
    "POST /equity/orders/stop_limit": (1, 2),
    "GET /equity/metadata/instruments": (1, 50),
    "GET /equity/metadata/exchanges": (1, 30),
    "GET /equity/history/orders": (6, 60),
    "GET /equity/history/dividends": (6, 60),
    "GET /equity/history/transactions": (6, 60),
}
SCOPES = {
    "GET /equity/account/summary": "account",
    "GET /equity/positions": "portfolio",
    "GET /equity/orders": "orders:read",
    "GET /equity/orders/{id}": "orders:read",
    "GET /equity/metadata/instruments": "metadata",
    "GET /equity/metadata/exchanges": "metadata",
    "GET /equity/history/orders": "history:orders",
    "GET /equity/history/dividends": "history:dividends",
    "GET /equity/history/transactions": "history:transactions",
}
RATE_LIMITS.update(t212_history.HISTORY_LIMITS)
FX_TO_GBP = {"GBP": 1.0, "GBX": 0.01, "USD": 0.79, "EUR": 0.85, "CHF": 0.9, "CAD": 0.58}
ORDER_TYPES = {"market": "MARKET", "limit": "LIMIT", "stop": "STOP", "stop_limit": "STOP_LIMIT"}
_ORDER_ID = re.compile(r"/equity/orders/\d+")


MAX_QUANTITY_DECIMALS = 4  # what Trading 212 accepts for any instrument (../shared/t212/README.md)
PRECISION_STYLES = ("problem", "clarification", "code", "message")


def template(path: str) -> str:
    """`/equity/orders/42` -> `/equity/orders/{id}`."""
    return "/equity/orders/{id}" if _ORDER_ID.fullmatch(path) else path


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def error_body(style: str, error_type: str, detail: str, status: int) -> dict[str, Any]:
    """Both shapes Trading 212 uses: old `code/clarification` and problem-JSON."""
    if style == "old":
        return {"code": "".join(w.capitalize() for w in error_type.split("-")), "clarification": detail}
    return {"type": f"/api-errors/{error_type}", "title": error_type.replace("-", " ").capitalize(),
            "status": status, "detail": detail}


def precision_error_body(style: str, allowed: int) -> dict[str, Any]:
    """A `quantity-precision-mismatch` rejection in one of the shapes seen (fixtures/t212/errors/)."""
    return realistic.error_fixture(f"precision_{style}.json", n=allowed)


@dataclass
class Fault:
    """One injected misbehaviour for the next request(s) to a method+path.

    kind: "status" (answer `status` with `body`, non-JSON by default), "garbage" (200, not JSON),
    "json" (answer `status` with the JSON `body`, e.g. a wrong shape), "delay" (sleep `seconds`
    then answer normally), "error" (an error body of `style` "problem"|"old" with `error_type` and
    `detail`), "place_then_500" (do the work, then answer 500), "place_then_hang" (do the work, then
    sleep `seconds` before answering: past the client's timeout), "fixture" (answer `status` with the
    body of tests/fixtures/t212/`fixture`, e.g. "errors/html_502.html": each real error shape).
    """

    kind: str
    status: int = 500
    body: Any = None
    seconds: float = 0.0
    style: str = "problem"
    error_type: str = "internal-error"
    detail: str = ""
    times: int = 1
    fixture: str = ""


@dataclass
class Position:
    ticker: str
    quantity: float
    average_price: float
    current_price: float
    in_pies: float = 0.0
    created_at: float = field(default_factory=lambda: time.time() - 86400 * 30)


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0  # sleep this long before writing the reply (outside the lock)
    exempt: t212_spec.Exemption | None = None  # a marked deviation: not checked (fully) against the spec


class FakeTrading212:
    """State + HTTP server. All state changes go through `self.lock` (the server is threaded)."""

    def __init__(self, *, key: str = DEFAULT_KEY, secret: str | None = DEFAULT_SECRET, legacy: bool = False,
                 scenario: str = "default", positions: int = 50, error_style: str = "problem",
                 port: int = 0, spec_check: bool = True) -> None:
        self.key = key
        self.secret = secret
        self.legacy = legacy  # a key-only account: accepts `Authorization: <key>`
        self.error_style = error_style
        self.missing_scopes: set[str] = set()
        self.lock = threading.RLock()
        self.allow_violations = False  # the conftest fixture asserts zero violations unless set
        # Issue 9: precision rejections like the real broker, and the spec as referee.
        self.precision_style: str | None = None  # None: as error_style; "problem"|"clarification"|"code"|"message"
        self.precision_reading = "allowed"  # the number in the rejection: "allowed" (official) or "sent"
        self.spec_check = spec_check
        self.spec_violations: list[str] = []  # kept across reset_counters: evidence for the fixture
        self.allow_spec_violations = False  # set by a test that sends what the spec forbids on purpose
        self.deviations: set[str] = set()  # real-world deviations of the loaded scenario (t212_spec.DEVIATIONS)
        self._port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.reset_state()
        self.load_scenario(scenario, positions)

    # -- state ----------------------------------------------------------------------------------
    def reset_state(self) -> None:
        with self.lock:
            self.account_id = 12345678
            self.currency = "GBP"
            self.cash = 0.0
            self.realised = 0.0
            self.fx = dict(FX_TO_GBP)
            self.positions: dict[str, Position] = {}
            self.instruments: dict[str, dict[str, Any]] = {}
            self.precision: dict[str, int] = {}  # ticker -> max quantity decimals
            self.exchanges: list[dict[str, Any]] = []  # {"id", "name", "schedules": {sid: open?}}
            self.orders: dict[int, dict[str, Any]] = {}  # pending only
            self.next_order_id = 1000
            self.order_posts: list[dict[str, Any]] = []
            self.triggered: list[dict[str, Any]] = []  # resting orders filled by a price crossing them
            self.refuse_stop_orders: str | None = None  # an error type: stop orders not available here
            self.faults: dict[str, deque[Fault]] = {}
            self.nulls: dict[str, tuple[str, ...]] = {}  # ticker -> position fields served null ("real")
            self.reset_counters()

    def reset_counters(self) -> None:
        with self.lock:
            self.windows: dict[str, deque[float]] = {}
            self.counts: Counter[str] = Counter()
            self.violations: Counter[str] = Counter()
            self.requests: list[tuple[float, str, int]] = []

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass for the rate windows (pairs with a test clock moved forward)."""
        with self.lock:
            for window in self.windows.values():
                for i in range(len(window)):
                    window[i] -= seconds

    @property
    def violations_total(self) -> int:
        return sum(self.violations.values())

    def count(self, method: str, path: str) -> int:
        return self.counts[f"{method.upper()} {template(path)}"]

    def sells(self) -> list[dict[str, Any]]:
        """Every order POST with a negative quantity (whatever the server answered)."""
        return [p for p in self.order_posts if (p["body"] or {}).get("quantity", 0) < 0]

    def add_instrument(self, ticker: str, name: str, short_name: str, currency: str, schedule_id: int,
                       isin: str | None = None, type: str = "STOCK", max_decimals: int | None = None) -> None:
        with self.lock:
            self.instruments[ticker] = {
                "ticker": ticker, "name": name, "shortName": short_name, "isin": isin or f"XX{zlib.crc32(ticker.encode()):010d}",
                "currencyCode": currency, "type": type, "maxOpenQuantity": 100000, "extendedHours": currency == "USD",
                "workingScheduleId": schedule_id, "addedOn": "2020-01-15T00:00:00.000Z",
            }
            if max_decimals is not None:
                self.precision[ticker] = max_decimals

    def add_position(self, ticker: str, quantity: float, average_price: float, current_price: float | None = None,
                     in_pies: float = 0.0) -> None:
        with self.lock:
            if ticker not in self.instruments:
                raise KeyError(f"add the instrument {ticker} first")
            price = average_price if current_price is None else current_price
            self.positions[ticker] = Position(ticker, quantity, average_price, price, in_pies)

    def remove_position(self, ticker: str) -> None:
        with self.lock:
            self.positions.pop(ticker, None)

    def set_price(self, ticker: str, price: float) -> None:
        with self.lock:
            self.positions[ticker].current_price = float(price)
            self.trigger_resting(ticker)

    def set_market_open(self, schedule_id: int, is_open: bool) -> None:
        """Open or close every exchange schedule with this id; opening fills queued market orders."""
        with self.lock:
            for ex in self.exchanges:
                if schedule_id in ex["schedules"]:
                    ex["schedules"][schedule_id] = bool(is_open)
            if is_open:
                for order in list(self.orders.values()):
                    if order["type"] == "MARKET" and self._schedule_open(order["ticker"]):
                        self._fill(order)
                        del self.orders[order["id"]]
                for ticker in list(self.positions):
                    self.trigger_resting(ticker)

    def add_order(self, ticker: str, type: str, quantity: float, stop_price: float | None = None,
                  limit_price: float | None = None, status: str = "NEW") -> int:
        """A pending order as if placed earlier (e.g. a manual stop-loss). Returns its id."""
        with self.lock:
            order = self._new_order(ticker, type.upper(), quantity, stop_price, limit_price, "GOOD_TILL_CANCEL")
            order["status"] = status
            self.orders[order["id"]] = order
            return int(order["id"])

    def end_order(self, order_id: int, status: str = "CANCELLED", history: bool = True, **fields: Any) -> None:
        """A pending order ends without a fill outside the API (the user cancels it in the app, or it
        expires): gone from `/equity/orders`; with `history`, listed in `/equity/history/orders` with
        `status` (and any extra `fields` on the order), no fill, as the newest item."""
        with self.lock:
            order = self.orders.pop(order_id)
            if history:
                ended = dict(order, status=status, createdAt=iso(time.time()), **fields)
                t212_history.history_of(self).orders.append({"order": ended})

    def inject(self, method: str, path: str, kind: str, **params: Any) -> None:
        """Queue a `Fault` for `METHOD /equity/...` (an `{id}` template matches every id)."""
        with self.lock:
            self.faults.setdefault(f"{method.upper()} {path}", deque()).append(Fault(kind, **params))

    def available(self, ticker: str) -> float:
        """quantity - in pies - reserved by pending sell orders (what may be sold now)."""
        pos = self.positions.get(ticker)
        if pos is None:
            return 0.0
        reserved = sum(-o["quantity"] for o in self.orders.values() if o["ticker"] == ticker and o["quantity"] < 0)
        return max(0.0, round(pos.quantity - pos.in_pies - reserved, 10))

    # -- scenarios ------------------------------------------------------------------------------
    def load_scenario(self, name: str, positions: int = 50) -> None:
        with self.lock:
            self.reset_state()
            self.deviations = set()
            self._default_exchanges()
            if name == "empty":
                self._default_instruments()
                self.cash = 15000.0
            elif name == "default":
                self._default_instruments()
                self._default_positions()
            elif name == "many":
                self._many(positions)
            elif name == "real":
                realistic.load(self)
            else:
                raise ValueError(f"unknown scenario {name!r} (default, many, empty, real)")

    def _default_exchanges(self) -> None:
        self.exchanges = [
            {"id": 1, "name": "NASDAQ", "schedules": {51: True}},
            {"id": 2, "name": "NYSE", "schedules": {52: True}},
            {"id": 57, "name": "London Stock Exchange", "schedules": {123: True}},
            {"id": 90, "name": "Deutsche Börse Xetra", "schedules": {200: True}},
        ]

    def _default_instruments(self) -> None:
        add = self.add_instrument
        add("AAPL_US_EQ", "Apple Inc", "AAPL", "USD", 51, "US0378331005")
        add("MSFT_US_EQ", "Microsoft Corporation", "MSFT", "USD", 51, "US5949181045")
        add("FB_US_EQ", "Meta Platforms Inc", "META", "USD", 51, "US30303M1027")
        add("TSLA_US_EQ", "Tesla Inc", "TSLA", "USD", 51, "US88160R1014")
        add("NVDA_US_EQ", "NVIDIA Corporation", "NVDA", "USD", 51, "US67066G1040")
        add("BRK_B_US_EQ", "Berkshire Hathaway Inc Class B", "BRK.B", "USD", 52, "US0846707026")
        add("RRl_EQ", "Rolls-Royce Holdings plc", "RR", "GBX", 123, "GB00B63H8491", max_decimals=2)
        add("LLOYl_EQ", "Lloyds Banking Group plc", "LLOY", "GBX", 123, "GB0008706128", max_decimals=0)
        add("BPl_EQ", "BP plc", "BP", "GBX", 123, "GB0007980591")
        add("VUSAl_EQ", "Vanguard S&P 500 UCITS ETF", "VUSA", "GBP", 123, "IE00B3XXRP09", type="ETF")
        add("SAPd_EQ", "SAP SE", "SAP", "EUR", 200, "DE0007164600")

    def _default_positions(self) -> None:
        # ~14.2k invested + 1k cash: a GBP account of about 15k
        self.cash = 1000.0
        self.add_position("AAPL_US_EQ", 15, 170.25, 185.5)
        self.add_position("MSFT_US_EQ", 5, 310.0, 415.2)
        self.add_position("FB_US_EQ", 4, 300.0, 480.0)
        self.add_position("TSLA_US_EQ", 3, 250.0, 230.0)
        self.add_position("RRl_EQ", 400, 420.0, 612.4)
        self.add_position("LLOYl_EQ", 3000, 45.2, 52.3)
        self.add_position("VUSAl_EQ", 30, 78.5, 92.1)
        self.add_position("SAPd_EQ", 10, 150.0, 185.0)
        self.add_order("AAPL_US_EQ", "STOP", -5, stop_price=160.0)  # a manual stop-loss
        self.add_order("NVDA_US_EQ", "LIMIT", 2, limit_price=100.0)

    def _many(self, n: int) -> None:
        """n US positions (for benchmarks): TICK00_US_EQ ... all at about 100 USD."""
        self.cash = 5000.0
        for i in range(n):
            ticker = f"TICK{i:02d}_US_EQ"
            self.add_instrument(ticker, f"Ticker {i} Inc", f"TICK{i:02d}", "USD", 51)
            self.add_position(ticker, 10 + i, 100.0, 100.0 + (i % 7) - 3)

    # -- JSON views -----------------------------------------------------------------------------
    def _instrument_brief(self, ticker: str) -> dict[str, Any]:
        inst = self.instruments[ticker]
        return {"ticker": ticker, "name": inst["name"], "isin": inst["isin"], "currency": inst["currencyCode"]}

    def position_json(self, pos: Position) -> dict[str, Any]:
        currency = self.instruments[pos.ticker]["currencyCode"]
        fx = self.fx.get(currency, 1.0)
        value = pos.quantity * pos.current_price * fx
        cost = pos.quantity * pos.average_price * fx
        return realistic.with_nulls(self, pos.ticker, {
            "instrument": self._instrument_brief(pos.ticker),
            "quantity": pos.quantity,
            "quantityAvailableForTrading": self.available(pos.ticker),
            "quantityInPies": pos.in_pies,
            "currentPrice": pos.current_price,
            "averagePricePaid": pos.average_price,
            "createdAt": iso(pos.created_at),
            "walletImpact": {"currency": self.currency, "totalCost": round(cost, 2), "currentValue": round(value, 2),
                             "unrealizedProfitLoss": round(value - cost, 2), "fxImpact": 0.0},
        })

    def summary_json(self) -> dict[str, Any]:
        views = [self.position_json(p) for p in self.positions.values()]
        invested = sum(v["walletImpact"]["currentValue"] for v in views)
        cost = sum(v["walletImpact"]["totalCost"] for v in views)
        reserved = 0.0
        for o in self.orders.values():
            if o["quantity"] > 0:
                price = o.get("limitPrice") or o.get("stopPrice") or 0.0
                reserved += o["quantity"] * price * self.fx.get(self.instruments[o["ticker"]]["currencyCode"], 1.0)
        return {
            "id": self.account_id, "currency": self.currency, "totalValue": round(self.cash + invested, 2),
            "cash": {"availableToTrade": round(self.cash, 2), "reservedForOrders": round(reserved, 2), "inPies": 0.0},
            "investments": {"currentValue": round(invested, 2), "totalCost": round(cost, 2),
                            "realizedProfitLoss": round(self.realised, 2),
                            "unrealizedProfitLoss": round(invested - cost, 2)},
        }

    def exchanges_json(self) -> list[dict[str, Any]]:
        now = time.time()
        hour = 3600.0

        def events(is_open: bool) -> list[dict[str, str]]:
            # an open market opened 2 h ago; a closed one closed 2 h ago; then the next days
            marks = ([(-2, "OPEN"), (6, "CLOSE"), (22, "OPEN"), (30, "CLOSE")] if is_open
                     else [(-10, "OPEN"), (-2, "CLOSE"), (14, "OPEN"), (22, "CLOSE")])
            return [{"date": iso(now + h * hour), "type": t} for h, t in marks]

        return [{"id": ex["id"], "name": ex["name"],
                 "workingSchedules": [{"id": sid, "timeEvents": events(op)} for sid, op in ex["schedules"].items()]}
                for ex in self.exchanges]

    def state_json(self) -> dict[str, Any]:
        with self.lock:
            return {
                "counts": dict(self.counts), "violations": dict(self.violations),
                "violations_total": self.violations_total, "requests_total": len(self.requests),
                "order_posts": self.order_posts, "account": self.summary_json(),
                "positions": [self.position_json(p) for p in self.positions.values()],
                "orders": list(self.orders.values()), "triggered": self.triggered,
                "market_open": {str(sid): op for ex in self.exchanges for sid, op in ex["schedules"].items()},
            }

    # -- orders ---------------------------------------------------------------------------------
    def _schedule_open(self, ticker: str) -> bool:
        sid = self.instruments[ticker]["workingScheduleId"]
        return any(ex["schedules"].get(sid, False) for ex in self.exchanges)

    def _new_order(self, ticker: str, type_: str, quantity: float, stop: float | None, limit: float | None,
                   validity: str, extended: bool = False) -> dict[str, Any]:
        self.next_order_id += 1
        order = {
            "id": self.next_order_id, "type": type_, "ticker": ticker, "instrument": self._instrument_brief(ticker),
            "quantity": quantity, "filledQuantity": 0.0, "side": "SELL" if quantity < 0 else "BUY",
            "status": "NEW", "stopPrice": stop, "limitPrice": limit, "strategy": "QUANTITY",
            "timeInForce": validity, "extendedHours": extended, "initiatedFrom": "API",
            "currency": self.instruments[ticker]["currencyCode"], "createdAt": iso(time.time()),
        }
        return {k: v for k, v in order.items() if v is not None}  # absent, not null: as the spec has it

    def _fill(self, order: dict[str, Any]) -> None:
        ticker, qty = order["ticker"], float(order["quantity"])
        fx = self.fx.get(self.instruments[ticker]["currencyCode"], 1.0)
        pos = self.positions.get(ticker)
        price = pos.current_price if pos else (order.get("limitPrice") or 100.0)
        if qty < 0 and pos is not None:
            self.realised += -qty * (price - pos.average_price) * fx
            pos.quantity = round(pos.quantity + qty, 10)
            if pos.quantity <= 1e-9:
                del self.positions[ticker]
        elif qty > 0:
            if pos is None:
                self.positions[ticker] = Position(ticker, qty, price, price, created_at=time.time())
            else:
                pos.average_price = (pos.average_price * pos.quantity + price * qty) / (pos.quantity + qty)
                pos.quantity += qty
        self.cash -= qty * price * fx
        order.update(status="FILLED", filledQuantity=abs(qty), filledPrice=price)

    def _place(self, kind: str, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return 400, self._error("validation-failed", "Body must be a JSON object", 400)
        if kind in ("stop", "stop_limit") and self.refuse_stop_orders:
            return 400, self._error(self.refuse_stop_orders, "This order type is not available for this account", 400)
        ticker, qty = body.get("ticker"), body.get("quantity")
        if ticker not in self.instruments:
            return 404, self._error("entity-not-found", f"Instrument {ticker} not found", 404)
        if isinstance(qty, bool) or not isinstance(qty, int | float) or qty == 0:
            return 400, self._error("invalid-quantity", "quantity must be a non-zero number", 400)
        rejected = self._precision_rejection(ticker, qty)
        if rejected is not None:
            return rejected
        if qty < 0 and -qty > self.available(ticker) + 1e-9:
            return 400, self._error("selling-equity-not-owned",
                                    f"Cannot sell {-qty} {ticker}: {self.available(ticker)} available", 400)
        type_ = ORDER_TYPES[kind]
        order = self._new_order(ticker, type_, float(qty), body.get("stopPrice"), body.get("limitPrice"),
                                body.get("timeValidity", "DAY"), bool(body.get("extendedHours", False)))
        if type_ == "MARKET" and self._schedule_open(ticker):
            if qty > 0:
                pos = self.positions.get(ticker)
                price = pos.current_price if pos else 100.0
                if qty * price * self.fx.get(self.instruments[ticker]["currencyCode"], 1.0) > self.cash:
                    return 400, self._error("insufficient-funds", "Insufficient funds", 400)
            self._fill(order)
        else:
            self.orders[order["id"]] = order  # closed market: queued until the next open
        return 200, order

    # -- resting orders that trigger (issue 10: stops kept at the broker) ---------------------------
    def trigger_resting(self, ticker: str) -> list[int]:
        """Fill, as market sells at the current price, the pending SELL STOP / STOP_LIMIT orders whose
        stop the price has reached (at or below it), while the instrument's market is open. Returns the ids."""
        with self.lock:
            pos = self.positions.get(ticker)
            if pos is None or not self._schedule_open(ticker):
                return []
            hit = [o for o in self.orders.values() if o["ticker"] == ticker and o["quantity"] < 0
                   and o["type"] in ("STOP", "STOP_LIMIT") and o.get("stopPrice") is not None
                   and pos.current_price <= float(o["stopPrice"])]
            done = []
            for order in sorted(hit, key=lambda o: -float(o["stopPrice"])):
                if ticker not in self.positions:
                    break
                del self.orders[order["id"]]
                self._fill(order)
                self.triggered.append({"at": time.time(), "id": order["id"], "ticker": ticker,
                                       "stop_price": order["stopPrice"], "quantity": order["quantity"],
                                       "price": order.get("filledPrice")})
                done.append(int(order["id"]))
            return done

    def _error(self, error_type: str, detail: str, status: int, style: str | None = None) -> dict[str, Any]:
        return error_body(style or self.error_style, error_type, detail, status)

    # -- quantity precision, as the real broker (issue 9) ----------------------------------------
    def allowed_decimals(self, ticker: str) -> int:
        """The decimals an order quantity for `ticker` may carry: at most 4, some instruments fewer."""
        return min(self.precision.get(ticker, MAX_QUANTITY_DECIMALS), MAX_QUANTITY_DECIMALS)

    def set_precision(self, ticker: str | None = None, decimals: int | None = None, *, style: str | None = None,
                      reading: str | None = None) -> None:
        """An instrument's allowed decimals, and how every precision rejection is worded.

        style: "problem" (problem-JSON `detail`), "clarification" (legacy `{code, clarification}`),
        "code" (legacy, the words in `code`), "message" (`{code, message}`); reading: "allowed" (the
        number is the precision allowed, as the official docs say) or "sent" (the other reading).
        """
        with self.lock:
            if ticker is not None and decimals is not None:
                self.precision[ticker] = int(decimals)
            if style is not None:
                if style not in PRECISION_STYLES:
                    raise ValueError(f"unknown precision style {style!r} ({', '.join(PRECISION_STYLES)})")
                self.precision_style = style
            if reading is not None:
                if reading not in ("allowed", "sent"):
                    raise ValueError(f"unknown precision reading {reading!r} (allowed, sent)")
                self.precision_reading = reading

    def _precision_rejection(self, ticker: str, qty: float) -> tuple[int, Any] | None:
        sent = max(0, -Decimal(str(qty)).normalize().as_tuple().exponent)  # type: ignore[operator]
        allowed = self.allowed_decimals(ticker)
        if sent <= allowed:
            return None
        number = allowed if self.precision_reading == "allowed" else sent
        style = self.precision_style or ("clarification" if self.error_style == "old" else "problem")
        return 400, precision_error_body(style, number)

    # -- the spec as referee ---------------------------------------------------------------------
    def _referee(self, method: str, raw_path: str, headers: Any, body: bytes, reply: _Reply) -> None:
        """Record every way this request or its ordinary answer breaks the published spec."""
        url = urlsplit(raw_path)
        query = parse_qs(url.query, keep_blank_values=True)
        plain = {k: v for k, v in headers.items()}
        problems = [t212_spec.check_request(method, url.path, query, plain, body),
                    t212_spec.check_response(method, url.path, reply.status, reply.body, reply.exempt)]
        found = [p for p in problems if p]
        if found:
            with self.lock:
                self.spec_violations.extend(found)

    # -- HTTP -----------------------------------------------------------------------------------
    def _authorised(self, header: str | None) -> bool:
        if not header:
            return False
        if header.startswith("Basic ") and self.secret is not None:
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return False
            return user == self.key and password == self.secret
        return self.legacy and header == self.key

    def _rate(self, key: str, now: float) -> tuple[bool, dict[str, str]]:
        count, period = RATE_LIMITS.get(key, (1000, 60))
        window = self.windows.setdefault(key, deque())
        while window and window[0] <= now - period:
            window.popleft()
        allowed = len(window) < count
        if allowed:
            window.append(now)
        reset = (window[0] + period) if window else now
        return allowed, {
            "x-ratelimit-limit": str(count), "x-ratelimit-period": str(int(period)),
            "x-ratelimit-remaining": str(max(0, count - len(window))),
            "x-ratelimit-reset": str(int(reset) + (0 if reset == int(reset) else 1)),
            "x-ratelimit-used": str(len(window)),
        }

    def _pop_fault(self, method: str, path: str) -> Fault | None:
        for k in (f"{method} {path}", f"{method} {template(path)}"):
            queue = self.faults.get(k)
            if queue:
                fault = queue[0]
                fault.times -= 1
                if fault.times <= 0:
                    queue.popleft()
                return fault
        return None

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> _Reply:
        reply = self._handle(method, raw_path, headers, body)
        if self.spec_check and not urlsplit(raw_path).path.startswith(("/__admin/", "/__reports/")):
            self._referee(method, raw_path, headers, body, reply)
        return reply

    def _handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> _Reply:
        url = urlsplit(raw_path)
        if url.path.startswith("/__admin/"):
            return self._admin(method, url.path[len("/__admin/"):], body)
        if url.path.startswith("/__reports/"):  # history export downloads (no credentials accepted)
            status, text = t212_history.download(self, url.path, headers)
            return _Reply(status, text.encode(), "text/csv")
        if not url.path.startswith(API_PREFIX + "/"):
            return _json_reply(404, {"code": "NotFound", "clarification": "no such path"})
        path = url.path[len(API_PREFIX):].rstrip("/")
        key = f"{method} {template(path)}"
        now = time.time()
        with self.lock:
            if not self._authorised(headers.get("Authorization")):
                self.requests.append((now, key, 401))
                return _json_reply(401, self._error("unauthorized", "Bad API key", 401))
            allowed, rate_headers = self._rate(key, now)
            if not allowed:
                self.violations[key] += 1
                self.requests.append((now, key, 429))
                return _Reply(429, b"Too Many Requests", "text/plain", rate_headers)
            self.counts[key] += 1
            fault = self._pop_fault(method, path)
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)
            fault = None
        with self.lock:
            reply = self._fault_reply(fault) if fault is not None else None
            if reply is None:
                reply = self._route(method, path, key, url.query, body)
                if fault is not None and fault.kind == "place_then_500":
                    reply = _Reply(500, b"<html><body>Internal Server Error</body></html>", "text/html")
                elif fault is not None and fault.kind == "place_then_hang":
                    reply.hang = fault.seconds
            if fault is not None:
                reply.exempt = t212_spec.Exemption("fault", fault.kind)
            elif self.deviations and reply.exempt is None:
                reply.exempt = t212_spec.Exemption(sorted(self.deviations)[0])
            reply.headers.update(rate_headers)
            self.requests.append((now, key, reply.status))
            return reply

    def _fault_reply(self, fault: Fault) -> _Reply | None:
        if fault.kind == "status":
            text = fault.body if fault.body is not None else "<html><body>Service Unavailable</body></html>"
            return _Reply(fault.status, str(text).encode(), "text/html")
        if fault.kind == "garbage":
            return _Reply(200, b"{\"this is\": not json", "application/json")
        if fault.kind == "json":
            return _json_reply(fault.status if fault.status != 500 else 200, fault.body)
        if fault.kind == "error":
            status = fault.status if fault.status != 500 else 400
            return _json_reply(status, error_body(fault.style, fault.error_type, fault.detail, status))
        if fault.kind == "fixture":
            text, content_type = realistic.fixture_body(fault.fixture)
            return _Reply(fault.status, text, content_type)
        if fault.kind in ("place_then_500", "place_then_hang"):
            return None
        raise ValueError(f"unknown fault kind {fault.kind!r}")

    def _route(self, method: str, path: str, key: str, query: str, body: bytes) -> _Reply:
        scope = SCOPES.get(key, "orders:execute" if method in ("POST", "DELETE") else None)
        if scope in self.missing_scopes:
            return _json_reply(403, self._error("forbidden", f"Scope({scope}) missing for API key", 403))
        history = t212_history.route(self, method, path, query, body)
        if history is not None:
            reply = _json_reply(*history)
            if t212_history.null_end(history[1]):
                reply.exempt = t212_spec.Exemption("nulls", "history: nextPagePath null at the end")
            return reply
        if method == "GET":
            if path == "/equity/account/summary":
                return _json_reply(200, self.summary_json())
            if path == "/equity/positions":
                ticker = parse_qs(query).get("ticker", [None])[0]
                return _json_reply(200, [self.position_json(p) for p in self.positions.values()
                                         if ticker is None or p.ticker == ticker])
            if path == "/equity/orders":
                return _json_reply(200, list(self.orders.values()))
            if path == "/equity/metadata/instruments":
                return _json_reply(200, list(self.instruments.values()))
            if path == "/equity/metadata/exchanges":
                return _json_reply(200, self.exchanges_json())
            if template(path) == "/equity/orders/{id}":
                order = self.orders.get(int(path.rsplit("/", 1)[1]))
                if order is None:
                    return _json_reply(404, self._error("entity-not-found", "Order not found", 404))
                return _json_reply(200, order)
        if method == "POST" and path.startswith("/equity/orders/") and path.rsplit("/", 1)[1] in ORDER_TYPES:
            try:
                payload = json.loads(body or b"null")
            except ValueError:
                payload = None
            status, answer = self._place(path.rsplit("/", 1)[1], payload)
            self.order_posts.append({"at": time.time(), "path": path, "body": payload, "status": status,
                                     "order_id": answer.get("id") if status == 200 else None})
            return _json_reply(status, answer)
        if method == "DELETE" and template(path) == "/equity/orders/{id}":
            order = self.orders.pop(int(path.rsplit("/", 1)[1]), None)
            if order is None:
                return _json_reply(404, self._error("entity-not-found", "Order not found", 404))
            order["status"] = "CANCELLED"
            return _Reply(200, b"", "application/json")
        return _json_reply(404, self._error("not-found", f"No route {method} {path}", 404))

    def _admin(self, method: str, action: str, body: bytes) -> _Reply:
        try:
            data = json.loads(body) if body else {}
            if method == "GET" and action == "state":
                return _json_reply(200, self.state_json())
            if method == "GET" and action == "spec":
                return _json_reply(200, {"violations": list(self.spec_violations)})
            if method != "POST":
                return _json_reply(405, {"error": "use POST"})
            if action == "price":
                self.set_price(data["ticker"], float(data["price"]))
            elif action == "refuse_stops":
                self.refuse_stop_orders = data.get("error_type") or None
            elif action == "fault":
                params = {k: v for k, v in data.items() if k not in ("method", "path", "kind")}
                self.inject(data["method"], data["path"], data["kind"], **params)
            elif action == "market":
                self.set_market_open(int(data["schedule_id"]), bool(data["open"]))
            elif action == "position":
                if float(data.get("quantity", 0)) <= 0:
                    self.remove_position(data["ticker"])
                else:
                    self.add_position(data["ticker"], float(data["quantity"]), float(data["average_price"]),
                                      data.get("current_price"))
            elif action == "reset_counters":
                self.reset_counters()
            elif action == "scenario":
                self.load_scenario(data.get("name", "default"), int(data.get("positions", 50)))
            elif action == "precision":
                self.set_precision(data.get("ticker"), data.get("decimals"), style=data.get("style"),
                                   reading=data.get("reading"))
            else:
                return _json_reply(404, {"error": f"unknown admin action {action!r}"})
        except (KeyError, ValueError, TypeError) as exc:
            return _json_reply(400, {"error": f"{type(exc).__name__}: {exc}"})
        return _json_reply(200, {"ok": True})

    # -- server lifecycle ----------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + API_PREFIX

    def start(self) -> FakeTrading212:
        self._httpd = _Server(("127.0.0.1", self._port), _Handler)
        self._httpd.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-t212", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @classmethod
    @contextmanager
    def running(cls, **kwargs: Any) -> Iterator[FakeTrading212]:
        server = cls(**kwargs).start()
        try:
            yield server
        finally:
            server.stop()

    def env(self, db_path: str | None = None) -> dict[str, str]:
        """Environment variables pointing Papishares (e.g. a subprocess) at this server (demo env)."""
        env = {"T212_API_KEY": self.key, "T212_API_BASE": self.base_url, "T212_ENV": "demo",
               "PAPISHARES_BROKER": "t212"}
        if self.secret is not None and not self.legacy:
            env["T212_SECRET_KEY"] = self.secret
        if db_path is not None:
            env["DB_PATH"] = db_path
        return env


def _json_reply(status: int, data: Any) -> _Reply:
    return _Reply(status, json.dumps(data).encode(), "application/json")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake: FakeTrading212 = self.server.fake  # type: ignore[attr-defined]
        reply = fake.handle(self.command, self.path, self.headers, body)
        if reply.hang:
            time.sleep(reply.hang)
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout test): nothing to do

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return  # quiet: tests read counters, not logs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local fake Trading 212 API (tests, benchmarks, demos)")
    parser.add_argument("--port", type=int, default=8212)
    parser.add_argument("--scenario", default="default", choices=("default", "many", "empty", "real"))
    parser.add_argument("--positions", type=int, default=50, help="positions in the 'many' scenario")
    parser.add_argument("--key", default=DEFAULT_KEY)
    parser.add_argument("--secret", default=DEFAULT_SECRET, help="empty for a key-only (legacy) account")
    args = parser.parse_args(argv)
    fake = FakeTrading212(key=args.key, secret=args.secret or None, legacy=not args.secret,
                          scenario=args.scenario, positions=args.positions, port=args.port)
    fake._httpd = _Server(("127.0.0.1", args.port), _Handler)
    fake._httpd.fake = fake  # type: ignore[attr-defined]
    print(f"fake Trading 212 listening on {fake.base_url} (scenario {args.scenario})", flush=True)
    try:
        fake._httpd.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        fake._httpd.server_close()


if __name__ == "__main__":
    main()

