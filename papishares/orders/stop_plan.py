"""Pure plan for the stops kept at the broker: per position, place / move / leave / cancel / emergency.

No clock, no network, no database: `plan(inputs, settings, now)` takes data and returns data.
The shell that acts on it is papishares.orders.stop_keeper.

Rules (docs/worker.md, "Stops kept at the broker"):
- ONE managed SELL STOP per position, for quantityAvailableForTrading (the shares the user's own
  pending sells reserve are left to them) plus the shares the managed order itself reserves,
  truncated to the allowed precision, at the calculated stop rounded DOWN to a price the broker
  accepts (`tick_down`).
- Moved only up, by cancel then place, when the calculated stop stands at least `min_move_pct` % of
  the order's stop price above it, and at most once per `interval` seconds per position (a move due
  is made in the first cycle after the interval). More shares to cover (bought more, a user's
  sell cancelled) also re-places it, never lower.
- Bad data never moves a stop: no calculated stop, a suspect price or a stale cycle leaves it alone.
- Emergency exit: the price is at or below the calculated stop but still above the managed stop
  (the ratchet not applied yet): the managed stop is cancelled so the worker's auto-sell sells the
  shares at market, once, on the next fresh cycle. With auto-sell off, or the market closed (or its
  schedule unknown), it stays in place: a lower stop is still protection.
- Left out (switched off, excluded per position, refused by the broker): a managed stop is
  cancelled (off/excluded) or never placed (refused: the worker's auto-sell is the protection).

>>> tick_down(123.456), tick_down(0.123456), tick_down(99.999)
(123.45, 0.1234, 99.99)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from papishares.orders.quantity import sell_quantity

EPS = 1e-9
PLACE, MOVE, LEAVE, CANCEL, EMERGENCY = "place", "move", "leave", "cancel", "emergency"


def tick_down(price: float) -> float:
    """A stop price the broker accepts, never above `price`: 2 decimals (cents, or pence for GBX),
    4 decimals below 1 unit of the quote currency."""
    if not price > 0:
        return 0.0
    step = Decimal("0.01") if price >= 1 else Decimal("0.0001")
    return float(Decimal(repr(float(price))).quantize(step, rounding=ROUND_DOWN))


@dataclass(frozen=True)
class Managed:
    """The managed order as the broker shows it now (pending in /equity/orders)."""

    order_id: int
    stop_price: float
    quantity: float  # positive


@dataclass(frozen=True)
class StopInputs:
    ticker: str
    quantity: float  # the position's
    available: float  # quantityAvailableForTrading (already net of every pending sell, ours included)
    current_price: float
    calculated_stop: float | None
    managed: Managed | None = None
    learned_decimals: int | None = None
    last_move_at: float | None = None
    excluded: bool = False  # the user left it out, or its managed stop was cancelled outside Papishares
    refused: bool = False  # the broker refused stop orders (account or instrument), retry not due yet
    price_ok: bool = True  # fresh from this cycle, not suspect, units agree
    market_open: bool | None = True  # by the Trading 212 schedule (None: unknown)
    selling: bool = False  # the user's /sell is under way: it cancels the stop and sells (papishares.commands.handlers)


@dataclass(frozen=True)
class StopSettings:
    enabled: bool
    min_move_pct: float = 0.5
    interval: float = 60.0
    autosell_enabled: bool = False


@dataclass(frozen=True)
class StopPlan:
    ticker: str
    action: str  # place | move | leave | cancel | emergency
    reason: str
    stop_price: float = 0.0
    quantity: float = 0.0
    cancel_id: int | None = None

    @property
    def sends(self) -> bool:
        return self.action != LEAVE


def plan(i: StopInputs, s: StopSettings, now: float) -> StopPlan:
    """What to do with one position's managed stop this cycle, and why."""
    m = i.managed

    def leave(reason: str) -> StopPlan:
        return StopPlan(i.ticker, LEAVE, reason, m.stop_price if m else 0.0, m.quantity if m else 0.0)

    def cancel(reason: str) -> StopPlan:
        assert m is not None
        return StopPlan(i.ticker, CANCEL, reason, m.stop_price, m.quantity, m.order_id)

    if not s.enabled:
        return cancel("off") if m else leave("off")
    if i.excluded:
        return cancel("excluded") if m else leave("excluded")
    if i.selling:
        return leave("sell_requested")  # neither placed, moved nor cancelled here: the /sell releases it
    if m is None and i.refused:
        return leave("refused")
    if not i.price_ok:
        return leave("bad_price")
    if i.calculated_stop is None or not i.calculated_stop > 0:
        return leave("no_stop")
    target = tick_down(i.calculated_stop)
    wanted = sell_quantity(i.available + (m.quantity if m else 0.0), i.learned_decimals)

    if m is None:
        if wanted <= 0:
            return leave("nothing_available")
        if i.current_price <= i.calculated_stop:
            return leave("at_or_below_stop")  # at or through the stop: auto-sell's breach, not a new order
        return StopPlan(i.ticker, PLACE, "unprotected", target, wanted)

    if m.stop_price < i.current_price <= i.calculated_stop:
        # Cancelled only when auto-sell can sell at once: with auto-sell off or the market closed,
        # the lower stop at the broker is still protection (against a gap down at the open, too).
        if s.autosell_enabled and i.market_open is True:
            return StopPlan(i.ticker, EMERGENCY, "price_at_stop", m.stop_price, m.quantity, m.order_id)
        return leave("price_at_stop_autosell_off" if not s.autosell_enabled else "price_at_stop_market_closed")
    due = i.last_move_at is None or now - i.last_move_at >= s.interval
    risen = target >= m.stop_price * (1 + s.min_move_pct / 100) and target > m.stop_price + EPS
    more = wanted > m.quantity + EPS
    if not (risen or more):
        return leave("in_place")
    if not due:
        return leave("interval")
    price = max(target, m.stop_price) if risen else m.stop_price  # never down
    if price >= i.current_price:
        return leave("at_or_below_stop")
    return StopPlan(i.ticker, MOVE, "ratchet" if risen else "quantity", price, wanted, m.order_id)


