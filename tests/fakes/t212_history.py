"""History and CSV exports for the fake Trading 212, paged like the real API, bugs included.

    book = history_of(fake)                     # the fake's history (created on first use)
    book.orders.append(order_item(...))         # or book.generate(orders=5000, dividends=1000)
    book.next_form = "query"                    # nextPagePath as "full" | "query" | "qmark" | "url" | "rotate"
    book.end_form = ""                          # the last page says "" (or None) for nextPagePath
    book.not_found_on_page = 3                  # 404 on the 3rd page (and later ones), `not_found_times` times
    book.repeat_on_page = 2                     # page 2 gives its own path as nextPagePath (a repeated page)
    book.skip_after_page, book.skip_items = 1, 5  # the page after page 1 starts 5 items too far

Orders and dividends page by a numeric millisecond cursor (items strictly older than it);
transactions by a string cursor (the last reference) plus `time`, both required together.
Exports: POST /equity/history/exports -> {"reportId"}; GET lists reports, Queued until polled
`polls_until_ready` times, then Finished with a `downloadLink` on this server that refuses any
request carrying an Authorization header (credentials must never go to the download host).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

HISTORY_LIMITS: dict[str, tuple[int, float]] = {
    "GET /equity/history/exports": (1, 60),
    "POST /equity/history/exports": (1, 30),
}
KINDS = ("orders", "dividends", "transactions")
FORMS = ("full", "query", "qmark", "url")


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def order_item(order_id: int, ticker: str, side: str, quantity: float, price: float, at_ms: int,
               currency: str = "USD", fx: float = 1.0, realised: float | None = None,
               order_type: str = "MARKET") -> dict[str, Any]:
    """One `{order, fill}` history item; the fill's walletImpact in GBP (netValue = qty x price x fx)."""
    signed = quantity if side == "BUY" else -quantity
    item: dict[str, Any] = {
        "order": {"id": order_id, "ticker": ticker, "side": side, "type": order_type, "status": "FILLED",
                  "quantity": signed, "filledQuantity": quantity, "currency": currency, "strategy": "QUANTITY",
                  "createdAt": iso_ms(at_ms - 1000), "initiatedFrom": "API",
                  "instrument": {"ticker": ticker, "currency": currency, "name": ticker}},
        "fill": {"id": order_id * 10, "filledAt": iso_ms(at_ms), "price": price, "quantity": signed,
                 "type": "TRADE", "tradingMethod": "TOTV",
                 "walletImpact": {"currency": "GBP", "fxRate": fx, "netValue": round(quantity * price * fx, 2),
                                  "taxes": []}},
    }
    if realised is not None:  # absent rather than null: the spec allows no null here
        item["fill"]["walletImpact"]["realisedProfitLoss"] = realised
    return item


def dividend_item(ref: str, ticker: str, amount: float, at_ms: int, quantity: float = 10.0) -> dict[str, Any]:
    return {"reference": ref, "ticker": ticker, "amount": amount, "amountInEuro": round(amount * 1.17, 2),
            "currency": "GBP", "tickerCurrency": "USD", "grossAmountPerShare": round(amount / quantity, 4),
            "paidOn": iso_ms(at_ms), "quantity": quantity, "type": "ORDINARY",
            "instrument": {"ticker": ticker, "currency": "USD", "name": ticker}}


def transaction_item(ref: str, kind: str, amount: float, at_ms: int) -> dict[str, Any]:
    return {"reference": ref, "type": kind, "amount": amount, "currency": "GBP", "dateTime": iso_ms(at_ms)}


def _time_ms(kind: str, item: dict[str, Any]) -> int:
    text = {"orders": lambda i: (i.get("fill") or {}).get("filledAt") or i["order"]["createdAt"],
            "dividends": lambda i: i["paidOn"],
            "transactions": lambda i: i["dateTime"]}[kind](item)
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


@dataclass
class Report:
    report_id: int
    body: dict[str, Any]
    polls: int = 0


