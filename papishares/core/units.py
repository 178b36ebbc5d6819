"""Pure price-sanity rules, each defined once: the 50 % move rule and the 100x units rule.

Every room that decides on a price (service, store, auto-sell, managed stops, alerts) asks here.

>>> moved_too_far(100.0, 151.0), moved_too_far(100.0, 149.0), moved_too_far(None, 5.0)
(True, False, False)
>>> units_mismatch(1350.0, 13.5), units_mismatch(13.5, 1350.0), units_mismatch(120.0, 100.0)
(True, True, False)
"""

from __future__ import annotations

import math

SUSPECT_MOVE = 0.5  # a price more than 50 % away from the last one recorded waits for confirmation
UNITS_RATIO = 30.0  # "about 100x" (pence vs pounds): anything 30x or more away is a units problem


def _positive(x: float | None) -> bool:
    return x is not None and isinstance(x, int | float) and math.isfinite(x) and x > 0


def moved_too_far(previous: float | None, price: float | None, limit: float = SUSPECT_MOVE) -> bool:
    """True when `price` moved more than `limit` (a fraction) from `previous`.

    Nothing to compare with (no previous price) is not a move. A price that is not a positive
    number is always suspect.
    """
    if price is None or not _positive(price):
        return True
    if previous is None or not _positive(previous):
        return False
    moved: bool = abs(price / previous - 1) > limit
    return moved


def ratio(a: float | None, b: float | None) -> float | None:
    """max(a/b, b/a), or None when either is not a positive number."""
    if not (_positive(a) and _positive(b)):
        return None
    r = a / b  # type: ignore[operator]
    return max(r, 1 / r)


def units_mismatch(price: float | None, reference: float | None, limit: float = UNITS_RATIO) -> bool:
    """True when `price` is about 100x (or 1/100) away from `reference`: pence against pounds.

    No usable reference is no evidence of a mismatch; a price that is not positive is handled by
    `moved_too_far` (always suspect), not here.
    """
    r = ratio(price, reference)
    return r is not None and r >= limit


def units_note(price: float, reference: float, what: str, currency: str) -> str:
    """A sentence for a position whose price and `what` (e.g. "average price") disagree in units."""
    r = ratio(price, reference) or float("nan")
    return (f"price {price:g} {currency} is {r:.0f}x away from its {what} {reference:g}: "
            "a pence/pounds mix-up until proven otherwise, so no stop and no sale until the units agree")


SPLIT_MIN_RATIO = 1.25  # a quantity change smaller than this is a trade, not a split
SPLIT_COST_TOLERANCE = 0.02  # a split keeps the cost basis (quantity x average price) within 2 %


def split_factor(quantity: float | None, average: float | None, new_quantity: float | None,
                 new_average: float | None) -> float | None:
    """How prices scale across a stock split (new average / old average), or None when it is no split.

    A split (or reverse split, or a bonus issue) changes the quantity by r and the average price by
    1/r, keeping the cost basis; a buy or a sell changes the cost basis. Stored prices (the high-water
    mark, the stop) are in the old scale: unscaled, a 4:1 split would read as a 75 % fall through the
    stop and sell the position.

    >>> split_factor(400, 420.0, 1600, 105.0), split_factor(100, 50.0, 20, 250.0)
    (0.25, 5.0)
    >>> split_factor(400, 420.0, 800, 430.0), split_factor(400, 420.0, 200, 420.0), split_factor(10, 5.0, 11, 4.6)
    (None, None, None)
    """
    if not all(_positive(x) for x in (quantity, average, new_quantity, new_average)):
        return None
    r = new_quantity / quantity  # type: ignore[operator]
    if 1 / SPLIT_MIN_RATIO < r < SPLIT_MIN_RATIO:
        return None
    cost_before, cost_after = quantity * average, new_quantity * new_average  # type: ignore[operator]
    if abs(cost_after / cost_before - 1) > SPLIT_COST_TOLERANCE:
        return None
    return new_average / average  # type: ignore[operator]
