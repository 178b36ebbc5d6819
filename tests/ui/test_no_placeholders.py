"""No raw placeholders (issue 9, point 10): no table on any page shows `None` or `nan`, on the demo
broker and on the Trading 212 emulator sending nulls; amounts people compare carry both currencies;
the Settings page lists the positions without market data and why."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from tests.fakes.t212_server import FakeTrading212
from tests.ui.conftest import PAGES, open_page

ALL_PAGES = [*PAGES, "pages/7_Entries.py"]
RAW = {"None", "nan", "NaN", "NaT", "<NA>", "null"}  # as Python/pandas print missing values ("none" is a setting)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def raw_placeholders(at: Any) -> list[str]:
    """Every cell a person would read as 'None' / 'nan', in every table the page sent."""
    found = []
    for table in at.dataframe:
        frame = table.value
        covered = table.proto.HasField("placeholder") if hasattr(table.proto, "HasField") else bool(
            table.proto.placeholder)
        for col in frame.columns:
            for value in frame[col]:
                if isinstance(value, str) and value.strip() in RAW:
                    found.append(f"{col}={value!r}")
                elif _missing(value) and not covered:
                    found.append(f"{col}={value!r} without a placeholder")
    for table in at.table:
        frame = table.value
        for col in frame.columns:
            for value in frame[col]:
                if _missing(value) or (isinstance(value, str) and value.strip() in RAW):
                    found.append(f"st.table {col}={value!r}")
    return found


def nulls_everywhere(server: FakeTrading212) -> None:
    """Real-shaped answers with the nulls real accounts send, for every request of a test."""
    body = [server.position_json(p) for p in server.positions.values()]
    for row in body:
        if row["instrument"]["ticker"] == "TSLA_US_EQ":
            row["currentPrice"] = None
        if row["instrument"]["ticker"] == "RRl_EQ":
            row["walletImpact"] = None
        if row["instrument"]["ticker"] == "SAPd_EQ":
            row["currentPrice"] = row["currentPrice"] / 100  # ~100x off its average: units in doubt
    server.inject("GET", "/equity/positions", "json", body=body, times=1000)
    orders = [*server.orders.values(), {"id": None, "ticker": "MSFT_US_EQ", "type": "STOP", "quantity": -1}]
    for order in orders:
        if order.get("limitPrice") is None:
            order["limitPrice"] = None
    server.inject("GET", "/equity/orders", "json", body=orders, times=1000)
    server.instruments["LLOYl_EQ"]["shortName"] = None  # no symbol can be built for it
    server.deviations.add("nulls")  # a marked real-world deviation for the spec referee
    server.instruments["VUSAl_EQ"]["workingScheduleId"] = 999  # no exchange owns its schedule


@pytest.mark.parametrize("page", ALL_PAGES)
def test_no_table_shows_none_or_nan_on_the_demo(page: str) -> None:
    at = open_page(page)
    assert not at.exception
    assert raw_placeholders(at) == []


@pytest.mark.parametrize("page", ALL_PAGES)
def test_no_table_shows_none_or_nan_on_trading212_with_nulls(page: str, t212_env: FakeTrading212) -> None:
    nulls_everywhere(t212_env)
    at = open_page(page)
    assert not at.exception
    assert raw_placeholders(at) == []


def test_positions_in_doubt_are_shown_with_why(t212_env: FakeTrading212) -> None:
    nulls_everywhere(t212_env)
    at = open_page("pages/1_Positions.py")
    frame = at.dataframe[0].value
    assert len(frame) == 8
    data = dict(zip(frame["T212 ticker"], frame["Data"], strict=True))
    assert "currentPrice is null" in data["TSLA_US_EQ"] and "walletImpact is null" in data["RRl_EQ"]
    assert "pence/pounds" in data["SAPd_EQ"] and "pending order" in data["MSFT_US_EQ"]
    assert data["AAPL_US_EQ"] == ""
    stops = dict(zip(frame["T212 ticker"], frame["Stop"], strict=True))
    assert stops["TSLA_US_EQ"] == stops["SAPd_EQ"] == "–" and stops["AAPL_US_EQ"] != "–"
    assert any("SAP" in w.value for w in at.warning)
    # risk in the account currency beside the quote currency
    risk = dict(zip(frame["T212 ticker"], frame["Risk (quote)"], strict=True))
    assert risk["AAPL_US_EQ"].startswith("$") and risk["LLOYl_EQ"].endswith("p")


def test_risk_page_shows_risk_in_both_currencies(t212_env: FakeTrading212) -> None:
    at = open_page("pages/2_Risk.py")
    frame = at.dataframe[0].value
    assert {"Risk", "Risk (quote)"} <= set(frame.columns)
    assert any(str(v).startswith("$") for v in frame["Risk (quote)"])


def test_settings_lists_positions_without_market_data_and_why(t212_env: FakeTrading212) -> None:
    nulls_everywhere(t212_env)
    at = open_page("pages/6_Settings.py")
    assert len(at.dataframe) == 1  # the only table of the page beside the st.table ones
    table = at.dataframe[0].value
    why = dict(zip(table["T212 ticker"], table["Why"], strict=True))
    assert "no shortName" in why["LLOYl_EQ"]
    assert "no Trading 212 exchange lists working schedule 999" in why["VUSAl_EQ"]
    # with symbols but market data off, the reason says so
    assert "market data is off" in why["AAPL_US_EQ"]
    symbols = dict(zip(table["T212 ticker"], table["Yahoo symbol"], strict=True))
    assert symbols["FB_US_EQ"] == "META" and symbols["LLOYl_EQ"] == "–"


def test_entries_amounts_in_both_currencies() -> None:
    at = open_page("pages/7_Entries.py")
    frame = at.dataframe[0].value
    cols = list(frame.columns)
    assert {"Cost", "Cost (account)", "Risk", "Risk (account)", "Ccy"} <= set(cols)
    assert cols.index("Cost (account)") == cols.index("Cost") + 2  # Cost, Ccy, Cost (account)
    sized = frame.dropna(subset=["Risk", "Risk (account)"])
    assert not sized.empty


def test_every_page_says_which_items_were_left_out_or_marked(t212_env: FakeTrading212) -> None:
    nulls_everywhere(t212_env)
    at = open_page("Home.py")
    text = " ".join(w.value for w in at.warning)
    assert "position TSLA_US_EQ" in text and "order MSFT_US_EQ" in text and "everything else is live" in text
