"""The six stop modes against hand-computed exits, the ratchet, and the absence of look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from papishares.core import indicators, stop_modes
from papishares.core.stop_modes import MODES, entry_bar, prepare, replay, stops


def bars(rows: list[tuple[float, float, float, float]], **extra: list[float | bool]) -> pd.DataFrame:
    """A prepared-like frame from (open, high, low, close) rows; indicator columns given or neutral."""
    n = len(rows)
    frame = pd.DataFrame(rows, columns=["Open", "High", "Low", "Close"],
                         index=pd.bdate_range("2026-01-05", periods=n))
    frame["atr"] = extra.get("atr", [np.nan] * n)
    frame["sma"] = extra.get("sma", [np.nan] * n)
    frame["bearish_cross"] = extra.get("bearish_cross", [False] * n)
    return frame


E, D = 100.0, 10.0
RISK_ROWS = [(100, 101, 99, 100), (101, 106, 101, 105), (106, 113, 104, 112), (108, 109, 101, 103)]


def test_risk_trails_the_highest_close_and_fills_at_the_stop() -> None:
    r = replay("risk", bars(RISK_ROWS), E, D)
    # t1: max(100, 100) - 10 = 90; t2: max(100, 105) - 10 = 95; t3: 112 - 10 = 102, low 101 hits it
    assert r.stops[1:4].tolist() == [90.0, 95.0, 102.0]
    assert (r.exit.bar, r.exit.price, r.exit.reason) == (3, 102.0, "stop")
    assert r.exit.r_multiple == pytest.approx(0.2)
    assert r.exit.to_json() == {"exit_date": "2026-01-08", "exit_price": 102.0, "r_multiple": 0.2, "reason": "stop"}


def test_a_gap_below_the_stop_fills_at_the_open() -> None:
    rows = RISK_ROWS[:3] + [(99, 100, 97, 98)]
    r = replay("risk", bars(rows), E, D)
    assert (r.exit.price, r.exit.reason) == (99.0, "stop")
    assert r.exit.r_multiple == pytest.approx(-0.1)


def test_the_entry_bar_never_stops_out() -> None:
    # bar 0 trades far below the initial stop: no stop applies on the entry bar itself
    rows = [(100, 100, 50, 100), (100, 104, 99, 103)]
    r = replay("risk", bars(rows), E, D)
    assert (r.exit.bar, r.exit.reason, r.exit.price) == (1, "open", 103.0)


def test_a_trade_still_open_exits_at_the_last_close() -> None:
    rows = [(100, 101, 99, 100), (100, 103, 99, 102), (102, 104, 101, 104)]
    for mode in MODES:
        r = replay(mode, bars(rows, atr=[1.0, 1.0, 1.0], sma=[90.0] * 3), E, D)
        assert (r.exit.bar, r.exit.price, r.exit.reason) == (2, 104.0, "open"), mode
        assert r.exit.r_multiple == pytest.approx(0.4)


def test_chandelier_hangs_from_the_highest_high_and_never_drops() -> None:
    rows = [(100, 101, 99, 100), (101, 106, 100, 105), (105, 110, 104, 109), (109, 110, 103, 104), (104, 105, 98, 99)]
    atr = [2.0, 2.0, 4.0, 1.0, 1.0]
    r = replay("chandelier", bars(rows, atr=atr), E, D)
    # t1: max(90, 101 - 6) = 95; t2: max(90, 106 - 6) = 100; t3: 110 - 12 = 98 -> ratchet keeps 100;
    # t3's low 103 holds; t4: 110 - 3 = 107, open 104 is below it -> gap fill at 104
    assert r.stops[1:5].tolist() == [95.0, 100.0, 100.0, 107.0]
    assert (r.exit.bar, r.exit.price, r.exit.reason) == (4, 104.0, "stop")


def test_chandelier_without_an_atr_yet_keeps_the_initial_stop() -> None:
    rows = [(100, 120, 99, 100), (100, 101, 91, 95)]
    r = replay("chandelier", bars(rows), E, D)
    assert r.stops[1] == 90.0 and r.exit.reason == "open"


def test_breakeven_moves_to_entry_once_a_close_reached_one_r() -> None:
    rows = [(100, 101, 99, 100), (101, 111, 100, 109), (109, 112, 108, 110), (110, 111, 100.5, 101),
            (101, 102, 99, 100)]
    r = replay("breakeven", bars(rows), E, D)
    # 109 is not 110; bar 2's close reached E + D = 110 -> from bar 3 on the stop is E = 100
    assert r.stops[1:5].tolist() == [90.0, 90.0, 100.0, 100.0]  # bars 1..4
    assert (r.exit.bar, r.exit.price, r.exit.reason) == (4, 100.0, "stop")
    assert r.exit.r_multiple == 0.0


def test_breakeven_does_not_trail() -> None:
    rows = [(100, 101, 99, 100)] + [(c - 1, c + 1, c - 2, c) for c in (110, 130, 150, 170)]
    assert set(stops("breakeven", bars(rows), E, D)[2:]) == {100.0}


def test_turtle_before_bar_ten_uses_two_atr_below_entry() -> None:
    # ATR on bar 0 is 3: stop 94 until the 10-bar channel exists
    rows = [(100, 101, 99, 100)] + [(101, 103, 95 + i * 0.1, 102) for i in range(1, 9)] + [(101, 102, 93, 100)]
    r = replay("turtle", bars(rows, atr=[3.0] + [9.9] * 9), E, D)
    assert r.stops[1:10].tolist() == [94.0] * 9  # a later ATR never moves the base
    assert (r.exit.bar, r.exit.price, r.exit.reason) == (9, 94.0, "stop")


def test_turtle_channel_from_bar_ten() -> None:
    lows = [99, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 101]
    rows = [(lo + 1, lo + 3, lo, lo + 2) for lo in lows]
    r = replay("turtle", bars(rows, atr=[3.0] * len(rows)), E, D)
    line = r.stops
    assert line[1:10].tolist() == [94.0] * 9
    assert line[10] == 96.0  # min low of bars 0..9 = 96 (bar 1)
    assert line[11] == 96.0  # bars 1..10: still bar 1's 96
    assert line[12] == 97.0  # bars 2..11
    # bar 12: low 101 > 98, never hit; the trade is open at the end
    assert r.exit.reason == "open"


def test_sma_exits_at_the_close_below_sma17() -> None:
    rows = [(100, 101, 99, 100), (100, 103, 99, 102), (102, 103, 96, 97), (97, 98, 80, 81)]
    r = replay("sma", bars(rows, sma=[101.0, 101.0, 99.0, 90.0]), E, D)
    assert (r.exit.bar, r.exit.price, r.exit.reason) == (2, 97.0, "signal")
    assert r.exit.r_multiple == pytest.approx(-0.3)


def test_sma_ignores_the_entry_bar() -> None:
    rows = [(100, 101, 99, 100), (100, 103, 99, 102)]
    r = replay("sma", bars(rows, sma=[120.0, 101.0]), E, D)
    assert r.exit.reason == "open"


def test_stop_comes_before_a_close_signal_on_the_same_bar() -> None:
    rows = [(100, 101, 99, 100), (95, 96, 85, 86)]
    for mode, extra in (("sma", {"sma": [99.0, 99.0]}), ("macd", {"bearish_cross": [False, True]})):
        r = replay(mode, bars(rows, **extra), E, D)
        assert (r.exit.price, r.exit.reason) == (90.0, "stop"), mode


def test_macd_exits_at_the_close_of_a_bearish_crossover() -> None:
    rows = [(100, 101, 99, 100), (100, 104, 99, 103), (103, 104, 98, 99)]
    r = replay("macd", bars(rows, bearish_cross=[True, False, True]), E, D)
    assert (r.exit.bar, r.exit.price, r.exit.reason) == (2, 99.0, "signal")


def test_bad_trades_are_refused() -> None:
    with pytest.raises(ValueError, match="positive risk"):
        replay("risk", bars(RISK_ROWS), 100.0, 0.0)
    with pytest.raises(ValueError, match="unknown stop mode"):
        replay("trailing", bars(RISK_ROWS), E, D)
    with pytest.raises(ValueError):
        replay("risk", bars(RISK_ROWS).iloc[:0], E, D)


def test_entry_bar_is_the_day_or_the_next_bar() -> None:
    index = pd.bdate_range("2026-01-05", periods=5)  # Mon..Fri
    assert entry_bar(index, pd.Timestamp("2026-01-06 15:30")) == 1
    assert entry_bar(index, pd.Timestamp("2026-01-03")) == 0  # a Saturday: Monday's bar
    assert entry_bar(index, pd.Timestamp("2026-02-01")) is None


# -- properties over real indicator maths ------------------------------------------------------
def walk(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0.0005, 0.02, n)))
    opening = close * (1 + rng.normal(0, 0.01, n))
    high = np.maximum(opening, close) * (1 + np.abs(rng.normal(0, 0.01, n)))
    low = np.minimum(opening, close) * (1 - np.abs(rng.normal(0, 0.01, n)))
    return pd.DataFrame({"Open": opening, "High": high, "Low": low, "Close": close},
                        index=pd.bdate_range("2020-01-01", periods=n))


def test_prepare_uses_the_live_indicators() -> None:
    frame = walk(1)
    p = prepare(frame)
    atr = indicators.atr(frame["High"], frame["Low"], frame["Close"], 20)
    assert np.allclose(p["atr"], atr, equal_nan=True)
    assert np.allclose(p["sma"], frame["Close"].rolling(17).mean(), equal_nan=True)
    line, sig, _ = indicators.macd(frame["Close"])
    # each bar's crossover is what the live `crossover` says when that bar is the last one
    for k in (60, 150, 399):
        last = indicators.crossover(line.iloc[: k + 1].to_frame(), sig.iloc[: k + 1].to_frame()).iloc[0]
        assert bool(p["bearish_cross"].iloc[k]) == (last == indicators.BEARISH)
    assert p["bearish_cross"].sum() > 3


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", range(6))
def test_the_ratchet_never_moves_down(mode: str, seed: int) -> None:
    p = prepare(walk(seed))
    trade = p.iloc[100:]
    entry = float(trade["Close"].iloc[0])
    line = stops(mode, trade, entry, entry * 0.07)
    assert np.isnan(line[0])
    assert np.all(np.diff(line[1:]) >= 0)
    floor = entry - 2 * trade["atr"].iloc[0] if mode == "turtle" else entry * 0.93
    assert line[1] >= floor - 1e-9


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", range(6))
def test_no_look_ahead(mode: str, seed: int) -> None:
    frame = walk(seed, 500)
    start = 200
    entry = float(frame["Close"].iloc[start])
    risk = entry * 0.05

    def run(f: pd.DataFrame) -> stop_modes.Replay:
        return replay(mode, prepare(f).iloc[start:], entry, risk)

    base = run(frame)
    # the future after the exit changed (wildly): the exit is the same
    cut = start + base.exit.bar + 1
    shaken = frame.copy()
    shaken.iloc[cut:] = shaken.iloc[cut:].to_numpy() * np.linspace(0.3, 3.0, len(frame) - cut)[:, None]
    if base.exit.reason != "open":
        assert run(shaken).exit == base.exit
    # changing bars from k on never changes the stops of bars up to k (each is made of bars before it)
    for k in (5, 30, 120):
        moved = frame.copy()
        moved.iloc[start + k:] = moved.iloc[start + k:].to_numpy() * 1.7
        assert np.array_equal(run(moved).stops[: k + 1], base.stops[: k + 1], equal_nan=True)


def test_crossovers_match_the_last_bar_helper() -> None:
    a = pd.Series([1.0, 2.0, 0.5, 0.4, 3.0])
    b = pd.Series([1.5, 1.5, 1.5, 1.5, 1.5])
    assert indicators.crossovers(a, b).tolist() == [None, "BULLISH", "BEARISH", None, "BULLISH"]


def test_live_stop_is_the_replays_next_stop() -> None:
    frame = walk(3, 300)
    entry = float(frame["Close"].iloc[250])
    opened = pd.Timestamp(frame.index[250]).tz_localize("UTC") + pd.Timedelta(hours=15)
    for mode in MODES:
        expected = stops(mode, prepare(frame).iloc[250:], entry, 4.0)[-1]
        assert stop_modes.live_stop(mode, frame, opened, entry, 4.0) == pytest.approx(expected)
    assert stop_modes.live_stop("risk", frame, pd.Timestamp("2031-01-01"), entry, 4.0) is None
    # risk mode: the highest close since the opening - D, as the live formula from max_price
    assert stop_modes.live_stop("risk", frame, opened, entry, 4.0) == pytest.approx(
        max(entry, frame["Close"].iloc[250:].max()) - 4.0)


def test_config_knows_the_same_modes() -> None:
    from papishares.config import STOP_MODES

    assert STOP_MODES == MODES
