"""The equity curve (pure): time-weighted return across deposits and withdrawals, and drawdown.

Daily values V_d are end-of-day account values; F_d is the net external flow on day d (deposits
positive, withdrawals negative), taken as arriving before the day's close, so the day's return is
r_d = (V_d - F_d) / V_{d-1} - 1 and TWR = prod(1 + r_d) - 1: money moved in or out does not count
as performance. Drawdown is the TWR index against its running peak.

>>> import pandas as pd
>>> v = pd.Series([100.0, 110.0, 220.0], index=pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"]))
>>> f = pd.Series([100.0], index=pd.to_datetime(["2026-01-03"]))
>>> round(float(twr_index(v, f).iloc[-1]), 4)  # +10% then +9.09%: the 100 deposited is not return
1.2
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pandas as pd

FLOW_TYPES = {"DEPOSIT": 1.0, "WITHDRAW": -1.0, "WITHDRAWAL": -1.0}


def daily_flows(transactions: Iterable[dict[str, Any]]) -> pd.Series:
    """Net deposits minus withdrawals per UTC day (account currency) from hist_transactions rows.
    A TRANSFER (between the user's accounts) counts by its sign; fees are not flows (they are cost)."""
    totals: dict[pd.Timestamp, float] = {}
    for t in transactions:
        kind = (t.get("type") or "").upper()
        amount = t.get("amount")
        if amount is None or t.get("at") is None:
            continue
        if kind in FLOW_TYPES:
            value = abs(float(amount)) * FLOW_TYPES[kind]
        elif kind == "TRANSFER":
            value = float(amount)
        else:
            continue
        day = pd.Timestamp(datetime.fromtimestamp(float(t["at"]), UTC).date())
        totals[day] = totals.get(day, 0.0) + value
    return pd.Series(totals, dtype=float).sort_index()


def daily_returns(values: pd.Series, flows: pd.Series | None = None) -> pd.Series:
    """r_d per day after the first (a day without a prior value, or a prior value <= 0, is 0)."""
    values = values.astype(float).sort_index()
    flows = (flows if flows is not None else pd.Series(dtype=float)).astype(float)
    flow = flows.reindex(values.index, fill_value=0.0)
    # flows on days without a value point belong to the next point's day
    missed = flows[~flows.index.isin(values.index)]
    for day, amount in missed.items():
        later = values.index[values.index > day]
        if len(later):
            flow[later[0]] += amount
    prev = values.shift(1)
    r = (values - flow) / prev - 1.0
    r[(prev <= 0) | prev.isna()] = 0.0
    return r


def twr_index(values: pd.Series, flows: pd.Series | None = None) -> pd.Series:
    """Growth of 1 (time-weighted): 1.0 on the first day."""
    return (1.0 + daily_returns(values, flows)).cumprod()


def drawdown(index: pd.Series) -> pd.Series:
    """0 at a new peak, negative below it (fraction: -0.1 is 10% under the peak)."""
    return index / index.cummax() - 1.0


def max_drawdown(index: pd.Series) -> float:
    return float(drawdown(index).min()) if len(index) else 0.0


def rebased(series: pd.Series, on: pd.Index) -> pd.Series:
    """A benchmark's closes on the equity curve's days, as growth of 1 from the first common day."""
    s = series.astype(float).sort_index()
    s.index = pd.to_datetime(s.index).tz_localize(None).normalize()
    s = s[~s.index.duplicated(keep="last")].reindex(on, method="ffill").dropna()
    return s / s.iloc[0] if len(s) else s