def release(ticker: str, m: Managed, reason: str = "sell_requested") -> StopPlan:
    """The emergency exit's cancel of the managed stop, asked for by the user's /sell (the price need
    not be at the stop): the market sale follows on the next fresh cycle."""
    return StopPlan(ticker, EMERGENCY, reason, m.stop_price, m.quantity, m.order_id)


def by_urgency(plans: list[StopPlan], prices: dict[str, float]) -> list[StopPlan]:
    """Orders that send first when the rate limit (1 stop order / 2 s) cannot serve all in one cycle:
    emergencies and cancels, then unprotected positions nearest their stop, then moves by the gain."""
    rank = {EMERGENCY: 0, CANCEL: 1, PLACE: 2, MOVE: 3, LEAVE: 4}

    def key(p: StopPlan) -> tuple[int, float]:
        price = prices.get(p.ticker) or 0.0
        gap = (price - p.stop_price) / price if price > 0 else 0.0
        return rank[p.action], gap

    return sorted(plans, key=key)


def protection(quantity: float | None, manual_qty: float, broker_qty: float, calculated_stop: float | None,
               worker_acts: bool) -> str:
    """What acts at the stop (INTERFACE.md): manual | broker | partial | worker | alert | none."""
    covered = max(0.0, manual_qty) + max(0.0, broker_qty)
    if quantity is not None and quantity > 0 and covered >= quantity - 1e-6:  # null: a broker item in doubt
        return "broker" if broker_qty > 0 else "manual"
    if covered > 0:
        return "partial"
    if calculated_stop is None:
        return "none"
    return "worker" if worker_acts else "alert"


def acting_stop(manual: float | None, broker: float | None, calculated: float | None,
                worker_acts: bool) -> float | None:
    """The stop that will act first as the price falls: the highest of those that act."""
    stops = [x for x in (manual, broker, calculated if worker_acts else None) if x is not None and x > 0]
    return max(stops) if stops else None
