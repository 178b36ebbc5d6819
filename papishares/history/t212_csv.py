"""History items (Trading 212's JSON shapes) -> a CSV in the layout of Trading 212's own export.

The demo account has no broker to export from, so its report is written from its history items in
the columns Trading 212's export uses (and `cgt-calc` reads): one row per filled order, dividend,
deposit and withdrawal, amounts in the account currency, "Exchange rate" as instrument currency
per account currency (100 for GBX in a GBP account), as the real file gives it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from papishares.core.numbers import finite
from papishares.history.records import timestamp

COLUMNS = ("Action", "Time", "ISIN", "Ticker", "Name", "Notes", "ID", "No. of shares", "Price / share",
           "Currency (Price / share)", "Exchange rate", "Result", "Currency (Result)", "Total", "Currency (Total)",
           "Withholding tax", "Currency (Withholding tax)")
ORDER_ACTIONS = {"MARKET": "Market", "LIMIT": "Limit", "STOP": "Stop", "STOP_LIMIT": "Stop limit"}
TRANSACTION_ACTIONS = {"DEPOSIT": "Deposit", "WITHDRAW": "Withdrawal", "WITHDRAWAL": "Withdrawal"}


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _time(value: Any) -> str | None:
    ts = timestamp(value)
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _num(value: float | None, places: int) -> str:
    if value is None:
        return ""
    return f"{value:.2f}" if places == 2 else f"{value:.{places}f}".rstrip("0").rstrip(".")


def _order_row(item: dict[str, Any], short_name: dict[str, str], account_currency: str) -> dict[str, str] | None:
    order = _obj(item.get("order")) or item
    fill = _obj(item.get("fill"))
    wallet = _obj(fill.get("walletImpact"))
    instrument = _obj(order.get("instrument"))
    qty = finite(fill.get("quantity")) or finite(order.get("filledQuantity"))
    price = finite(fill.get("price")) or finite(item.get("fillPrice"))
    when = _time(fill.get("filledAt") or item.get("dateExecuted"))
    if not qty or not price or when is None:
        return None  # not filled: no row in the broker's export either
    side = str(order.get("side") or ("SELL" if qty < 0 else "BUY")).lower()
    kind = ORDER_ACTIONS.get(str(order.get("type") or "MARKET").upper(), "Market")
    fx = finite(wallet.get("fxRate")) or 1.0
    total = finite(wallet.get("netValue"))
    if total is None:
        total = abs(qty) * price * fx
    ticker = str(order.get("ticker") or instrument.get("ticker") or "")
    pnl = finite(wallet.get("realisedProfitLoss"))
    return {"Action": f"{kind} {side}", "Time": when, "ISIN": str(instrument.get("isin") or ""),
            "Ticker": short_name.get(ticker, ticker), "Name": str(instrument.get("name") or ""),
            "ID": str(order.get("id") or fill.get("id") or ""), "No. of shares": _num(abs(qty), 8),
            "Price / share": _num(price, 8), "Currency (Price / share)": str(order.get("currency")
                                                                            or instrument.get("currency") or ""),
            "Exchange rate": _num(1.0 / fx, 8), "Result": _num(pnl, 2) if side == "sell" else "",
            "Currency (Result)": account_currency if side == "sell" and pnl is not None else "",
            "Total": _num(abs(total), 2), "Currency (Total)": str(wallet.get("currency") or account_currency)}


def _dividend_row(item: dict[str, Any], short_name: dict[str, str], account_currency: str) -> dict[str, str] | None:
    when, amount = _time(item.get("paidOn")), finite(item.get("amount"))
    if when is None or amount is None:
        return None
    instrument = _obj(item.get("instrument"))
    ticker = str(item.get("ticker") or instrument.get("ticker") or "")
    return {"Action": "Dividend (Ordinary)", "Time": when, "ISIN": str(instrument.get("isin") or ""),
            "Ticker": short_name.get(ticker, ticker), "Name": str(instrument.get("name") or ""),
            "ID": str(item.get("reference") or ""), "No. of shares": _num(finite(item.get("quantity")), 8),
            "Price / share": _num(finite(item.get("grossAmountPerShare")), 8),
            "Currency (Price / share)": str(item.get("tickerCurrency") or instrument.get("currency") or ""),
            "Total": _num(amount, 2), "Currency (Total)": str(item.get("currency") or account_currency)}


def _transaction_row(item: dict[str, Any], account_currency: str) -> dict[str, str] | None:
    action = TRANSACTION_ACTIONS.get(str(item.get("type") or "").upper())
    when, amount = _time(item.get("dateTime")), finite(item.get("amount"))
    if action is None or when is None or amount is None:
        return None  # fees, transfers between pies and the like: no capital gains meaning
    signed = -abs(amount) if action == "Withdrawal" else abs(amount)
    return {"Action": action, "Time": when, "ID": str(item.get("reference") or ""), "Total": _num(signed, 2),
            "Currency (Total)": str(item.get("currency") or account_currency)}


def report_csv(items: Mapping[str, Iterable[dict[str, Any]]], account_currency: str,
               short_name: dict[str, str] | None = None) -> str:
    """The export's text, oldest row first; `short_name` maps Trading 212 tickers to the export's."""
    names = short_name or {}
    rows = [r for i in items.get("orders", ()) if (r := _order_row(i, names, account_currency))]
    rows += [r for i in items.get("dividends", ()) if (r := _dividend_row(i, names, account_currency))]
    rows += [r for i in items.get("transactions", ()) if (r := _transaction_row(i, account_currency))]
    rows.sort(key=lambda r: (r["Time"], r["Action"].endswith("buy")))  # a deposit before a buy in its second
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
