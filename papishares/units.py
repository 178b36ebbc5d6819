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
    if not _positive(price):
        return True
    if not _positive(previous):
        return False
    return abs(price / previous - 1) > limit  # type: ignore[operator]


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
