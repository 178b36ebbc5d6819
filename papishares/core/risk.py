"""Pure risk arithmetic: trailing stops, the ratchet, manual stops, portfolio risk, position sizing.

Units (INTERFACE.md, "The snapshot JSON"): prices are in the instrument's quote currency and scale
as Trading 212 gives them (GBX stays pence); `fx` converts one quoted unit into account currency
(~0.01 GBP per penny for GBX); budgets and risks are in account currency.

The scalar functions serve single positions and tests; `compute_stops` does the same arithmetic
for every position at once, in the same order of operations, so both give the same floats.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from papishares.core import money
from papishares.core.models import Order

STOP_ORDER_TYPES = frozenset({"STOP", "STOP_LIMIT"})


def _num(x: float | None) -> float | None:
    """A finite float, or None for None / NaN / inf / non-numbers."""
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _positive(x: float | None) -> float | None:
    value = _num(x)
    return value if value is not None and value > 0 else None


# -- the calculated trailing stop ---------------------------------------------------------------
def fx_rate(wallet_current_value: float | None, quantity: float | None, current_price: float | None) -> float | None:
    """Account currency per quoted unit: walletImpact.currentValue / (quantity * currentPrice)."""
    value, qty, price = _positive(wallet_current_value), _positive(quantity), _positive(current_price)
    if value is None or qty is None or price is None:
        return None
    return value / (qty * price)


def risk_budget(total_value: float | None, risk_pct: float | None) -> float | None:
    """RISK_PERCENTAGE / 100 * account total value (account currency)."""
    total, pct = _num(total_value), _num(risk_pct)
    if total is None or pct is None or total < 0 or pct < 0:
        return None
    return pct / 100 * total


def stop_basis(average_price: float | None, max_price: float | None) -> float | None:
    """max(average_price, max_price): the price the stop trails from."""
    avg, top = _positive(average_price), _positive(max_price)
    if avg is None:
        return top
    return avg if top is None else max(avg, top)


def trailing_stop(
    average_price: float | None, max_price: float | None, budget: float | None, fx: float | None,
    quantity: float | None,
) -> float | None:
    """basis - budget / fx / quantity; None when that is <= 0 (the position is smaller than the
    budget) or when any input is missing or invalid."""
    basis, fx_, qty, bud = stop_basis(average_price, max_price), _positive(fx), _positive(quantity), _num(budget)
    if basis is None or fx_ is None or qty is None or bud is None or bud < 0:
        return None
    stop = basis - bud / fx_ / qty
    return stop if stop > 0 else None


def stop_percentage(basis: float | None, stop: float | None) -> float | None:
    """(basis - stop) / basis * 100; None without a stop or a positive basis."""
    b, s = _positive(basis), _num(stop)
    if b is None or s is None:
        return None
    return (b - s) / b * 100


def stop_note(
    position_value: float | None, budget: float | None, risk_pct: float, currency: str | None = None,
) -> str:
    """Why `stop_loss_price` is null, in one sentence for a person (amounts in account currency)."""
    value, bud = _num(position_value), _num(budget)
    if value is None or value <= 0 or bud is None:
        return "No stop: the position's value in account currency is unknown (no price or quantity)."
    return (
        f"The position ({money.rounded(value, currency)}) is smaller than the risk budget "
        f"({money.rounded(bud, currency)}): no stop is needed to stay within {risk_pct:g}% of the account."
    )


def ratchet(
    stored_stop: float | None, new_stop: float | None, stored_qty: float | None, qty: float | None,
) -> float | None:
    """Pure mirror of Store.ratchet_stop: while the quantity is unchanged a stored stop never moves
    down (and a missing new stop keeps it); a changed quantity takes the new stop as it is."""
    stored, new = _num(stored_stop), _num(new_stop)
    same_qty = _num(stored_qty) is not None and _num(stored_qty) == _num(qty)
    if same_qty and stored is not None:
        return stored if new is None else max(stored, new)
    return new


# -- manual stops and portfolio risk ------------------------------------------------------------
def manual_stops(orders: Iterable[Order]) -> dict[str, tuple[float, float]]:
    """Per ticker from pending SELL STOP / STOP_LIMIT orders: (highest stopPrice, sum of |quantity|)."""
    found: dict[str, tuple[float, float]] = {}
    for order in orders:
        price = _positive(order.stop_price)
        if order.type.upper() not in STOP_ORDER_TYPES or not order.is_sell or not order.is_pending:
            continue
        if price is None:
            continue  # a stop order without a stop price is bad data, not protection
        top, qty = found.get(order.ticker, (price, 0.0))
        found[order.ticker] = (max(top, price), qty + abs(order.quantity))
    return found


def effective_stop(manual: float | None, calculated: float | None) -> float | None:
    """The manual stop where present, else the calculated one."""
    m = _positive(manual)
    return m if m is not None else _positive(calculated)


def position_risk(
    average_price: float | None, stop: float | None, quantity: float | None, fx: float | None,
) -> float:
    """max(0, average - stop) * quantity * fx; without a stop the whole value is at risk (stop 0).
    0.0 when the value cannot be converted (no fx)."""
    return _risk_from(average_price, stop, quantity, fx)


def open_risk(
    current_price: float | None, stop: float | None, quantity: float | None, fx: float | None,
) -> float:
    """max(0, current - stop) * quantity * fx: what is left to lose from today's price."""
    return _risk_from(current_price, stop, quantity, fx)


