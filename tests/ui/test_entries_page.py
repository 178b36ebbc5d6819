"""The Entries page on demo data, a CSV directory and with an external feed (AppTest)."""

from __future__ import annotations

import json

from backtesting.test import GOOG

from tests.ui.conftest import messages, open_page

PAGE = "pages/7_Entries.py"


def table(at):
    return at.dataframe[0].value


def test_entries_on_demo_data_lists_sized_breakouts_and_charts_one() -> None:
    at = open_page(PAGE)
    assert not at.exception
    assert "Entries" in at.title[0].value
    frame = table(at)
    assert {"Symbol", "System", "Shares", "2N stop", "Breakout", "Risk (account)"} <= set(frame.columns)
    assert {"55", "20"} <= set(frame["System"])
    assert frame.loc[frame["System"] != "", "Shares"].notna().all()
    assert len(at.get("plotly_chart")) == 1  # the first candidate is charted at once

    at.selectbox(key="entries_system").set_value("System 55").run()
    assert set(table(at)["System"]) == {"55"}
    at.selectbox(key="entries_system").set_value("All").run()
    at.radio(key="entries_held").set_value("Held").run()
    held = table(at)
    assert len(held) >= 5 and set(held["Held"]) == {"yes"}
    at.selectbox(key="entries_symbol").set_value("RR.L").run()
    assert not at.exception
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "RR.L" in chart["layout"]["title"]["text"]
    assert any("2N stop" in a["text"] for a in chart["layout"]["annotations"])


def test_entries_on_a_csv_directory_with_a_broken_feed(tmp_path, monkeypatch) -> None:
    bars = tmp_path / "bars"
    bars.mkdir()
    frame = GOOG.copy()
    frame.index.name = "Date"
    frame.to_csv(bars / "GOOG.csv")
    (tmp_path / "watch.txt").write_text("GOOG\n")
    (tmp_path / "feed.json").write_text("{broken")
    monkeypatch.setenv("PAPISHARES_MARKET_DATA", f"csv:{bars}")
    monkeypatch.setenv("PAPISHARES_WATCHLIST", str(tmp_path / "watch.txt"))
    monkeypatch.setenv("ENTRIES_PATH", str(tmp_path / "feed.json"))
    at = open_page(PAGE)
    assert not at.exception
    symbols = table(at)["Symbol"].tolist()
    assert "GOOG" in symbols
    at.selectbox(key="entries_symbol").set_value("GOOG").run()
    assert len(at.get("plotly_chart")) == 1
    assert any("not valid JSON" in w for w in messages(at, "warning"))
