"""Pure data-quality rules for one position: what makes it unusable for a stop or a sale, in words.

The service marks positions with these; auto-sell and alerts read the marks. The price rules
themselves (50 % move, ~100x units) live in `papishares.core.units`; this module only applies them.

>>> units_problem(1350.0, 13.5, None, "GBX")[:38]
'price 1350 GBX is 100x away from its a'
>>> units_problem(13.6, 13.5, 13.4, "GBP") is None
True
>>> conservative_risk(120.0, 150.0, None)
150.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Protocol

from papishares.core import units


class Marked(Protocol):
    """Anything carrying the two doubt notes (a PositionView); read-only, so frozen dataclasses fit."""

    @property
    def ticker(self) -> str: ...

    @property
    def data_note(self) -> str | None: ...

    @property
    def units_note(self) -> str | None: ...


def units_problem(price: float | None, average: float | None, last: float | None, currency: str,
                  high: float | None = None) -> str | None:
    """A note when the price is ~100x from the average price, the last recorded price or the
    high-water mark recorded for the position (the stored stop stands in its units), else None."""
    for reference, what in ((average, "average price"), (last, "last recorded price"), (high, "high-water mark")):
        if units.units_mismatch(price, reference):
            return units.units_note(float(price), float(reference), what, currency)  # type: ignore[arg-type]
    return None


def hold_reason(p: Marked) -> str | None:
    """Why a position must not be sold on now (unusable broker data or units), else None."""
    if p.data_note:
        return f"Trading 212 sent unusable data for it ({p.data_note})"
    if p.units_note:
        return f"its units disagree: {p.units_note}"
    return None


def data_stop_note(data_note: str) -> str:
    """`stop_loss_note` for a position whose numbers are unusable."""
    return f"No stop: Trading 212 sent unusable data for this position ({data_note}); it is never sold on."


def _amount(x: float | None) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value > 0 else None


def conservative_risk(*amounts: float | None) -> float:
    """The largest of the amounts that are known (account currency): a marked position's risk is
    its whole value by the most pessimistic reading available (its value, its cost, the formula's)."""
    known = [a for a in (_amount(x) for x in amounts) if a is not None]
    return max(known) if known else 0.0


def unaccounted_value(invested: float | None, known_values: Iterable[float | None]) -> float | None:
    """What the account says is invested beyond the positions whose value is known: the best
    estimate of the value of positions the broker gave no value for (None when it cannot tell)."""
    total = _amount(invested)
    if total is None:
        return None
    rest = total - sum(v for v in (_amount(x) for x in known_values) if v is not None)
    return rest if rest > 0 else None
