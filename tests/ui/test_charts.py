"""Charts page: candlesticks with SMA 17, average/max/stop lines, the MACD panel and a range selector."""

from __future__ import annotations

import json

from tests.fakes.t212_server import FakeTrading212
from tests.ui.conftest import HOME, AppTest, messages, open_page


def chart_spec(at: AppTest) -> dict:
    (chart,) = at.get("plotly_chart")
    return json.loads(chart.proto.spec)


def test_chart_of_a_demo_position() -> None:
    at = open_page("pages/3_Charts.py")
    assert not at.exception
    spec = chart_spec(at)
    names = {t.get("name") for t in spec["data"]}
    assert {"SMA 17", "Volume", "MACD", "Signal", "Histogram", "Crossed up", "Crossed down"} <= names
    assert any(t["type"] == "candlestick" for t in spec["data"])
    notes = " ".join(a["text"] for a in spec["layout"]["annotations"])
    assert "average" in notes and "max" in notes and "calculated stop" in notes
    assert spec["layout"]["xaxis"]["rangeselector"]["buttons"]


def test_query_parameter_picks_the_position_and_manual_stop_is_drawn() -> None:
    at = AppTest.from_file(HOME, default_timeout=60)
    at.run()
    at.switch_page("pages/3_Charts.py")
    at.query_params["ticker"] = "MSFT_US_EQ"  # the demo account holds a manual stop for MSFT
    at.run()
    assert not at.exception
    assert at.selectbox[0].value == "MSFT_US_EQ"
    notes = " ".join(a["text"] for a in chart_spec(at)["layout"]["annotations"])
    assert "manual stop" in notes
    at.selectbox[0].select("RRl_EQ").run()
    assert at.query_params["ticker"] == "RRl_EQ"
    assert "pence" in chart_spec(at)["layout"]["yaxis"]["title"]["text"]


def test_no_market_data_is_a_warning_not_an_error(t212_env: FakeTrading212) -> None:
    at = open_page("pages/3_Charts.py")
    assert not at.exception
    assert any("No price history" in m for m in messages(at, "warning"))
    assert not at.get("plotly_chart")
