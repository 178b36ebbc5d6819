"""Indicators against TA-Lib and independent computations on real daily bars (GOOG, 2148 bars)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import talib
from backtesting.test import GOOG

from papishares.core import indicators as ind
from papishares.core.models import Bars

CONVERGED = slice(-1500, None)  # EMA seeds differ from TA-Lib (first value vs SMA); gone after 600+ bars


@pytest.fixture(scope="module")
def goog() -> pd.DataFrame:
    return GOOG.astype(float)


def _wide_with_holes(goog: pd.DataFrame) -> Bars:
    """Symbols with different histories and holidays: holes in the middle, late starts, early ends."""
    rng = np.random.default_rng(7)
    holey = goog.iloc[300:1800]
    holey = holey[rng.random(len(holey)) > 0.15]  # ~15% of days missing, scattered
    frames = {
        "FULL": goog,
        "HOLEY": holey,
        "EVERY3": goog.iloc[::3] * 0.01,  # another scale, a third of the days
        "SHORT": goog.iloc[-40:],  # too short for MACD to settle / Donchian 55
        "TINY": goog.iloc[-1:],
        "NONE": goog.iloc[0:0],
    }
    return Bars.from_frames(frames, "test")


# -- against TA-Lib -----------------------------------------------------------------------------
@pytest.mark.parametrize("span", [12, 26, 50])
def test_ema_equals_pandas_everywhere_and_talib_after_convergence(goog: pd.DataFrame, span: int) -> None:
    ours = ind.ema(goog.Close, span)
    np.testing.assert_allclose(ours, goog.Close.ewm(span=span, adjust=False).mean(), rtol=1e-12)
    np.testing.assert_allclose(ours.iloc[CONVERGED], talib.EMA(goog.Close, span).iloc[CONVERGED], rtol=1e-6)


@pytest.mark.parametrize("n", [17, 50, 200])
def test_sma_equals_talib(goog: pd.DataFrame, n: int) -> None:
    ours, theirs = ind.sma(goog.Close, n), talib.SMA(goog.Close, n)
    assert ours.iloc[: n - 1].isna().all()
    np.testing.assert_allclose(ours.iloc[n - 1 :], theirs.iloc[n - 1 :], rtol=1e-10)


def test_macd_equals_talib_after_convergence(goog: pd.DataFrame) -> None:
    line, signal, hist = ind.macd(goog.Close, 12, 26, 9)
    t_line, t_signal, t_hist = talib.MACD(goog.Close, 12, 26, 9)
    np.testing.assert_allclose(line.iloc[CONVERGED], t_line.iloc[CONVERGED], rtol=1e-6)
    np.testing.assert_allclose(signal.iloc[CONVERGED], t_signal.iloc[CONVERGED], rtol=1e-6)
    # the histogram is a small difference of two close numbers: compare on the price scale
    np.testing.assert_allclose(hist.iloc[CONVERGED], t_hist.iloc[CONVERGED], atol=1e-6)


def test_true_range_and_wilder_atr_equal_talib_from_the_first_value(goog: pd.DataFrame) -> None:
    tr = ind.true_range(goog.High, goog.Low, goog.Close)
    assert math.isnan(tr.iloc[0])  # no previous close on the first bar, as TA-Lib
    np.testing.assert_allclose(tr.iloc[1:], talib.TRANGE(goog.High, goog.Low, goog.Close).iloc[1:], rtol=1e-12)
    ours = ind.atr(goog.High, goog.Low, goog.Close, 20)
    theirs = talib.ATR(goog.High, goog.Low, goog.Close, 20)
    assert ours.iloc[:20].isna().all() and not math.isnan(ours.iloc[20])
    # same seed (mean of TR on bars 1..20) and same Wilder recursion: equal everywhere
    np.testing.assert_allclose(ours.iloc[20:], theirs.iloc[20:], rtol=1e-10)


def test_atr_seed_and_recursion_by_hand() -> None:
    high = pd.Series([10.0, 12.0, 13.0, 12.0])
    low = pd.Series([9.0, 10.0, 11.0, 8.0])
    close = pd.Series([9.5, 11.0, 12.5, 9.0])
    # TR: bar1 max(2, |12-9.5|=2.5, |10-9.5|=.5)=2.5; bar2 max(2, 2, 0)=2; bar3 max(4, .5, 4.5)=4.5
    # ATR(2): seed on bar 2 = (2.5 + 2) / 2 = 2.25; bar 3 = (2.25 * 1 + 4.5) / 2 = 3.375
    out = ind.atr(high, low, close, 2)
    assert out.isna().tolist() == [True, True, False, False]
    assert out.iloc[2:].tolist() == pytest.approx([2.25, 3.375])


# -- Donchian -----------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [10, 20, 55])
def test_donchian_is_the_previous_n_bars_extreme(goog: pd.DataFrame, n: int) -> None:
    high, low = goog.High.to_numpy(), goog.Low.to_numpy()
    dh, dl = ind.donchian_high(goog.High, n).to_numpy(), ind.donchian_low(goog.Low, n).to_numpy()
    assert np.isnan(dh[:n]).all() and np.isnan(dl[:n]).all()
    for i in range(n, len(high), 7):  # an independent plain loop, today excluded
        assert dh[i] == max(high[i - n : i])
        assert dl[i] == min(low[i - n : i])


def test_donchian_excludes_the_current_bar() -> None:
    x = pd.Series([1.0, 5.0, 3.0, 9.0])
    # previous-2 high on bar 3 is max(5, 3) = 5, not today's 9; on bar 2 max(1, 5) = 5
    assert ind.donchian_high(x, 2).tolist()[2:] == [5.0, 5.0]
    assert ind.donchian_low(x, 2).tolist()[2:] == [1.0, 3.0]


# -- crossovers ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b", "state", "cross"),
    [
        ([1.0, 3.0], [2.0, 2.0], "BULLISH", "BULLISH"),  # -1 -> +1
        ([3.0, 1.0], [2.0, 2.0], "BEARISH", "BEARISH"),  # +1 -> -1
        ([2.0, 3.0], [2.0, 2.0], "BULLISH", "BULLISH"),  # touched (0) then above: crossed now
        ([1.0, 2.0], [2.0, 2.0], "NEUTRAL", None),  # reached but not crossed
        ([3.0, 4.0], [2.0, 2.0], "BULLISH", None),  # above and still above
        ([1.0, 0.5], [2.0, 2.0], "BEARISH", None),
        ([float("nan"), 3.0], [2.0, 2.0], "BULLISH", None),  # one bar only: no crossing known
    ],
)
def test_crossover_and_state_on_the_last_bar(a: list[float], b: list[float], state: str, cross: str | None) -> None:
    sa, sb = pd.Series(a), pd.Series(b)
    assert ind.cross_state(sa, sb).iloc[0] == state
    assert ind.crossover(sa, sb).iloc[0] == cross


def test_crossover_uses_each_columns_own_last_bars() -> None:
    a = pd.DataFrame({"X": [1.0, 3.0, np.nan], "Y": [3.0, 3.0, 1.0]})
    b = pd.DataFrame({"X": [2.0, 2.0, np.nan], "Y": [2.0, 2.0, 2.0]})
    out = ind.crossover(a, b)
    assert out["X"] == "BULLISH" and out["Y"] == "BEARISH"


@pytest.mark.parametrize(
    ("a", "b", "state", "cross"),
    [
        ([1.0, 3.0], [2.0, 2.0], "BULLISH", "BULLISH"),
        ([3.0, 1.0], [2.0, 2.0], "BEARISH", "BEARISH"),
        ([2.0, 3.0], [2.0, 2.0], "BULLISH", "BULLISH"),
        ([1.0, 2.0], [2.0, 2.0], "NEUTRAL", None),
        ([3.0, 4.0], [2.0, 2.0], "BULLISH", None),
        ([1.0, 0.5], [2.0, 2.0], "BEARISH", None),
        ([float("nan"), 3.0], [2.0, 2.0], "BULLISH", None),
    ],
)
def test_crossings_on_every_bar_agree_with_the_last_bar_rule(a: list[float], b: list[float], state: str,
                                                             cross: str | None) -> None:
    """The chart's markers and the snapshot's `macd_crossover` are one rule."""
    assert ind.crossovers(pd.Series(a), pd.Series(b)).tolist() == [None, cross]


def test_crossings_mark_each_bar_where_the_macd_crossed(goog: pd.DataFrame) -> None:
    close = goog["Close"].iloc[:300]
    line, signal, _ = ind.macd(close)
    marks = ind.crossovers(line, signal)
    assert list(marks.index) == list(close.index)
    gap = (line - signal).to_numpy()
    for i in range(1, len(close)):  # the last-bar rule over every prefix of the history
        want = ind.crossover(line.iloc[: i + 1], signal.iloc[: i + 1]).iloc[0]
        assert marks.iloc[i] == want, i
        if want == "BULLISH":
            assert gap[i - 1] <= 0 < gap[i]
    assert marks.iloc[0] is None
    assert (marks == "BULLISH").sum() > 3 and (marks == "BEARISH").sum() > 3
    assert ind.crossovers(pd.Series([], dtype=float), pd.Series([], dtype=float)).tolist() == []


def _macd_diff(close: pd.Series) -> pd.Series:
    """Independent MACD - signal with pandas."""
    line = close.ewm(span=12, adjust=False).mean() - close.ewm(span=26, adjust=False).mean()
    return line - line.ewm(span=9, adjust=False).mean()


def test_summarise_reports_a_macd_crossover_only_on_the_bar_it_happens() -> None:
    days = pd.bdate_range("2024-01-01", periods=120)
    falling = pd.Series(np.linspace(200, 100, 119).tolist() + [140.0], index=days)  # jump on the last bar
    diff = _macd_diff(falling)
    assert diff.iloc[-2] < 0 < diff.iloc[-1]  # the fixture really crosses on the last bar
    frame = pd.DataFrame({"Open": falling, "High": falling, "Low": falling, "Close": falling})
    now = ind.summarise(Bars.from_frames({"UP": frame}, "t"))
    before = ind.summarise(Bars.from_frames({"UP": frame.iloc[:-1]}, "t"))
    assert (now.loc["UP", "macd_state"], now.loc["UP", "macd_crossover"]) == ("BULLISH", "BULLISH")
    assert (before.loc["UP", "macd_state"], before.loc["UP", "macd_crossover"]) == ("BEARISH", None)
    down = frame * -1 + 400  # mirrored prices cross the other way
    assert ind.summarise(Bars.from_frames({"DN": down}, "t")).loc["DN", "macd_crossover"] == "BEARISH"


# -- summarise: values, holes, drop_last, short histories ---------------------------------------
def test_summarise_values_match_independent_computations(goog: pd.DataFrame) -> None:
    s = ind.summarise(Bars.from_frames({"GOOG": goog}, "t")).loc["GOOG"]
    close = goog.Close
    assert s["last_date"] == goog.index[-1].strftime("%Y-%m-%d")
    assert s["bars"] == len(goog)
    assert s["close"] == close.iloc[-1]
    assert s["sma_17"] == pytest.approx(close.iloc[-17:].mean(), rel=1e-12)
    line = close.ewm(span=12, adjust=False).mean() - close.ewm(span=26, adjust=False).mean()
    signal = line.ewm(span=9, adjust=False).mean()
    assert s["macd"] == pytest.approx(line.iloc[-1], rel=1e-10)
    assert s["macd_signal_line"] == pytest.approx(signal.iloc[-1], rel=1e-10)
    assert s["macd_hist"] == pytest.approx(line.iloc[-1] - signal.iloc[-1], rel=1e-8)
    assert s["macd_state"] == ("BULLISH" if line.iloc[-1] > signal.iloc[-1] else "BEARISH")
    assert s["atr_20"] == pytest.approx(talib.ATR(goog.High, goog.Low, close, 20).iloc[-1], rel=1e-10)
    assert s["donchian_high_20"] == goog.High.iloc[-21:-1].max()
    assert s["donchian_high_55"] == goog.High.iloc[-56:-1].max()
    assert s["donchian_low_20"] == goog.Low.iloc[-21:-1].min()
    assert s["donchian_low_10"] == goog.Low.iloc[-11:-1].min()
    assert s["prev_close"] == close.iloc[-2]
    assert s["prev_donchian_high_20"] == goog.High.iloc[-22:-2].max()
    assert s["change_3m_pct"] == pytest.approx((close.iloc[-1] / close.iloc[-64] - 1) * 100, rel=1e-12)


def _summary_alone(bars: Bars, symbol: str, drop_last: bool = False) -> pd.Series:
    own = bars.for_symbol(symbol)
    if drop_last:
        own = own.iloc[:-1]
    return ind.summarise(Bars.from_frames({symbol: own}, "t")).loc[symbol]


def _assert_same_summary(wide: pd.Series, alone: pd.Series) -> None:
    for col in ind.SUMMARY_COLUMNS:
        w, a = wide[col], alone[col]
        if isinstance(a, float) and math.isnan(a):
            assert isinstance(w, float) and math.isnan(w), col
        elif isinstance(a, float):
            assert w == pytest.approx(a, rel=1e-12, abs=1e-12), col
        else:
            assert w == a, col


def test_wide_frame_with_holes_equals_each_symbol_alone(goog: pd.DataFrame) -> None:
    bars = _wide_with_holes(goog)
    assert bars.close.isna().any().sum() >= 4  # the fixture really has holes
    wide = ind.summarise(bars)
    assert list(wide.index) == bars.symbols
    for symbol in bars.symbols:
        if symbol == "NONE":
            continue
        _assert_same_summary(wide.loc[symbol], _summary_alone(bars, symbol))


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: ind.ema(x, 12),
        lambda x: ind.sma(x, 17),
        lambda x: ind.macd(x)[1],
        lambda x: ind.donchian_high(x, 20),
        lambda x: ind.donchian_low(x, 55),
    ],
)
def test_series_functions_on_a_wide_frame_equal_each_column_alone(goog: pd.DataFrame, fn) -> None:  # type: ignore[no-untyped-def]
    close = _wide_with_holes(goog).close
    wide = fn(close)
    assert wide.shape == close.shape
    assert wide[close.isna()].isna().all().all()  # nothing invented on a symbol's missing days
    for symbol in close.columns:
        own = close[symbol].dropna()
        alone = fn(own)
        np.testing.assert_allclose(wide[symbol].reindex(own.index), alone, rtol=1e-12)


def test_atr_on_a_wide_frame_equals_each_column_alone(goog: pd.DataFrame) -> None:
    bars = _wide_with_holes(goog)
    wide = ind.atr(bars.high, bars.low, bars.close, 20)
    for symbol in ("FULL", "HOLEY", "EVERY3", "SHORT"):
        own = bars.for_symbol(symbol)
        np.testing.assert_allclose(
            wide[symbol].reindex(own.index), ind.atr(own.High, own.Low, own.Close, 20), rtol=1e-12
        )
        assert wide[symbol].reindex(own.index).iloc[20:].notna().all()


def test_drop_last_ignores_an_unfinished_bar_for_that_symbol_only(goog: pd.DataFrame) -> None:
    bars = _wide_with_holes(goog)
    out = ind.summarise(bars, drop_last={"HOLEY": True, "SHORT": True, "FULL": False, "NONE": True})
    _assert_same_summary(out.loc["HOLEY"], _summary_alone(bars, "HOLEY", drop_last=True))
    _assert_same_summary(out.loc["SHORT"], _summary_alone(bars, "SHORT", drop_last=True))
    _assert_same_summary(out.loc["FULL"], _summary_alone(bars, "FULL"))
    assert out.loc["SHORT", "bars"] == 39
    assert out.loc["SHORT", "last_date"] == goog.index[-2].strftime("%Y-%m-%d")
    assert out.loc["FULL", "last_date"] == goog.index[-1].strftime("%Y-%m-%d")
    assert out.loc["NONE", "bars"] == 0


def test_short_and_empty_histories_give_nan_and_none_never_raise(goog: pd.DataFrame) -> None:
    out = ind.summarise(_wide_with_holes(goog), drop_last={"TINY": False})
    tiny, none = out.loc["TINY"], out.loc["NONE"]
    assert tiny["bars"] == 1 and tiny["close"] == goog.Close.iloc[-1]
    assert math.isnan(tiny["sma_17"]) and math.isnan(tiny["atr_20"]) and math.isnan(tiny["prev_close"])
    assert tiny["macd_crossover"] is None
    assert tiny["macd_state"] == "NEUTRAL"  # one bar: both EMAs equal the close
    assert none["bars"] == 0 and none["last_date"] is None and none["macd_state"] is None
    assert math.isnan(none["close"])
    short = out.loc["SHORT"]
    assert not math.isnan(short["atr_20"]) and math.isnan(short["donchian_high_55"])
    assert math.isnan(short["change_3m_pct"])
    # the only bar dropped: nothing left, still no error
    one = ind.summarise(Bars.from_frames({"T": goog.iloc[-1:]}, "t"), drop_last={"T": True})
    assert one.loc["T", "bars"] == 0 and one.loc["T", "last_date"] is None


def test_summarise_of_no_bars_is_an_empty_frame_with_the_columns() -> None:
    out = ind.summarise(Bars.empty())
    assert out.empty and list(out.columns) == ind.SUMMARY_COLUMNS


def test_missing_high_low_fall_back_to_close(goog: pd.DataFrame) -> None:
    only_close = goog[["Close"]].iloc[-60:]
    out = ind.summarise(Bars.from_frames({"C": only_close}, "t")).loc["C"]
    assert out["donchian_high_20"] == only_close.Close.iloc[-21:-1].max()
    assert out["atr_20"] > 0
