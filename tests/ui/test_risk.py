"""Risk page: per-position risk, total against the limit, loss if every stop is hit, concentration."""

from __future__ import annotations

import json

from papishares.ui import data
from tests.fakes.t212_server import FakeTrading212
from tests.ui.conftest import messages, open_page


def test_risk_page_on_trading212(t212_env: FakeTrading212) -> None:
    t212_env.add_position("BPl_EQ", 1, 450.0, 450.0)  # £4.50: smaller than the risk budget, so no stop
    at = open_page("pages/2_Risk.py")
    assert not at.exception
    snap = data.load_snapshot(data.current_settings()).snapshot
    assert snap is not None
    metrics = {m.label: m for m in at.metric}
    assert metrics["Total risk"].value == f"{snap.total_risk_pct:.2f}%"
    assert metrics["Limit (TOTAL_RISK_PERCENTAGE)"].value == "7%"
    loss = sum(p.open_risk for p in snap.positions)
    assert metrics["Loss if every stop is hit"].value == f"£{loss:,.2f}"
    assert any("Without any stop" in m and "BP" in m for m in messages(at, "error"))
    table = at.dataframe[0].value
    assert table.set_index("Ticker").loc["BP", "No stop"]
    assert table["Risk"].is_monotonic_decreasing
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [c["layout"].get("title", {}).get("text", "") for c in charts]
    assert "Concentration by instrument" in titles and "Concentration by currency" in titles
    by_ccy = next(c for c in charts if c["layout"].get("title", {}).get("text") == "Concentration by currency")
    assert set(by_ccy["data"][0]["y"]) == {"USD", "GBP", "EUR"}  # GBX counts as GBP exposure


def test_total_risk_above_the_limit_is_red(t212_env: FakeTrading212, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TOTAL_RISK_PERCENTAGE", "0.5")
    at = open_page("Home.py")
    assert not at.exception
    assert any("above the 0.5% limit" in m for m in messages(at, "error"))
    bullet = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert bullet["data"][0]["gauge"]["bar"]["color"] == "#d62728"
