"""Sizing: shares whose 2N initial stop risks RISK_PERCENTAGE of the account, in account currency."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import talib
from backtesting.test import GOOG

from papishares.core.models import Bars
from papishares.entries.scanner import scan
from papishares.entries.sizing import size_frame, size_one


def test_gbx_in_pence_into_a_gbp_account() -> None:
    # 600p share, N = 10p: 2N = 20p = £0.20 at risk per share; 1% of £10,000 = £100 -> 500 shares
    s = size_one(600.0, 10.0, 0.01, 10_000.0, 1.0)
    assert s.shares == 500
    assert s.initial_stop == 580.0
    assert s.cost == 300_000.0  # pence, the quote currency
    assert s.cost_account == pytest.approx(3_000.0)
    assert s.risk_amount == pytest.approx(100.0)


def test_usd_into_a_gbp_account_rounds_whole_shares_down() -> None:
    # budget 0.7% of £15,000 = £105; per share 2 * 2.5 * 0.79 = £3.95 -> 26.58 -> 26 shares
    s = size_one(150.0, 2.5, 0.79, 15_000.0, 0.7)
    assert s.shares == 26
    assert s.risk_amount == pytest.approx(26 * 3.95)
    assert s.risk_amount <= 105.0
    assert s.cost == 26 * 150.0


def test_fractional_when_asked() -> None:
    s = size_one(150.0, 2.5, 0.79, 15_000.0, 0.7, fractional=True)
    assert s.shares == pytest.approx(26.58)
    assert s.risk_amount <= 105.0 + 1e-9


def test_unknown_fx_or_account_leaves_the_money_unknown_but_keeps_the_stop() -> None:
    for s in (size_one(150.0, 2.5, None, 15_000.0, 0.7), size_one(150.0, 2.5, 0.79, None, 0.7)):
        assert s.shares is None and s.initial_stop == 145.0 and s.risk_amount is None
    assert size_one(float("nan"), 2.5, 1.0, 1000.0, 1.0).initial_stop is None


def test_a_share_too_risky_for_the_budget_gets_zero_shares() -> None:
    s = size_one(5_000.0, 400.0, 1.0, 10_000.0, 0.5)  # £800 per share at risk vs a £50 budget
    assert s.shares == 0 and s.risk_amount == 0 and s.cost == 0


def test_frame_flags_candidates_that_would_push_total_risk_over_the_threshold() -> None:
    scanned = pd.DataFrame({"close": [600.0, 150.0, 10.0], "atr": [10.0, 2.5, float("nan")]},
                           index=["RR.L", "AAPL", "NONE"])
    fx = pd.Series({"RR.L": 0.01, "AAPL": 0.79, "NONE": 1.0})
    out = size_frame(scanned, fx, 10_000.0, 1.0, total_risk_pct=6.5, threshold_pct=7.0)
    assert out.loc["RR.L", "shares"] == 500
    assert out.loc["RR.L", "risk_pct"] == pytest.approx(1.0)
    assert out.loc["RR.L", "total_risk_after_pct"] == pytest.approx(7.5)
    assert out.loc["RR.L", "over_total_risk"] is True
    assert out.loc["AAPL", "over_total_risk"] is True  # 6.5 + 0.9954 > 7
    assert out.loc["NONE", "over_total_risk"] is None
    low = size_frame(scanned, fx, 10_000.0, 1.0, total_risk_pct=1.0, threshold_pct=7.0)
    assert low.loc["RR.L", "over_total_risk"] is False
    unknown = size_frame(scanned, fx, 10_000.0, 1.0, total_risk_pct=None, threshold_pct=7.0)
    assert unknown["over_total_risk"].isna().all()


def test_sizing_goog_matches_an_independent_computation() -> None:
    goog = GOOG.astype(float)
    row = scan(Bars.from_frames({"GOOG": goog}, "test")).loc["GOOG"]
    atr = talib.ATR(goog["High"].to_numpy(), goog["Low"].to_numpy(), goog["Close"].to_numpy(), 20)[-1]
    close = goog["Close"].iloc[-1]
    fx, value, pct = 0.64, 25_000.0, 0.7
    want = math.floor(pct / 100 * value / (2 * atr * fx))
    out = size_frame(scan(Bars.from_frames({"GOOG": goog}, "test")), pd.Series({"GOOG": fx}), value, pct,
                     2.0, 7.0)
    assert out.loc["GOOG", "shares"] == want
    assert out.loc["GOOG", "initial_stop"] == pytest.approx(close - 2 * atr)
    assert out.loc["GOOG", "cost"] == pytest.approx(want * close)
    assert out.loc["GOOG", "risk_amount"] == pytest.approx(want * 2 * atr * fx)
    assert row["atr"] == pytest.approx(atr)
