"""History items -> Trading 212's export layout: the rows as the real file has them, and a report
written from fills that cgt-calc turns into the same realised gain as the History's FIFO trades."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from papishares.config import load_settings
from papishares.history.records import order_row
from papishares.history.t212_csv import COLUMNS, report_csv
from papishares.history.tax import summarise
from papishares.history.trades import fills_from_rows, round_trips
from tests.fakes.cgt import needs_cgt, offline_rates
from tests.fakes.t212_history import dividend_item, order_item, transaction_item

DAY_MS = 86_400_000
T0 = 1_717_236_000_000  # 2024-06-01 10:00 UTC


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_rows_in_the_export_layout() -> None:
    unfilled = order_item(9, "AAPL_US_EQ", "BUY", 1, 100.0, T0)
    unfilled["fill"] = {}
    items = {
        "orders": [order_item(2, "RRl_EQ", "SELL", 300, 612.5, T0 + DAY_MS, currency="GBX", fx=0.01, realised=37.5),
                   order_item(1, "RRl_EQ", "BUY", 300, 600.0, T0, currency="GBX", fx=0.01),
                   order_item(3, "AAPL_US_EQ", "BUY", 1.5, 200.0, T0, fx=0.8, order_type="LIMIT"), unfilled],
        "dividends": [dividend_item("D1", "AAPL_US_EQ", 0.42, T0 + 2 * DAY_MS, quantity=1.5)],
        "transactions": [transaction_item("W1", "WITHDRAW", 50.0, T0 + 3 * DAY_MS),
                         transaction_item("T1", "DEPOSIT", 5000.0, T0), transaction_item("F1", "FEE", 1.0, T0)],
    }
    text = report_csv(items, "GBP", {"RRl_EQ": "RR.", "AAPL_US_EQ": "AAPL"})
    assert text.splitlines()[0] == ",".join(COLUMNS)
    rows = _rows(text)
    assert [r["Action"] for r in rows] == ["Deposit", "Market buy", "Limit buy", "Market sell", "Dividend (Ordinary)",
                                           "Withdrawal"]  # a deposit before the buys in the same second
    buy, sell = rows[1], rows[3]
    assert (buy["Ticker"], buy["No. of shares"], buy["Price / share"], buy["Currency (Price / share)"],
            buy["Exchange rate"], buy["Total"], buy["Currency (Total)"], buy["Time"]) == \
        ("RR.", "300", "600", "GBX", "100", "1800.00", "GBP", "2024-06-01 10:00:00")  # pence, 100 GBX per GBP
    assert (sell["Result"], sell["Total"], sell["ID"]) == ("37.50", "1837.50", "2")
    assert (rows[2]["Exchange rate"], rows[2]["Total"], rows[2]["No. of shares"]) == ("1.25", "240.00", "1.5")
    assert rows[4]["Total"] == "0.42" and rows[5]["Total"] == "-50.00"


@needs_cgt
def test_cgt_calc_over_the_written_report_equals_the_fifo_trades(tmp_path: Path) -> None:
    # full round trips more than 30 days apart: HMRC's matching and FIFO give the same gain per trade
    orders = [order_item(1, "AAPL_US_EQ", "BUY", 3, 180.0, T0, fx=0.79),
              order_item(2, "AAPL_US_EQ", "SELL", 3, 195.5, T0 + 20 * DAY_MS, fx=0.78),
              order_item(3, "AAPL_US_EQ", "BUY", 2, 170.0, T0 + 90 * DAY_MS, fx=0.8),
              order_item(4, "AAPL_US_EQ", "SELL", 2, 160.25, T0 + 100 * DAY_MS, fx=0.81),
              order_item(5, "RRl_EQ", "BUY", 250, 455.0, T0 + 5 * DAY_MS, currency="GBX", fx=0.01),
              order_item(6, "RRl_EQ", "SELL", 250, 512.4, T0 + 300 * DAY_MS, currency="GBX", fx=0.01)]
    items = {"orders": orders, "transactions": [transaction_item("T1", "DEPOSIT", 3000.0, T0 - DAY_MS)]}
    report = tmp_path / "r.csv"
    report.write_text(report_csv(items, "GBP", {"RRl_EQ": "RR.", "AAPL_US_EQ": "AAPL"}))
    rates = offline_rates(tmp_path / "rates.csv")
    summary = summarise(load_settings({"DB_PATH": str(tmp_path / "d.db")}, dotenv_path=None), [report],
                        rates_file=rates)
    assert not summary.notes and all(y.error is None for y in summary.years)
    fifo = sum(t.realised_pnl or 0.0 for t in round_trips(fills_from_rows([order_row(o) for o in orders])))
    assert sum(y.figures["net_gain"] for y in summary.years) == pytest.approx(fifo, abs=0.005)
    assert sum(y.figures["disposals"] for y in summary.years) == 3
