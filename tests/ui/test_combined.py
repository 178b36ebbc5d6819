"""'All accounts' arithmetic: totals in the first account's currency, risk by amounts, the joint equity curve."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from papishares.core.models import Account, Snapshot
from papishares.history import equity
from papishares.ui.combined import accounts_frame, combine, combined_daily, rate


def snap(currency: str, value: float, cash: float, pnl: float | None, risk_pct: float, stale: bool = False) -> Snapshot:
    return Snapshot(datetime(2026, 12, 1, tzinfo=UTC), "demo-sim", Account(currency, value, cash, unrealised_pnl=pnl),
                    (), (), risk_pct, 7.0, stale=stale)


def test_totals_add_and_risk_is_weighted_by_value() -> None:
    c = combine([("invest", snap("GBP", 9000, 1000, 300, 1.0), None),
                 ("isa", snap("GBP", 1000, 200, -50, 9.0), None)], 7.0)
    assert (c.currency, c.total_value, c.cash, c.unrealised_pnl) == ("GBP", 10000, 1200, 250)
    assert c.total_risk_pct == pytest.approx(1.8)  # (90 + 90) / 10000: not the mean 5%
    assert c.risk_amount == pytest.approx(180)
    assert c.threshold_pct == 7.0 and c.missing == () and not c.stale
    assert list(accounts_frame(c)["Account"]) == ["invest", "isa"]


def test_an_account_without_data_is_named_not_counted_as_zero_risk() -> None:
    c = combine([("invest", None, "The broker cannot be reached"), ("isa", snap("GBP", 1000, 10, None, 2.0), None)], 7.0)
    assert c.missing == ("invest",) and c.currency == "GBP" and c.total_value == 1000
    assert c.unrealised_pnl == 0.0 and c.total_risk_pct == pytest.approx(2.0)


def test_another_currency_needs_a_rate() -> None:
    lines = [("invest", snap("GBP", 1000, 0, 0, 1.0), None), ("isa", snap("EUR", 1000, 0, 0, 3.0), None)]
    without = combine(lines, 7.0)
    assert without.missing == ("isa",) and without.total_value == 1000
    with_rate = combine(lines, 7.0, {"EUR": 0.85})
    assert with_rate.total_value == pytest.approx(1850)
    assert with_rate.total_risk_pct == pytest.approx((10 + 25.5) / 1850 * 100, abs=1e-4)  # rounded as the CLI rounds
    assert rate("GBP", "GBP", {}) == 1.0 and rate("EUR", "GBP", {"EUR": 0}) is None


def test_stale_and_empty() -> None:
    assert combine([("a", snap("GBP", 100, 1, 1, 1.0, stale=True), None)], 7.0).stale
    assert combine([("a", snap("GBP", 100, 1, 1, 1.0), "old")], 7.0).stale
    empty = combine([("a", None, None)], 7.0)
    assert empty.total_value == 0 and empty.total_risk_pct == 0.0 and empty.missing == ("a",)


def daily(days: list[str], values: list[float], risk: list[float]) -> pd.DataFrame:
    f = pd.DataFrame({"date": days, "total_value": values, "cash": [v / 10 for v in values], "invested": values,
                      "total_risk_pct": risk, "threshold_pct": 7.0, "currency": "GBP"})
    f.index = pd.to_datetime(f["date"])
    return f


def test_equity_curve_sums_carries_and_treats_a_late_account_as_a_flow() -> None:
    a = daily(["2026-11-01", "2026-11-02", "2026-11-03"], [1000, 1100, 1210], [2.0, 2.0, 2.0])
    b = daily(["2026-11-02", "2026-11-04"], [500, 550], [4.0, 4.0])
    out = combined_daily([a, b], [pd.Series(dtype=float), pd.Series(dtype=float)])
    assert list(out["total_value"]) == [1000, 1600, 1710, 1760]  # b's 500 carried to the 3rd, a's 1210 to the 4th
    assert out["total_risk_pct"].iloc[1] == pytest.approx((22 + 20) / 1600 * 100)
    assert out["flow"].iloc[1] == 500  # b joining is not a gain
    expected = equity.twr_index(out["total_value"], out["flow"])
    assert list(out["twr"]) == pytest.approx(list(expected))
    assert out["twr"].iloc[1] == pytest.approx(1.1)  # a's 10%, b's arrival excluded
    assert (out["drawdown"] <= 0).all()


def test_equity_curve_adds_deposits_and_handles_no_history() -> None:
    a = daily(["2026-11-01", "2026-11-02"], [1000, 2000], [1.0, 1.0])
    b = daily(["2026-11-01", "2026-11-02"], [1000, 1000], [1.0, 1.0])
    deposit = pd.Series({pd.Timestamp("2026-11-02"): 1000.0})
    out = combined_daily([a, b], [deposit, pd.Series(dtype=float)])
    assert out["twr"].iloc[-1] == pytest.approx(1.0)  # the rise was a deposit
    empty = combined_daily([daily([], [], []), daily([], [], [])], [])
    assert empty.empty and {"twr", "drawdown", "flow"} <= set(empty.columns)
