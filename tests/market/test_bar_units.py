"""Every bar checked against its neighbours: real GOOG daily bars (shipped by `backtesting`) with
pence/pounds-style 100x bars injected, alone and in blocks, plus bad ticks; through the bar cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from backtesting.test import GOOG

from papishares.core import indicators
from papishares.core.models import SymbolRequest
from papishares.market.bar_units import bar_factors, repair_units
from papishares.market.cache import CachedMarketData
from papishares.market.csv import CsvMarketData
from papishares.store.db import Store

BARS = GOOG[["Open", "High", "Low", "Close", "Volume"]].iloc[-400:].astype(float)


def mixed(rows: list[int] | slice, factor: float) -> pd.DataFrame:
    frame = BARS.copy()
    cols = ["Open", "High", "Low", "Close"]
    frame.iloc[rows, [frame.columns.get_loc(c) for c in cols]] *= factor
    return frame


def macd_and_sma(frame: pd.DataFrame) -> np.ndarray:
    """MACD line, signal line and SMA 17 on every bar (NaN where SMA has no 17 bars yet: 0 here)."""
    close = frame["Close"]
    line, signal, _ = indicators.macd(close)
    return np.nan_to_num(np.concatenate([np.asarray(line), np.asarray(signal),
                                         np.asarray(indicators.sma(close, 17))]))


@pytest.mark.parametrize("case", [
    ([37], 100.0),  # one bar in pence among pounds
    ([5, 200, 398], 0.01),  # scattered bars in pounds among pence, one the day before the last
    (slice(100, 130), 100.0),  # a whole month in the other unit
    (slice(0, 150), 0.01),  # the older part of the series (a minority) in the other unit
    ([-1], 100.0),  # the newest bar alone: the majority scale wins, not the newest
])
def test_bars_100x_off_are_rescaled_and_indicators_are_the_real_ones(case: tuple) -> None:
    rows, factor = case
    broken = mixed(rows, factor)
    assert not np.allclose(macd_and_sma(broken), macd_and_sma(BARS))  # the mix-up distorts them
    fixed, note = repair_units(broken, "GOOG")
    pd.testing.assert_frame_equal(fixed, BARS, check_exact=False, rtol=1e-9)
    np.testing.assert_allclose(macd_and_sma(fixed), macd_and_sma(BARS), rtol=1e-9, atol=1e-9)
    assert note is not None and "rescaled" in note and note.startswith("GOOG: ")


def test_a_bad_tick_that_is_no_unit_switch_is_dropped() -> None:
    broken = BARS.copy()
    broken.iloc[50, broken.columns.get_loc("Close")] *= 45.0  # 45x: neither 1 nor 100
    fixed, note = repair_units(broken, "GOOG")
    assert len(fixed) == len(BARS) - 1 and BARS.index[50] not in fixed.index
    assert note == "GOOG: 1 bad tick dropped"


def test_an_open_high_or_low_100x_off_its_own_close_is_fixed() -> None:
    broken = BARS.copy()
    broken.iloc[10, broken.columns.get_loc("High")] *= 100.0
    broken.iloc[11, broken.columns.get_loc("Low")] *= 37.0
    fixed, note = repair_units(broken, "GOOG")
    assert fixed["High"].iloc[10] == pytest.approx(BARS["High"].iloc[10])
    assert fixed["Low"].iloc[11] == fixed["Close"].iloc[11]  # not a unit step: the close stands in
    assert note is not None and "2 open/high/low values" in note


def test_a_clean_series_is_returned_untouched() -> None:
    fixed, note = repair_units(BARS, "GOOG")
    assert fixed is BARS and note is None
    assert np.all(bar_factors(BARS["Close"].to_numpy()) == 1.0)


def test_the_bar_cache_repairs_what_any_source_sends_and_says_so(tmp_path: Path) -> None:
    """A CSV file (the same path a Yahoo download takes through the cache) with a pence block."""
    broken = mixed(slice(300, 310), 100.0)
    broken.index.name = "Date"
    (tmp_path / "bars").mkdir()
    broken.to_csv(tmp_path / "bars" / "GOOG.csv")
    store = Store(tmp_path / "p.db")
    market = CachedMarketData(CsvMarketData(tmp_path / "bars"), store)
    bars = market.daily_bars([SymbolRequest("GOOG_US_EQ", "GOOG", "USD")])
    np.testing.assert_allclose(bars.close["GOOG"].to_numpy(), BARS["Close"].to_numpy(), rtol=1e-9)
    assert "10 bars 100x off their neighbours rescaled" in bars.status["GOOG"]
    cached = market.cached_bars(["GOOG"])  # what the charts read: the repaired bars
    np.testing.assert_allclose(cached.close["GOOG"].to_numpy(), BARS["Close"].to_numpy(), rtol=1e-9)
    again = market.daily_bars([SymbolRequest("GOOG_US_EQ", "GOOG", "USD")])  # served from the cache
    assert "rescaled" in again.status["GOOG"]
    store.close()
