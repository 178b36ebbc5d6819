"""The fake Trading 212 itself, driven with raw HTTP (it must be a faithful referee)."""

from __future__ import annotations

import base64
import subprocess
import sys
import time

import httpx
import pytest

from tests.fakes.t212_server import DEFAULT_KEY, DEFAULT_SECRET, FakeTrading212

BASIC = "Basic " + base64.b64encode(f"{DEFAULT_KEY}:{DEFAULT_SECRET}".encode()).decode()


@pytest.fixture
def http(t212_server: FakeTrading212) -> httpx.Client:
    with httpx.Client(base_url=t212_server.url, headers={"Authorization": BASIC}, timeout=5) as client:
        yield client  # type: ignore[misc]


def test_auth_required(t212_server: FakeTrading212) -> None:
    t212_server.allow_spec_violations = True  # no Authorization header at all: the spec says so too
    assert httpx.get(t212_server.base_url + "/equity/positions").status_code == 401
    assert len(t212_server.spec_violations) == 1 and "Security" in t212_server.spec_violations[0]
    legacy = httpx.get(t212_server.base_url + "/equity/positions", headers={"Authorization": DEFAULT_KEY})
    assert legacy.status_code == 401  # not a key-only account
    assert t212_server.count("GET", "/equity/positions") == 0


def test_rate_headers_and_violations(t212_server: FakeTrading212, http: httpx.Client) -> None:
    t212_server.allow_violations = True
    first = http.get("/api/v0/equity/account/summary")
    assert first.status_code == 200
    assert first.headers["x-ratelimit-limit"] == "1" and first.headers["x-ratelimit-period"] == "5"
    assert first.headers["x-ratelimit-remaining"] == "0" and first.headers["x-ratelimit-used"] == "1"
    assert float(first.headers["x-ratelimit-reset"]) >= time.time() + 4
    second = http.get("/api/v0/equity/account/summary")
    assert second.status_code == 429 and "x-ratelimit-reset" in second.headers
    assert t212_server.violations == {"GET /equity/account/summary": 1}
    assert t212_server.count("GET", "/equity/account/summary") == 1  # the refused one is not served
    # positions: 1/s, and a ?ticker= query spends the same budget
    assert http.get("/api/v0/equity/positions").status_code == 200
    assert http.get("/api/v0/equity/positions", params={"ticker": "RRl_EQ"}).status_code == 429
    t212_server.advance(1.0)
    only = http.get("/api/v0/equity/positions", params={"ticker": "RRl_EQ"})
    assert [p["instrument"]["ticker"] for p in only.json()] == ["RRl_EQ"]
    assert t212_server.violations_total == 2


def test_summary_is_cash_plus_wallet_values(t212_server: FakeTrading212, http: httpx.Client) -> None:
    positions = http.get("/api/v0/equity/positions").json()
    summary = http.get("/api/v0/equity/account/summary").json()
    values = sum(p["walletImpact"]["currentValue"] for p in positions)
    assert summary["totalValue"] == pytest.approx(summary["cash"]["availableToTrade"] + values, abs=0.02)
    assert 14000 < summary["totalValue"] < 16000 and summary["currency"] == "GBP"
    by_ticker = {p["instrument"]["ticker"]: p for p in positions}
    for ticker, fx in (("AAPL_US_EQ", 0.79), ("RRl_EQ", 0.01), ("VUSAl_EQ", 1.0), ("SAPd_EQ", 0.85)):
        p = by_ticker[ticker]
        assert p["walletImpact"]["currentValue"] == pytest.approx(p["quantity"] * p["currentPrice"] * fx, abs=0.01)
    assert by_ticker["LLOYl_EQ"]["instrument"]["currency"] == "GBX"