@dataclass
class HistoryBook:
    orders: list[dict[str, Any]] = field(default_factory=list)
    dividends: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    next_form: str = "full"
    end_form: str | None = None
    not_found_on_page: int | None = None
    not_found_times: int = 10**9
    repeat_on_page: int | None = None
    skip_after_page: int | None = None
    skip_items: int = 0
    polls_until_ready: int = 1
    csv_text: str = ""
    reports: dict[int, Report] = field(default_factory=dict)
    next_report: int = 7000
    downloads: list[dict[str, Any]] = field(default_factory=list)
    pages_served: int = 0

    def generate(self, orders: int = 0, dividends: int = 0, transactions: int = 0,
                 start_ms: int = 1_735_689_600_000) -> None:
        """Round trips (buy then sell, alternating tickers), dividends and deposits, 1 min apart."""
        tickers = ["AAPL_US_EQ", "MSFT_US_EQ", "TSLA_US_EQ", "NVDA_US_EQ"]
        for i in range(orders):
            side = "BUY" if i % 2 == 0 else "SELL"
            price = 100.0 + (i % 17) - (0 if side == "BUY" else 3 * ((i // 2) % 3 == 0))
            self.orders.append(order_item(10_000 + i, tickers[(i // 2) % len(tickers)], side, 2.0, price,
                                          start_ms + i * 60_000, fx=0.79))
        for i in range(dividends):
            self.dividends.append(dividend_item(f"DIV{i:06d}", tickers[i % len(tickers)], 1.5 + i % 5,
                                                start_ms + i * 61_000))
        for i in range(transactions):
            self.transactions.append(transaction_item(f"TX{i:06d}", "DEPOSIT" if i % 4 else "WITHDRAW",
                                                      500.0, start_ms + i * 3_600_000))

    # -- paging ---------------------------------------------------------------------------------
    def _form(self, page: int) -> str:
        return FORMS[page % len(FORMS)] if self.next_form == "rotate" else self.next_form

    def _next_path(self, fake: Any, kind: str, query: str, page: int) -> str:
        form = self._form(page)
        path = f"/api/v0/equity/history/{kind}"
        if form == "query":
            return query
        if form == "qmark":
            return "?" + query
        if form == "url":
            return f"{fake.url}{path}?{query}"
        return f"{path}?{query}"

    def page(self, fake: Any, kind: str, query: str) -> tuple[int, Any]:
        params = {k: v[0] for k, v in parse_qs(query).items()}
        try:
            limit = int(params.get("limit", 20))
        except ValueError:
            return 400, {"type": "/api-errors/bad-request", "title": "Bad filtering arguments", "status": 400}
        if not 1 <= limit <= 50:
            return 400, {"type": "/api-errors/bad-request", "title": "Bad filtering arguments",
                         "detail": "limit must be between 1 and 50", "status": 400}
        items = sorted(getattr(self, kind), key=lambda i: -_time_ms(kind, i))
        if kind == "transactions":
            if ("cursor" in params) != ("time" in params):
                return 400, {"type": "/api-errors/bad-request", "title": "cursor and time go together",
                             "status": 400}
            if "cursor" in params:
                refs = [i["reference"] for i in items]
                start = refs.index(params["cursor"]) + 1 if params["cursor"] in refs else len(items)
            else:
                start = 0
        elif "cursor" in params:
            cursor = int(params["cursor"])
            start = next((n for n, i in enumerate(items) if _time_ms(kind, i) < cursor), len(items))
        else:
            start = 0
        page_no = start // limit + 1  # which page this cursor asks for (bugs are set by page number)
        if page_no > 1 and self.not_found_on_page is not None and page_no >= self.not_found_on_page \
                and self.not_found_times > 0:
            self.not_found_times -= 1
            return 404, {"type": "/api-errors/entity-not-found", "title": "Not found", "status": 404}
        if self.skip_after_page is not None and page_no == self.skip_after_page + 1:
            start += self.skip_items
        chunk = items[start:start + limit]
        self.pages_served += 1
        if start + limit >= len(items) or not chunk:
            return 200, {"items": chunk, "nextPagePath": self.end_form}
        if self.repeat_on_page == page_no:
            return 200, {"items": chunk, "nextPagePath": self._next_path(fake, kind, query, page_no)}
        last = chunk[-1]
        if kind == "transactions":
            nxt = f"limit={limit}&cursor={last['reference']}&time={last['dateTime']}"
        else:
            nxt = f"limit={limit}&cursor={_time_ms(kind, last)}"
        return 200, {"items": chunk, "nextPagePath": self._next_path(fake, kind, nxt, page_no)}

    # -- exports --------------------------------------------------------------------------------
    def request_report(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return 400, {"type": "/api-errors/bad-request", "title": "Body must be an object", "status": 400}
        self.next_report += 1
        self.reports[self.next_report] = Report(self.next_report, body)
        return 200, {"reportId": self.next_report}

    def list_reports(self, fake: Any) -> list[dict[str, Any]]:
        out = []
        for r in self.reports.values():
            r.polls += 1
            ready = r.polls > self.polls_until_ready
            report = {"reportId": r.report_id, "status": "Finished" if ready else "Queued",
                      "timeFrom": r.body.get("timeFrom"), "timeTo": r.body.get("timeTo"),
                      "dataIncluded": r.body.get("dataIncluded")}
            if ready:  # the link appears once the report is Finished
                report["downloadLink"] = f"{fake.url}/__reports/{r.report_id}.csv"
            out.append(report)
        return out


def null_end(body: Any) -> bool:
    """The last page's `nextPagePath: null`: real (and the spec's own text says so), though its
    schema allows no null: the server marks such answers with the documented "nulls" deviation."""
    return isinstance(body, dict) and "nextPagePath" in body and body["nextPagePath"] is None


def history_of(fake: Any) -> HistoryBook:
    book = getattr(fake, "_history_book", None)
    if book is None:
        book = HistoryBook()
        fake._history_book = book
    return book


def route(fake: Any, method: str, path: str, query: str, body: bytes) -> tuple[int, Any] | None:
    """The fake's hook: an answer for a history path, else None (the server routes it)."""
    if not path.startswith("/equity/history/"):
        return None
    book = history_of(fake)
    kind = path.rsplit("/", 1)[1]
    if method == "GET" and kind in KINDS:
        return book.page(fake, kind, query)
    if kind == "exports" and method == "POST":
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            payload = None
        return book.request_report(payload)
    if kind == "exports" and method == "GET":
        return 200, book.list_reports(fake)
    return None


def download(fake: Any, path: str, headers: Any) -> tuple[int, str]:
    """`/__reports/ID.csv`: the report's CSV, refused (403) when credentials are sent to it."""
    book = history_of(fake)
    book.downloads.append({"path": path, "authorization": headers.get("Authorization"), "at": time.time()})
    if headers.get("Authorization"):
        return 403, "credentials must not be sent to the download link"
    return 200, book.csv_text
