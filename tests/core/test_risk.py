"""Risk arithmetic with the expected numbers worked out by hand (see the comments)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from papishares.core import risk
from papishares.core.models import Order

NAN = float("nan")


# -- fx -----------------------------------------------------------------------------------------
def test_fx_from_wallet_impact_usd_gbx_gbp() -> None:
    # USD in a GBP account: 50 AAPL at $155.80 = $7,790 worth £6,154.10 -> 6154.1 / 7790 = 0.79
    assert risk.fx_rate(6154.10, 50, 155.80) == pytest.approx(0.79, rel=1e-12)
    # GBX: 1000 RR.L at 612.4p = 612,400p worth £6,124 -> 0.01 £ per penny
    assert risk.fx_rate(6124.0, 1000, 612.4) == pytest.approx(0.01, rel=1e-12)
    # GBP in a GBP account: 10 at £22 worth £220 -> 1
    assert risk.fx_rate(220.0, 10, 22.0) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize(
    "args", [(100.0, 0, 10.0), (100.0, 5, 0.0), (None, 5, 10.0), (100.0, NAN, 10.0), (0.0, 5, 10.0), (100.0, -5, 10.0)]
)
def test_fx_is_none_on_zero_or_invalid_inputs(args: tuple) -> None:
    assert risk.fx_rate(*args) is None


# -- trailing stop ------------------------------------------------------------------------------
def test_usd_stop_with_fx_from_wallet_impact() -> None:
    # account £15,000, 0.7% -> budget £105
    budget = risk.risk_budget(15000.0, 0.7)
    assert budget == pytest.approx(105.0)
    # basis = max(150.25, 158.0) = 158.0; 105 / 0.79 / 50 = 2.658227848101266 dollars a share
    # stop = 158.0 - 2.658227848101266 = 155.34177215189874
    stop = risk.trailing_stop(150.25, 158.0, budget, 0.79, 50)
    assert stop == pytest.approx(155.34177215189874, rel=1e-12)
    # stop % = 2.658227848101266 / 158 * 100 = 1.682422688671687
    assert risk.stop_percentage(158.0, stop) == pytest.approx(1.682422688671687, rel=1e-9)


def test_gbx_stop_stays_in_pence() -> None:
    # budget £105; fx 0.01 £/p; 1000 shares -> 105 / 0.01 / 1000 = 10.5p a share
    # basis = max(400, 620) = 620p -> stop 609.5p; 10.5 / 620 * 100 = 1.6935483870967742 %
    stop = risk.trailing_stop(400.0, 620.0, 105.0, 0.01, 1000)
    assert stop == pytest.approx(609.5, rel=1e-12)
    assert risk.stop_percentage(620.0, stop) == pytest.approx(1.6935483870967742, rel=1e-12)


def test_gbp_stop_and_basis_never_below_average() -> None:
    # 10 shares, fx 1, budget 105 -> 10.5 a share; basis max(20, 25) = 25 -> 14.5
    assert risk.trailing_stop(20.0, 25.0, 105.0, 1.0, 10) == pytest.approx(14.5)
    # max price below the average (should not happen, but): basis is the average 30 -> 19.5
    assert risk.trailing_stop(30.0, 25.0, 105.0, 1.0, 10) == pytest.approx(19.5)
    # no max price recorded yet: basis is the average
    assert risk.trailing_stop(30.0, None, 105.0, 1.0, 10) == pytest.approx(19.5)


def test_null_stop_when_the_position_is_smaller_than_the_budget_with_a_note() -> None:
    # account £150,000 at 0.7% -> budget £1,050; 10 shares at £85 = £850 -> 85 - 1050/1/10 = -20 -> None
    budget = risk.risk_budget(150000.0, 0.7)
    assert budget == pytest.approx(1050.0)
    assert risk.trailing_stop(80.0, 85.0, budget, 1.0, 10) is None
    assert risk.stop_note(850.0, budget, 0.7, "GBP") == (
        "The position (£850) is smaller than the risk budget (£1,050): "
        "no stop is needed to stay within 0.7% of the account."
    )
    assert risk.stop_percentage(85.0, None) is None
    # exactly zero is not a stop either: 10.5 - 105/1/10 = 0
    assert risk.trailing_stop(10.5, 10.5, 105.0, 1.0, 10) is None


def test_stop_note_other_currencies_and_unknown_value() -> None:
    assert risk.stop_note(85.2, 1050.0, 1.5, "USD").startswith("The position ($85.20) is smaller than the risk budget ($1,050)")
    assert "1,050 CHF" in risk.stop_note(850.0, 1050.0, 0.7, "CHF")
    assert "unknown" in risk.stop_note(None, 1050.0, 0.7, "GBP")
    # account currency not given: plain amounts
    assert risk.stop_note(850.0, 1050.0, 0.7).startswith("The position (850) is smaller than the risk budget (1,050)")


@pytest.mark.parametrize(
    "args",
    [
        (150.0, 158.0, 105.0, None, 50),  # no fx
        (150.0, 158.0, 105.0, 0.79, 0),  # no quantity
        (None, None, 105.0, 0.79, 50),  # no price at all
        (150.0, 158.0, None, 0.79, 50),  # no budget
        (150.0, NAN, -1.0, 0.79, 50),  # negative budget
    ],
)
def test_stop_is_none_on_invalid_inputs(args: tuple) -> None:
    assert risk.trailing_stop(*args) is None


# -- ratchet ------------------------------------------------------------------------------------
def test_ratchet_mirrors_the_store() -> None:
    assert risk.ratchet(155.0, 154.0, 50, 50) == 155.0  # never down while the quantity is unchanged
    assert risk.ratchet(155.0, 156.0, 50, 50) == 156.0  # up is fine
    assert risk.ratchet(155.0, None, 50, 50) == 155.0  # a missing new stop keeps the stored one
    assert risk.ratchet(155.0, 154.0, 50, 60) == 154.0  # quantity changed: start afresh
    assert risk.ratchet(155.0, None, 50, 60) is None
    assert risk.ratchet(None, 154.0, 50, 50) == 154.0  # nothing stored
    assert risk.ratchet(None, None, None, 50) is None
    assert risk.ratchet(155.0, 154.0, None, 50) == 154.0  # stored without a quantity: not the same position


# -- manual stops -------------------------------------------------------------------------------
def test_manual_stops_from_pending_sell_stop_orders_only() -> None:
    orders = [
        Order(1, "AAPL_US_EQ", "STOP", "NEW", -5, stop_price=150.0),
        Order(2, "AAPL_US_EQ", "STOP_LIMIT", "WORKING", -3, side="SELL", stop_price=152.0, limit_price=151.0),
        Order(3, "AAPL_US_EQ", "STOP", "FILLED", -4, stop_price=160.0),  # ended
        Order(4, "AAPL_US_EQ", "STOP", "CANCELLED", -4, stop_price=161.0),  # ended
        Order(5, "AAPL_US_EQ", "STOP", "NEW", 2, stop_price=170.0),  # a buy stop
        Order(6, "AAPL_US_EQ", "LIMIT", "NEW", -1, limit_price=165.0),  # a sell limit is not a stop
        Order(7, "AAPL_US_EQ", "STOP", "NEW", -9, stop_price=None),  # no stop price: ignored
        Order(8, "RR_L_EQ", "stop", "NEW", -10, stop_price=580.0),
    ]
    # AAPL: highest of 150 and 152 = 152; quantity |-5| + |-3| = 8
    assert risk.manual_stops(orders) == {"AAPL_US_EQ": (152.0, 8.0), "RR_L_EQ": (580.0, 10.0)}
    assert risk.manual_stops([]) == {}


def test_effective_stop_prefers_the_manual_one() -> None:
    assert risk.effective_stop(95.0, 90.0) == 95.0
    assert risk.effective_stop(85.0, 90.0) == 85.0  # manual even when lower
    assert risk.effective_stop(None, 90.0) == 90.0
    assert risk.effective_stop(None, None) is None


# -- portfolio risk -----------------------------------------------------------------------------
def test_total_risk_manual_preferred_and_no_stop_counts_whole_value() -> None:
    # A: avg 100, 10 shares, fx 1, calculated 90 but manual 95 -> (100 - 95) * 10 * 1 = 50
    a = risk.position_risk(100.0, risk.effective_stop(95.0, 90.0), 10, 1.0)
    # B: avg 200p, 100 shares, fx 0.01, no stop at all -> 200 * 100 * 0.01 = 200 (the whole value)
    b = risk.position_risk(200.0, risk.effective_stop(None, None), 100, 0.01)
    # C: stop 60 above the average 50 -> max(0, 50 - 60) = 0
    c = risk.position_risk(50.0, 60.0, 4, 0.8)
    assert (a, b, c) == (pytest.approx(50.0), pytest.approx(200.0), 0.0)
    # (50 + 200 + 0) / 10,000 * 100 = 2.5 %
    assert risk.total_risk_pct([a, b, c], 10000.0) == pytest.approx(2.5)
    assert risk.total_risk_pct([a, b], 0.0) == 0.0
    assert risk.total_risk_pct([], 10000.0) == 0.0


def test_open_risk_and_distance_from_the_current_price() -> None:
    # current 110, stop 95, 10 shares, fx 1 -> (110 - 95) * 10 = 150; distance 15 / 110 = 13.636...%
    assert risk.open_risk(110.0, 95.0, 10, 1.0) == pytest.approx(150.0)
    assert risk.distance_to_stop_pct(110.0, 95.0) == pytest.approx(13.636363636363637)
    assert risk.open_risk(90.0, 95.0, 10, 1.0) == 0.0
    assert risk.position_risk(100.0, None, 10, None) == 0.0  # no fx: cannot convert


# -- position sizing ----------------------------------------------------------------------------
def test_position_size_whole_shares_gbx() -> None:
    # budget 0.7% of £15,000 = £105; (612.4 - 584.0)p * 0.01 = £0.284 a share -> 369.7 -> 369
    assert risk.position_size(15000.0, 0.7, 612.4, 584.0, 0.01) == 369
    # 369 * 0.284 = 104.796 <= 105, 370 * 0.284 = 105.08 > 105


def test_position_size_fractional_usd() -> None:
    # budget 1% of £10,000 = £100; (151 - 140) * 0.8 = £8.80 a share -> 11.3636...
    assert risk.position_size(10000.0, 1.0, 151.0, 140.0, 0.8) == 11
    assert risk.position_size(10000.0, 1.0, 151.0, 140.0, 0.8, fractional=True, precision=2) == pytest.approx(11.36)
    assert risk.position_size(10000.0, 1.0, 151.0, 140.0, 0.8, fractional=True, precision=3) == pytest.approx(11.363)


def test_position_size_stop_below_zero_risks_the_whole_entry_price() -> None:
    # stop -5 cannot lose more than the entry 10: 10 a share at fx 1; budget 100 -> 10 shares (not 100/15 -> 6)
    assert risk.position_size(10000.0, 1.0, 10.0, -5.0, 1.0) == 10


def test_position_size_exact_fit_is_not_lost_to_float_noise() -> None:
    # budget 1% of 10,000 = 100; 3.0 - 2.9 = 0.1 (0.10000000000000009 in floats) -> exactly 1000 shares
    assert risk.position_size(10000.0, 1.0, 3.0, 2.9, 1.0) == 1000


@pytest.mark.parametrize(
    "args", [(10000.0, 1.0, 100.0, 100.0, 1.0), (10000.0, 1.0, 100.0, 110.0, 1.0), (10000.0, 1.0, 100.0, 90.0, None)]
)
def test_position_size_zero_when_nothing_fits(args: tuple) -> None:
    assert risk.position_size(*args) == 0


# -- the vectorised form agrees with the scalar functions ---------------------------------------
ROWS = [
    # avg, max, qty, price, wallet, stored_stop, stored_qty, manual, manual_qty
    (150.25, 158.0, 50, 155.8, 6154.10, NAN, NAN, NAN, 0),  # USD, fresh
    (400.0, 620.0, 1000, 612.4, 6124.0, 611.0, 1000, NAN, 0),  # GBX, stored stop higher: kept
    (400.0, 620.0, 1000, 612.4, 6124.0, 611.0, 900, NAN, 0),  # quantity changed: new stop
    (20.0, 25.0, 10, 22.0, 220.0, 14.0, 10, 21.0, 10),  # GBP with a manual stop above
    (80.0, 85.0, 10, 85.0, 850.0, NAN, NAN, NAN, 0),  # smaller than budget: no stop
    (80.0, 85.0, 10, 85.0, 850.0, 50.0, 10, NAN, 0),  # no new stop, stored one kept
    (100.0, 100.0, 10, 0.0, 0.0, NAN, NAN, NAN, 0),  # no price: no fx
    (100.0, NAN, 0, 90.0, 0.0, NAN, NAN, NAN, 0),  # no quantity
    (30.0, 29.0, 5, 29.0, 145.0, 40.0, 5, NAN, 0),  # price below stop: breached
]


def _opt(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def _same(a: float | None, b: float) -> bool:
    return (a is None and math.isnan(b)) or (a is not None and a == pytest.approx(b, rel=1e-12, abs=1e-12))


@pytest.mark.parametrize(("total_value", "risk_pct"), [(15000.0, 0.7), (150000.0, 0.7), (1000.0, 2.0)])
def test_compute_stops_agrees_with_the_scalar_functions(total_value: float, risk_pct: float) -> None:
    frame = pd.DataFrame(ROWS, columns=risk.STOP_INPUTS)
    out = risk.compute_stops(frame, total_value, risk_pct)
    budget = risk.risk_budget(total_value, risk_pct)
    for i, (avg, top, qty, price, wallet, stored, stored_qty, manual, _mq) in enumerate(ROWS):
        row = out.iloc[i]
        fx = risk.fx_rate(wallet, qty, price)
        new = risk.trailing_stop(avg, top, budget, fx, qty)
        stop = risk.ratchet(_opt(stored), new, _opt(stored_qty), qty)
        basis = risk.stop_basis(avg, top)
        eff = risk.effective_stop(_opt(manual), stop)
        assert _same(fx, row["fx"]), (i, "fx")
        assert _same(new, row["calculated_stop"]), (i, "calculated_stop")
        assert _same(stop, row["stop"]), (i, "stop")
        assert _same(risk.stop_percentage(basis, stop), row["stop_pct"]), (i, "stop_pct")
        assert _same(eff, row["effective_stop"]), (i, "effective_stop")
        assert _same(risk.position_risk(avg, eff, qty, fx), row["risk"]), (i, "risk")
        assert _same(risk.open_risk(price, eff, qty, fx), row["open_risk"]), (i, "open_risk")
        assert _same(risk.distance_to_stop_pct(price, eff), row["distance_to_stop_pct"]), (i, "distance")
        assert bool(row["breached"]) == (eff is not None and price > 0 and price <= eff), (i, "breached")


def test_compute_stops_hand_numbers() -> None:
    out = risk.compute_stops(pd.DataFrame(ROWS, columns=risk.STOP_INPUTS), 15000.0, 0.7)
    # row 0: see test_usd_stop_with_fx_from_wallet_impact -> 155.34177215189874
    assert out.loc[0, "stop"] == pytest.approx(155.34177215189874, rel=1e-12)
    # row 1: new 609.5 but stored 611 for the same 1000 shares -> 611 stays
    assert (out.loc[1, "calculated_stop"], out.loc[1, "stop"]) == (pytest.approx(609.5), 611.0)
    # row 2: the quantity moved from 900 to 1000 -> 609.5
    assert out.loc[2, "stop"] == pytest.approx(609.5)
    # row 3: calculated 25 - 105/1/10 = 14.5 (stored 14 lower); manual 21 wins -> risk (20 - 21) -> 0
    assert (out.loc[3, "stop"], out.loc[3, "effective_stop"], out.loc[3, "risk"]) == (pytest.approx(14.5), 21.0, 0.0)
    # row 4: 85 - 10.5 = 74.5 with a £105 budget (not null at this account size)
    assert out.loc[4, "stop"] == pytest.approx(74.5)
    # row 6: no price -> no fx, no stop, risk 0 (nothing to convert)
    assert math.isnan(out.loc[6, "fx"]) and math.isnan(out.loc[6, "stop"]) and out.loc[6, "risk"] == 0.0
    # row 8: stored 40 for the same 5 shares; price 29 <= 40 -> breached; risk (30 - 40) -> 0
    assert bool(out.loc[8, "breached"]) and bool(out.loc[8, "calculated_breached"])
    assert not out.loc[:7, "breached"].to_numpy(dtype=bool).any()
    # total: only rows without any stop count their whole value here: none at this budget
    assert np.isfinite(out["risk"]).all()


def test_compute_stops_total_risk_with_null_stops() -> None:
    # £150,000 at 0.7% = £1,050 budget: the £850 positions (rows 4, 5) get no new stop
    out = risk.compute_stops(pd.DataFrame(ROWS, columns=risk.STOP_INPUTS), 150000.0, 0.7)
    assert math.isnan(out.loc[4, "stop"])
    assert out.loc[4, "risk"] == pytest.approx(800.0)  # no stop: whole value at average 80 * 10 * 1
    assert out.loc[5, "stop"] == 50.0  # stored 50 kept for the same quantity
    assert out.loc[5, "risk"] == pytest.approx(300.0)  # (80 - 50) * 10
