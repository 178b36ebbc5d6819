"""Figures: the risk bullet's colour, and MACD crossovers marked where the lines cross."""

from __future__ import annotations

import numpy as np
import pandas as pd

from papishares.charts import figures
from tests.ui.test_tables import view


def test_risk_bullet_turns_red_above_the_limit() -> None:
    assert figures.risk_bullet(3.0, 7.0).data[0].gauge.bar.color == figures.GREEN
    red = figures.risk_bullet(8.0, 7.0).data[0]
    assert red.gauge.bar.color == figures.RED and red.gauge.threshold.value == 7.0


def test_crossings_found_on_the_crossing_bar() -> None:
    idx = pd.date_range("2026-01-01", periods=6)
    line = pd.Series([np.nan, -1.0, 1.0, 2.0, -0.5, -1.0], index=idx)
    signal = pd.Series([np.nan, 0.0, 0.0, 0.0, 0.0, 0.0], index=idx)
    up, down = figures._crossings(line, signal)
    assert list(up) == [idx[2]] and list(down) == [idx[4]]


def test_price_chart_draws_stop_lines_in_pence() -> None:
    idx = pd.bdate_range("2026-01-01", periods=80)
    close = pd.Series(np.linspace(500, 620, 80) + np.sin(np.arange(80)) * 8, index=idx)
    bars = pd.DataFrame({"Open": close, "High": close + 5, "Low": close - 5, "Close": close, "Volume": 1000.0})
    fig = figures.price_chart(bars, view(manual_stop_loss_price=550.0, manual_stop_loss_quantity=10))
    texts = [a.text for a in fig.layout.annotations]
    assert "calculated stop 560.00p" in texts and "manual stop 550.00p" in texts and "max 610.00p" in texts
    names = [t.name for t in fig.data]
    assert names.count("Crossed up") == 1 and len(fig.data[names.index("Crossed up")].x) >= 1
