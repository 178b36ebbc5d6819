"""Pure position sizing for entry candidates: the Turtle 2N initial stop within RISK_PERCENTAGE.

Units: `close` and `atr` are in each symbol's quote currency and scale (GBX in pence); `fx` converts
one quoted unit into account currency (0.01 for GBX in a GBP account); `risk_amount` and
`cost_account` are in account currency, `cost` in quote currency (as INTERFACE.md's entries JSON).
The share count itself is `papishares.core.risk.position_size`, the one sizing formula of the project.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from papishares.core import risk
from papishares.core.numbers import finite

STOP_ATR_MULTIPLE = 2.0  # the Turtle initial stop: 2N below the entry
SIZING_COLUMNS = ["fx", "initial_stop", "shares", "cost", "cost_account", "risk_amount", "risk_pct",
                  "total_risk_after_pct", "over_total_risk"]


@dataclass(frozen=True)
class Sizing:
    shares: float | None
    initial_stop: float | None
    cost: float | None  # quote currency
    cost_account: float | None  # account currency
    risk_amount: float | None  # account currency: shares * 2N * fx




def size_one(close: float | None, atr: float | None, fx: float | None, account_value: float | None,
             risk_pct: float, fractional: bool = False, precision: int = 2) -> Sizing:
    """Shares such that a stop 2N below `close` risks at most `risk_pct` % of the account.

    >>> size_one(100.0, 2.5, 1.0, 10_000.0, 1.0)  # budget 100, 5 per share at risk
    Sizing(shares=20.0, initial_stop=95.0, cost=2000.0, cost_account=2000.0, risk_amount=100.0)
    """
    c, n, f = finite(close), finite(atr), finite(fx)
    if c is None or n is None or c <= 0 or n <= 0:
        return Sizing(None, None, None, None, None)
    stop = c - STOP_ATR_MULTIPLE * n
    if f is None or f <= 0 or finite(account_value) is None:
        return Sizing(None, stop, None, None, None)  # the stop is known, the money is not
    # position_size wants a positive stop below entry; a stop <= 0 risks the whole price per share
    shares = risk.position_size(account_value, risk_pct, c, c - STOP_ATR_MULTIPLE * n, f,
                                fractional=fractional, precision=precision)
    risk_amount = shares * STOP_ATR_MULTIPLE * n * f
    return Sizing(shares, stop, shares * c, shares * c * f, risk_amount)


def size_frame(scan: pd.DataFrame, fx: pd.Series, account_value: float | None, risk_pct: float,
               total_risk_pct: float | None, threshold_pct: float, fractional: bool = False) -> pd.DataFrame:
    """The SIZING_COLUMNS for every row of a scanner frame (`close`, `atr`), `fx` by symbol.

    `total_risk_after_pct` is the portfolio's current total risk plus this candidate's risk, and
    `over_total_risk` whether that passes `threshold_pct` (None when either is unknown).
    """
    fx_col = fx.reindex(scan.index).astype(float)
    rows = [
        size_one(c, n, f, account_value, risk_pct, fractional)
        for c, n, f in zip(scan["close"], scan["atr"], fx_col, strict=True)
    ]
    out = pd.DataFrame(
        {
            "fx": fx_col.to_numpy(),
            "initial_stop": [r.initial_stop for r in rows],
            "shares": [r.shares for r in rows],
            "cost": [r.cost for r in rows],
            "cost_account": [r.cost_account for r in rows],
            "risk_amount": [r.risk_amount for r in rows],
        },
        index=scan.index,
    ).astype(float)
    value = finite(account_value)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["risk_pct"] = out["risk_amount"] / value * 100 if value and value > 0 else np.nan
        base = finite(total_risk_pct)
        out["total_risk_after_pct"] = out["risk_pct"] + base if base is not None else np.nan
    after = out["total_risk_after_pct"].to_numpy()
    out["over_total_risk"] = pd.Series(after > threshold_pct, index=scan.index, dtype=object).where(
        ~np.isnan(after), None
    )
    return out[SIZING_COLUMNS]
