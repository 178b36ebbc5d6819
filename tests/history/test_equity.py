"""Time-weighted return and drawdown, by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from papishares.history import equity


def days(*values: float) -> pd.Series:
    return pd.Series(values, index=pd.date_range("2026-03-02", periods=len(values), freq="D"))


def test_twr_removes_deposits_and_withdrawals() -> None:
    # 1000 -> 1100 (+10%); deposit 500 then 1650 (= (1650-500)/1100 = +4.545%); withdraw 200, 1400
    # ((1400+200)/1650 = -3.03%). TWR = 1.1 * 1.04545 * 0.9697 - 1 = 11.515%
    values = days(1000, 1100, 1650, 1400)
    flows = equity.daily_flows([
        {"type": "DEPOSIT", "amount": 500.0, "at": pd.Timestamp("2026-03-04 10:00", tz="UTC").timestamp()},
        {"type": "WITHDRAW", "amount": 200.0, "at": pd.Timestamp("2026-03-05 09:00", tz="UTC").timestamp()},
        {"type": "FEE", "amount": -3.0, "at": pd.Timestamp("2026-03-05 09:00", tz="UTC").timestamp()},
    ])
    index = equity.twr_index(values, flows)
    assert index.iloc[0] == 1.0
    assert index.iloc[-1] == pytest.approx(1.1 * (1150 / 1100) * (1600 / 1650))
    assert index.iloc[-1] - 1 == pytest.approx(0.11515, abs=1e-5)
    # the money-weighted naive figure would say +40%: TWR does not count the deposit as return
    assert values.iloc[-1] / values.iloc[0] - 1 == pytest.approx(0.4)


def test_a_flow_on_a_day_without_a_point_counts_on_the_next_point() -> None:
    values = pd.Series([1000.0, 2100.0], index=pd.to_datetime(["2026-03-02", "2026-03-05"]))
    flows = pd.Series([1000.0], index=pd.to_datetime(["2026-03-03"]))
    assert equity.twr_index(values, flows).iloc[-1] == pytest.approx(1.1)


def test_drawdown_against_the_running_peak() -> None:
    index = days(1.0, 1.2, 0.9, 1.3, 1.17)
    dd = equity.drawdown(index)
    assert list(dd.round(4)) == [0.0, 0.0, -0.25, 0.0, -0.1]
    assert equity.max_drawdown(index) == pytest.approx(-0.25)


def test_benchmark_rebased_on_the_curve_days() -> None:
    closes = pd.Series([50.0, 55.0, 60.0], index=pd.to_datetime(["2026-03-02", "2026-03-03", "2026-03-05"]))
    on = pd.date_range("2026-03-02", periods=4, freq="D")
    assert list(equity.rebased(closes, on)) == [1.0, 1.1, 1.1, 1.2]  # the 4th fills forward
