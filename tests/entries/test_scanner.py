"""Breakout signals on hand-made bars and on real bars (GOOG), checked against independent maths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib
from backtesting.test import GOOG

from papishares.core.models import Bars
from papishares.entries.scanner import scan


def flat_bars(closes: list[float], spread: float = 1.0) -> pd.DataFrame:
    """Bars whose high/low are close +/- spread (so the previous n-day high is max(close) + spread)."""
    c = np.asarray(closes, dtype=float)
    idx = pd.bdate_range("2024-01-01", periods=len(c), name="Date")
    return pd.DataFrame({"Open": c, "High": c + spread, "Low": c - spread, "Close": c}, index=idx)


def one(frames: dict[str, pd.DataFrame], **kw) -> pd.DataFrame:
    return scan(Bars.from_frames(frames, "test"), **kw)


def test_system_20_on_the_last_bar_when_only_the_20_day_high_is_broken() -> None:
    # 60 bars: an old peak at 130 (within 55 bars, outside 20), then a range at 100, then a close at 110
    closes = [100.0] * 10 + [129.0] + [100.0] * 48 + [110.0]
    row = one({"X": flat_bars(closes)}).loc["X"]
    assert row["system"] == 20
    assert row["bars_ago"] == 0
    assert row["breakout_level"] == pytest.approx(101.0)  # highest high of the previous 20 bars
    assert row["donchian_high_55"] == pytest.approx(130.0)
    assert pd.isna(row["distance_pct"])


def test_system_55_beats_20_and_counts_a_breakout_on_the_bar_before() -> None:
    closes = [100.0] * 58 + [120.0, 119.0]  # the one-before-last bar broke every high
    row = one({"X": flat_bars(closes)}).loc["X"]
    assert row["system"] == 55
    assert row["bars_ago"] == 1
    assert row["breakout_level"] == pytest.approx(101.0)  # the level the breaking bar crossed


def test_a_breakout_three_bars_ago_no_longer_counts_and_shows_the_distance() -> None:
    closes = [100.0] * 57 + [120.0, 118.0, 117.0]
    row = one({"X": flat_bars(closes)}).loc["X"]
    assert row["system"] is None
    assert row["breakout_level"] == pytest.approx(121.0)  # today's 20-day high: the next level to break
    assert row["distance_pct"] == pytest.approx((121.0 - 117.0) / 117.0 * 100)


def test_an_incomplete_last_bar_is_left_out() -> None:
    closes = [100.0] * 58 + [99.0, 130.0]  # today's bar (not closed yet) would break out
    frames = {"X": flat_bars(closes)}
    assert one(frames).loc["X", "system"] == 55
    row = one(frames, drop_last={"X": True}).loc["X"]
    assert row["system"] is None
    assert row["close"] == 99.0


def test_too_little_history_never_breaks_out_and_never_raises() -> None:
    out = one({"short": flat_bars([1.0, 2.0, 3.0]), "ok": flat_bars([100.0] * 59 + [120.0])})
    assert out.loc["short", "system"] is None
    assert np.isnan(out.loc["short", "atr"])
    assert out.loc["ok", "system"] == 55
    assert scan(Bars.empty()).empty


def test_symbols_with_different_trading_days_are_each_judged_on_their_own_bars() -> None:
    a = flat_bars([100.0] * 59 + [120.0])
    b = flat_bars([50.0] * 59 + [49.0]).iloc[::2]  # every other day only
    out = one({"A": a, "B": b})
    assert out.loc["A", "system"] == 55
    assert out.loc["B", "system"] is None
    assert out.loc["B", "bars"] == 30


def independent(df: pd.DataFrame) -> pd.DataFrame:
    """Per day t of one symbol, the contract's signal computed the plain way (pandas + TA-Lib)."""
    h, lo, c = df["High"], df["Low"], df["Close"]
    hi20, hi55 = h.rolling(20).max().shift(1), h.rolling(55).max().shift(1)
    b20, b55 = c > hi20, c > hi55
    sys55 = b55 | b55.shift(1, fill_value=False)
    sys20 = ~sys55 & (b20 | b20.shift(1, fill_value=False))
    atr = pd.Series(talib.ATR(h.to_numpy(), lo.to_numpy(), c.to_numpy(), timeperiod=20), index=df.index)
    system = pd.Series(np.where(sys55, 55, np.where(sys20, 20, 0)), index=df.index)
    return pd.DataFrame({"system": system, "atr": atr, "hi20": hi20, "hi55": hi55,
                         "change": (c / c.shift(63) - 1) * 100})


def test_goog_signals_on_every_cut_match_an_independent_computation() -> None:
    goog = GOOG.astype(float)
    cuts = list(range(120, len(goog), 7))  # many "todays": each column is GOOG up to that day
    frames = {f"GOOG@{k}": goog.iloc[: k + 1] for k in cuts}
    out = scan(Bars.from_frames(frames, "test"))
    ref = independent(goog)
    got_system = [out.loc[f"GOOG@{k}", "system"] or 0 for k in cuts]
    want_system = ref["system"].iloc[cuts].tolist()
    assert got_system == want_system
    assert 20 in want_system and 55 in want_system and 0 in want_system  # the cuts cover every case
    np.testing.assert_allclose(out["atr"].to_numpy(dtype=float), ref["atr"].iloc[cuts].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(out["close"].to_numpy(dtype=float), goog["Close"].iloc[cuts].to_numpy())
    np.testing.assert_allclose(out["change_3m_pct"].to_numpy(dtype=float), ref["change"].iloc[cuts].to_numpy(),
                               rtol=1e-9)
    for k in cuts:
        row = out.loc[f"GOOG@{k}"]
        if row["system"] is None:
            assert row["breakout_level"] == pytest.approx(ref["hi20"].iloc[k])
        elif row["bars_ago"] == 0:
            level = ref["hi55" if row["system"] == 55 else "hi20"].iloc[k]
            assert row["breakout_level"] == pytest.approx(level)
            assert goog["Close"].iloc[k] > level
        else:
            level = ref["hi55" if row["system"] == 55 else "hi20"].iloc[k - 1]
            assert row["breakout_level"] == pytest.approx(level)
            assert goog["Close"].iloc[k - 1] > level
