"""Positions page: the table, its formats and markers, the CSV, and a row opening its chart."""

from __future__ import annotations

import io

import pandas as pd

from papishares.demo import simulation
from papishares.ui import data, tables
from tests.fakes.t212_server import FakeTrading212
from tests.ui.conftest import open_page


def test_lists_the_demo_positions_with_markers() -> None:
    at = open_page("pages/1_Positions.py")
    assert not at.exception
    table = at.dataframe[0].value
    assert sorted(table["Ticker"]) == sorted(i.short_name for i in simulation.held())
    rr = table.set_index("Ticker").loc["RR"]
    assert rr["Price"].endswith("p") and rr["Currency"] == "GBX (pence)"
    assert table.set_index("Ticker").loc["AAPL", "Price"].startswith("$")
    assert set(table["MACD"].str.split(" ").str[1].str.rstrip(",")) <= {"Bullish", "Bearish", "Neutral"}
    assert set(table["vs SMA 17"]) <= {"▲ above", "▼ below", "= at"}
    assert table["To stop %"].notna().any()


def test_pence_prices_and_manual_stop_coverage_from_trading212(t212_env: FakeTrading212) -> None:
    at = open_page("pages/1_Positions.py")
    assert not at.exception
    table = at.dataframe[0].value.set_index("Ticker")
    assert table.loc["RR", "Price"] == "612.40p" and table.loc["RR", "Avg price"] == "420.00p"
    assert table.loc["VUSA", "Price"] == "£92.10"
    assert table.loc["SAP", "Price"] == "€185.00"
    # The fake's manual stop: SELL STOP 5 @ 160 for AAPL (15 held).
    assert table.loc["AAPL", "Manual stop"] == "$160.00"
    assert round(table.loc["AAPL", "Manual covers %"]) == 33
    assert pd.isna(table.loc["MSFT", "Manual covers %"])


def test_csv_download_has_every_snapshot_field() -> None:
    at = open_page("pages/1_Positions.py")
    button = at.get("download_button")[0]
    assert button.proto.label == "Download CSV" and button.proto.url.endswith(".csv")
    snapshot = data.load_snapshot(data.current_settings()).snapshot  # the cached one the page used
    assert snapshot is not None
    csv = pd.read_csv(io.BytesIO(tables.positions_csv(snapshot)))
    assert {"ticker", "stop_loss_price", "manual_stop_loss_price", "macd_signal", "sma_17"} <= set(csv.columns)
    assert sorted(csv["ticker"]) == sorted(i.ticker for i in simulation.held())


def test_choosing_a_row_opens_its_chart() -> None:
    at = open_page("pages/1_Positions.py")
    table = at.dataframe[0].value
    row = table["Ticker"].tolist().index("RR")
    at.session_state["positions_table"] = {"selection": {"rows": [row], "columns": []}}
    at.run()
    assert not at.exception
    assert "Charts" in at.title[0].value
    assert at.selectbox[0].value == "RRl_EQ"
    assert at.get("plotly_chart")
    at.switch_page("pages/1_Positions.py").run()  # coming back does not bounce to the chart again
    assert "Positions" in at.title[0].value and not at.exception