def test_instruments_and_exchanges(t212_server: FakeTrading212, http: httpx.Client) -> None:
    instruments = {i["ticker"]: i for i in http.get("/api/v0/equity/metadata/instruments").json()}
    assert instruments["FB_US_EQ"]["shortName"] == "META"
    assert instruments["RRl_EQ"]["currencyCode"] == "GBX"
    t212_server.set_market_open(123, False)
    exchanges = http.get("/api/v0/equity/metadata/exchanges").json()
    lse = next(e for e in exchanges if e["id"] == 57)
    events = lse["workingSchedules"][0]["timeEvents"]
    assert lse["workingSchedules"][0]["id"] == 123
    now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    last_past = [e for e in events if e["date"] < now][-1]
    assert last_past["type"] == "CLOSE"  # closed now
    nasdaq = next(e for e in exchanges if e["id"] == 1)["workingSchedules"][0]["timeEvents"]
    assert [e for e in nasdaq if e["date"] < now][-1]["type"] == "OPEN"


def test_market_orders_fill_when_open_and_queue_when_closed(t212_server: FakeTrading212,
                                                           http: httpx.Client) -> None:
    cash = t212_server.cash
    sold = http.post("/api/v0/equity/orders/market", json={"ticker": "LLOYl_EQ", "quantity": -1000,
                                                           "extendedHours": False})
    assert sold.status_code == 200 and sold.json()["status"] == "FILLED"
    assert t212_server.positions["LLOYl_EQ"].quantity == 2000
    assert t212_server.cash == pytest.approx(cash + 1000 * 52.3 * 0.01)
    t212_server.set_market_open(123, False)
    queued = http.post("/api/v0/equity/orders/market", json={"ticker": "LLOYl_EQ", "quantity": -2000})
    assert queued.json()["status"] == "NEW"
    assert t212_server.available("LLOYl_EQ") == 0  # reserved by the queued sell
    t212_server.set_market_open(123, True)
    assert "LLOYl_EQ" not in t212_server.positions
    assert len(t212_server.sells()) == 2


def test_order_validation_and_both_error_shapes(t212_server: FakeTrading212, http: httpx.Client) -> None:
    bad = http.post("/api/v0/equity/orders/market", json={"ticker": "LLOYl_EQ", "quantity": -1.5})
    assert bad.status_code == 400
    # Issue 9 changed this contract: the number is the precision ALLOWED (LLOY: whole shares), as the
    # real broker says it; the other reading (the precision sent) is a switch.
    assert bad.json() == {"type": "/api-errors/quantity-precision-mismatch", "title": "Quantity precision mismatch",
                          "status": 400, "detail": "invalid quantity precision 0"}
    t212_server.set_precision(reading="sent")
    sent = http.post("/api/v0/equity/orders/market", json={"ticker": "LLOYl_EQ", "quantity": -1.5})
    assert sent.json()["detail"] == "invalid quantity precision 1"
    t212_server.set_precision(reading="allowed")
    t212_server.error_style = "old"
    not_owned = http.post("/api/v0/equity/orders/market", json={"ticker": "NVDA_US_EQ", "quantity": -1})
    assert not_owned.json()["code"] == "SellingEquityNotOwned"
    assert len(t212_server.order_posts) == 3


def test_pending_orders_lookup_and_cancel(t212_server: FakeTrading212, http: httpx.Client) -> None:
    orders = http.get("/api/v0/equity/orders").json()
    stop = next(o for o in orders if o["type"] == "STOP")
    assert stop["side"] == "SELL" and stop["quantity"] < 0 and stop["ticker"] == "AAPL_US_EQ"
    assert any(o["type"] == "LIMIT" and o["side"] == "BUY" for o in orders)
    assert http.get(f"/api/v0/equity/orders/{stop['id']}").json()["id"] == stop["id"]
    assert http.delete(f"/api/v0/equity/orders/{stop['id']}").status_code == 200
    t212_server.advance(1.0)
    gone = http.get(f"/api/v0/equity/orders/{stop['id']}")
    assert gone.status_code == 404 and gone.json()["type"].endswith("entity-not-found")