def _risk_from(price: float | None, stop: float | None, quantity: float | None, fx: float | None) -> float:
    p, q, f = _positive(price), _positive(quantity), _positive(fx)
    if p is None or q is None or f is None:
        return 0.0
    s = _positive(stop) or 0.0
    return max(0.0, p - s) * q * f


def total_risk_pct(risks: Iterable[float], total_value: float | None) -> float:
    """Sum of position risks over the account's total value, in %; 0.0 without a positive total."""
    total = _positive(total_value)
    if total is None:
        return 0.0
    return sum(r for r in (_num(x) for x in risks) if r is not None) / total * 100


def distance_to_stop_pct(current_price: float | None, stop: float | None) -> float | None:
    """(current - stop) / current * 100: how far the price may fall before the stop."""
    p, s = _positive(current_price), _positive(stop)
    if p is None or s is None:
        return None
    return (p - s) / p * 100


# -- position sizing ----------------------------------------------------------------------------
def position_size(
    account_value: float | None, risk_pct: float | None, entry: float | None, stop: float | None,
    fx: float | None, fractional: bool = False, precision: int = 2,
) -> float:
    """Shares whose risk (entry - stop) * shares * fx stays within risk_pct of the account.

    Whole shares, rounded down, by default; with `fractional`, rounded down to `precision`
    decimals (the instrument's quantity precision). 0 when nothing fits or inputs are invalid.
    """
    budget, e, s, f = risk_budget(account_value, risk_pct), _positive(entry), _num(stop), _positive(fx)
    if budget is None or e is None or s is None or f is None or s >= e:
        return 0.0
    s = max(s, 0.0)  # a price cannot fall below 0: a stop under it risks the whole entry price
    per_share = (e - s) * f
    step = 10.0 ** -(precision if fractional else 0)
    # +1e-9 so 2.9999999999 (float noise) counts as 3 steps; then step back if that overshot
    steps = math.floor(budget / per_share / step + 1e-9)
    while steps > 0 and steps * step * per_share > budget * (1 + 1e-12):
        steps -= 1
    return round(steps * step, precision if fractional else 0)


# -- every position at once ---------------------------------------------------------------------
STOP_INPUTS = [
    "average_price", "max_price", "quantity", "current_price", "wallet_value",
    "stored_stop", "stored_qty", "manual_stop", "manual_qty",
]


def _col(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isfinite(values), values, np.nan)


def _pos(a: np.ndarray) -> np.ndarray:
    """The positive values; NaN elsewhere (mirrors _positive)."""
    with np.errstate(invalid="ignore"):
        return np.where(a > 0, a, np.nan)


def compute_stops(frame: pd.DataFrame, total_value: float, risk_pct: float) -> pd.DataFrame:
    """Stops and risk for many positions at once (one row each; missing values as NaN).

    Inputs: STOP_INPUTS columns. Adds: fx, basis, calculated_stop (before the ratchet), stop
    (ratcheted), stop_pct, effective_stop, risk, open_risk, distance_to_stop_pct, breached
    (current <= effective stop) and calculated_breached (current <= stop). NaN means None.
    """
    raw_qty = _col(frame, "quantity")
    avg, top, qty = _pos(_col(frame, "average_price")), _pos(_col(frame, "max_price")), _pos(raw_qty)
    price, wallet = _pos(_col(frame, "current_price")), _pos(_col(frame, "wallet_value"))
    stored, stored_qty = _col(frame, "stored_stop"), _col(frame, "stored_qty")
    manual = _pos(_col(frame, "manual_stop"))
    budget = risk_budget(total_value, risk_pct)
    budget_ = np.nan if budget is None else budget

    with np.errstate(invalid="ignore", divide="ignore"):
        fx = _pos(wallet / (qty * price))
        basis = np.fmax(avg, top)  # fmax: a missing side gives the other
        raw = basis - budget_ / fx / qty
        calculated = np.where(raw > 0, raw, np.nan)
        if "mode_stop" in frame.columns:  # another stop mode's stop replaces the formula where it has one
            mode_stop = _pos(_col(frame, "mode_stop"))
            calculated = np.where(np.isnan(mode_stop), calculated, mode_stop)
        same_qty = (stored_qty == raw_qty) & ~np.isnan(stored)  # as Store.ratchet_stop compares
        stop = np.where(same_qty, np.fmax(stored, calculated), calculated)
        stop_pct = np.where(basis > 0, (basis - stop) / basis * 100, np.nan)
        eff = np.where(~np.isnan(manual), manual, _pos(stop))
        floor = np.nan_to_num(eff, nan=0.0)
        valued = ~np.isnan(qty) & ~np.isnan(fx)
        risk = np.where(valued & ~np.isnan(avg), np.maximum(0.0, avg - floor) * qty * fx, 0.0)
        risk_open = np.where(valued & ~np.isnan(price), np.maximum(0.0, price - floor) * qty * fx, 0.0)
        distance = (price - eff) / price * 100
        breached = price <= eff
        calc_breached = price <= stop

    out = frame.copy()
    out["fx"] = fx
    out["basis"] = basis
    out["calculated_stop"] = calculated
    out["stop"] = stop
    out["stop_pct"] = stop_pct
    out["effective_stop"] = eff
    out["risk"] = risk
    out["open_risk"] = risk_open
    out["distance_to_stop_pct"] = distance
    out["breached"] = breached
    out["calculated_breached"] = calc_breached
    return out
