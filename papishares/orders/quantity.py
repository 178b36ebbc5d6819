"""Pure order-quantity rules: what Trading 212 accepts for a sell, and what its rejection says.

Positions hold up to 8 decimals; orders accept at most 4 and some instruments fewer. The decimals
allowed are not in the metadata: a `quantity-precision-mismatch` rejection names them
("invalid quantity precision 3"), in problem-JSON `detail`, legacy `code`/`clarification` or
`message`. The official reading is that the number is the precision ALLOWED; some reports read it
as the precision SENT. `retry_decimals` works for both: a number below what was sent is what is
allowed; a number not below it can only be what was sent, so the retry uses one decimal fewer.

>>> truncate(12.09032128, 4), truncate(0.99999, 0), truncate(3.0, 4)
(12.0903, 0.0, 3.0)
>>> sell_quantity(12.09032128), sell_quantity(12.09032128, 2), sell_quantity(7.5, 0)
(12.0903, 12.09, 7.0)
>>> stated_precision("invalid quantity precision 3"), stated_precision("QuantityPrecisionMismatch")
(3, None)
>>> retry_decimals(12.0903, 3), retry_decimals(12.0903, 4), retry_decimals(12.5, None)
(3, 3, 0)
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_DOWN, Decimal, InvalidOperation

MAX_ORDER_DECIMALS = 4
PRECISION_RE = re.compile(r"precision\D{0,20}(\d+)", re.IGNORECASE)
PRECISION_ERROR = "quantity-precision-mismatch"


def truncate(quantity: float, decimals: int) -> float:
    """Round `quantity` DOWN to `decimals` places (never up: we cannot sell what we lack).

    Not a positive finite number: 0.0.
    """
    if not isinstance(quantity, int | float) or not math.isfinite(quantity) or quantity <= 0:
        return 0.0
    step = Decimal(1).scaleb(-max(0, min(int(decimals), 12)))
    try:
        return float(Decimal(repr(float(quantity))).quantize(step, rounding=ROUND_DOWN))
    except InvalidOperation:
        return 0.0


def allowed_decimals(learned: int | None = None) -> int:
    """The decimals a sell may carry: at most 4, fewer when the instrument taught us so."""
    if learned is None:
        return MAX_ORDER_DECIMALS
    return max(0, min(int(learned), MAX_ORDER_DECIMALS))


def sell_quantity(available: float, learned: int | None = None) -> float:
    """What to sell of `available` (quantityAvailableForTrading): truncated to the allowed decimals."""
    return truncate(available, allowed_decimals(learned))


def decimals_of(quantity: float) -> int:
    """How many decimals `quantity` carries (12.0903 -> 4, 7.0 -> 0)."""
    if not isinstance(quantity, int | float) or not math.isfinite(quantity):
        return 0
    exponent = Decimal(repr(float(quantity))).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def stated_precision(*texts: str | None) -> int | None:
    """The number in "invalid quantity precision N" from whichever text carries it (None: not said)."""
    for text in texts:
        match = PRECISION_RE.search(text or "")
        if match:
            return int(match.group(1))
    return None


def is_precision_error(error_type: str | None, *texts: str | None) -> bool:
    """A precision rejection, however the body names it (type, legacy code, or only the words)."""
    if (error_type or "").lower().replace("_", "-") == PRECISION_ERROR:
        return True
    joined = " ".join(t or "" for t in texts).lower()
    return "precision" in joined and "quantity" in joined


def retry_decimals(sent: float, stated: int | None) -> int:
    """The decimals for the one retry after a precision rejection of `sent` (both readings, above)."""
    sent_decimals = decimals_of(sent)
    if stated is not None and stated < sent_decimals:
        return max(0, stated)
    return max(0, sent_decimals - 1) if stated is not None else 0
