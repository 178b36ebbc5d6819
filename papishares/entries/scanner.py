"""Pure Turtle breakout signals for a whole universe at once (no clock, no I/O).

System 1 (`20`) = a completed close above the high of the previous 20 bars; System 2 (`55`) = above
the previous 55-bar high; either counts when it happened on the last or the one-before-last completed
bar. The indicator maths (Wilder ATR(20), Donchian highs of the previous n bars, the 3-month change)
comes from `papishares.core.indicators.summarise`, which works on the wide frames of every symbol at once.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from papishares.core import indicators
from papishares.core.models import Bars

SCAN_COLUMNS = [
    "last_date", "close", "system", "breakout_level", "atr", "atr_pct", "change_3m_pct",
    "distance_pct", "bars_ago", "donchian_high_20", "donchian_high_55", "bars",
]
MIN_BARS = 22  # ATR(20) needs 21 bars, a breakout on the previous bar one more


def scan(bars: Bars, drop_last: Mapping[str, bool] | None = None) -> pd.DataFrame:
    """One row per symbol (index) with the columns of SCAN_COLUMNS.

    `system` is 55, 20 or None; `breakout_level` is the high that was broken (for a symbol not
    breaking out: today's 20-bar high, the next level to break) and `distance_pct` how far the
    close is below it (None for a breakout); `bars_ago` is 0 when the last completed bar broke out,
    1 when the bar before did. `drop_last[symbol]` marks a last bar that is not completed yet.
    """
    s = indicators.summarise(bars, drop_last)
    return signals(s)


def _num(s: pd.DataFrame, col: str) -> np.ndarray:
    values: np.ndarray = pd.to_numeric(s[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return values


def signals(summary: pd.DataFrame) -> pd.DataFrame:
    """The breakout columns from an `indicators.summarise` frame (vectorised over symbols)."""
    close, prev_close = _num(summary, "close"), _num(summary, "prev_close")
    dh20, dh55 = _num(summary, "donchian_high_20"), _num(summary, "donchian_high_55")
    p20, p55 = _num(summary, "prev_donchian_high_20"), _num(summary, "prev_donchian_high_55")
    atr = _num(summary, "atr_20")
    with np.errstate(invalid="ignore", divide="ignore"):
        # NaN compares False: a symbol without enough history never breaks out
        b55_now, b55_prev = close > dh55, prev_close > p55
        b20_now, b20_prev = close > dh20, prev_close > p20
        is55 = b55_now | b55_prev
        is20 = ~is55 & (b20_now | b20_prev)
        level = np.select(
            [is55 & b55_now, is55, is20 & b20_now, is20],
            [dh55, p55, dh20, p20],
            default=dh20,
        )
        bars_ago = np.select([is55 & b55_now, is55, is20 & b20_now, is20], [0, 1, 0, 1], default=-1)
        atr_pct = atr / close * 100
        distance = np.where(is55 | is20, np.nan, (level - close) / close * 100)

    system = np.where(is55, 55, np.where(is20, 20, 0))
    index = summary.index
    out = pd.DataFrame(
        {
            "last_date": summary["last_date"],
            "close": close,
            "system": pd.Series(system, index=index, dtype=object).where(system > 0, None),
            "breakout_level": level,
            "atr": atr,
            "atr_pct": atr_pct,
            "change_3m_pct": _num(summary, "change_3m_pct"),
            "distance_pct": distance,
            "bars_ago": pd.Series(bars_ago, index=index, dtype=object).where(bars_ago >= 0, None),
            "donchian_high_20": dh20,
            "donchian_high_55": dh55,
            "bars": summary["bars"].astype(int),
        },
        index=index,
    )
    return out[SCAN_COLUMNS]