def test_faults_are_used_once(t212_server: FakeTrading212, http: httpx.Client) -> None:
    t212_server.inject("GET", "/equity/orders", "status", status=500)
    failed = http.get("/api/v0/equity/orders")
    assert failed.status_code == 500 and failed.text.startswith("<html>")
    assert "x-ratelimit-remaining" in failed.headers
    t212_server.advance(5.0)  # the window moves on without sleeping
    assert http.get("/api/v0/equity/orders").status_code == 200


def test_admin_api_drives_another_process(t212_server: FakeTrading212, http: httpx.Client) -> None:
    admin = t212_server.url + "/__admin/"
    assert httpx.post(admin + "price", json={"ticker": "RRl_EQ", "price": 500.5}).status_code == 200
    assert t212_server.positions["RRl_EQ"].current_price == 500.5
    httpx.post(admin + "fault", json={"method": "GET", "path": "/equity/positions", "kind": "garbage"})
    assert http.get("/api/v0/equity/positions").text.startswith('{"this is"')
    httpx.post(admin + "market", json={"schedule_id": 51, "open": False})
    httpx.post(admin + "position", json={"ticker": "BPl_EQ", "quantity": 100, "average_price": 450})
    state = httpx.get(admin + "state").json()
    assert state["market_open"]["51"] is False
    assert state["counts"] == {"GET /equity/positions": 1}
    assert any(p["instrument"]["ticker"] == "BPl_EQ" for p in state["positions"])
    httpx.post(admin + "reset_counters")
    assert httpx.get(admin + "state").json()["requests_total"] == 0
    assert httpx.post(admin + "nope").status_code == 404


def test_cli_runs_in_the_foreground(tmp_path: object) -> None:
    with FakeTrading212.running() as probe:
        port = probe.port  # a free port, released when the probe stops
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.t212_server", "--port", str(port),
                             "--scenario", "many", "--positions", "12"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert f"127.0.0.1:{port}/api/v0" in line
        positions = httpx.get(f"http://127.0.0.1:{port}/api/v0/equity/positions",
                              headers={"Authorization": BASIC}).json()
        assert len(positions) == 12
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_resting_sell_stop_reserves_shares_and_fills_when_the_price_reaches_it(t212_server: FakeTrading212,
                                                                                  http: httpx.Client) -> None:
    body = {"ticker": "TSLA_US_EQ", "quantity": -2, "stopPrice": 200.0, "timeValidity": "GOOD_TILL_CANCEL"}
    placed = http.post("/api/v0/equity/orders/stop", json=body)
    assert placed.status_code == 200 and placed.json()["status"] == "NEW"
    assert t212_server.available("TSLA_US_EQ") == 1  # 3 held, 2 reserved by the stop
    http.post("/__admin/price", json={"ticker": "TSLA_US_EQ", "price": 200.5})
    assert placed.json()["id"] in t212_server.orders  # not reached yet
    t212_server.set_market_open(51, False)
    http.post("/__admin/price", json={"ticker": "TSLA_US_EQ", "price": 199.0})
    assert placed.json()["id"] in t212_server.orders  # reached, but the market is closed
    t212_server.set_market_open(51, True)  # the open triggers it
    assert placed.json()["id"] not in t212_server.orders
    assert t212_server.positions["TSLA_US_EQ"].quantity == 1
    assert [t["id"] for t in t212_server.triggered] == [placed.json()["id"]]


def test_stop_orders_can_be_refused_like_an_account_without_them(t212_server: FakeTrading212,
                                                                  http: httpx.Client) -> None:
    http.post("/__admin/refuse_stops", json={"error_type": "order-type-not-supported"})
    body = {"ticker": "TSLA_US_EQ", "quantity": -1, "stopPrice": 200.0, "timeValidity": "GOOD_TILL_CANCEL"}
    refused = http.post("/api/v0/equity/orders/stop", json=body)
    assert refused.status_code == 400 and refused.json()["type"].endswith("order-type-not-supported")
    assert http.post("/api/v0/equity/orders/market", json={"ticker": "TSLA_US_EQ", "quantity": -1}).status_code == 200
