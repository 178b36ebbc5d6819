"""The published OpenAPI spec referees the emulator and the client (tests/fakes/t212_spec.py)."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from tests.broker.test_trading212 import make_client
from tests.fakes import t212_spec
from tests.fakes.t212_server import DEFAULT_KEY, DEFAULT_SECRET, FakeTrading212

BASIC = {"Authorization": "Basic " + base64.b64encode(f"{DEFAULT_KEY}:{DEFAULT_SECRET}".encode()).decode()}


def test_the_copy_is_the_published_spec_and_valid() -> None:
    if t212_spec.SHARED_SPEC.is_file():  # beside the clone (this machine, CI): the copy must not drift
        assert t212_spec.SPEC_COPY.read_bytes() == t212_spec.SHARED_SPEC.read_bytes()
    validate(t212_spec.spec_dict())  # openapi-spec-validator: the corrected spec is still a valid 3.0 document


def test_security_schemes_are_alternatives() -> None:
    op = t212_spec.spec_dict()["paths"]["/api/v0/equity/positions"]["get"]
    assert op["security"] == [{"authWithSecretKey": []}, {"legacyApiKeyHeader": []}]


def test_every_endpoint_the_client_uses_answers_by_the_spec(t212_server: FakeTrading212, tmp_path: Path) -> None:
    """The fixture's teardown asserts no violation: here every endpoint is used once, orders included."""
    client = make_client(t212_server, tmp_path)
    client.account_summary()
    client.positions()
    orders = client.orders()
    client.instruments()
    client.exchanges()
    t212_server.advance(2.0)
    assert client.order(orders[0].id) is not None
    client.place_market_order("MSFT_US_EQ", -1.5)
    client.place_stop_order("MSFT_US_EQ", -1, 300.0)
    client.cancel_order(orders[0].id)
    t212_server.advance(2.0)
    client.position("AAPL_US_EQ")
    assert t212_server.spec_violations == []
    client.close()


def test_the_legacy_key_header_passes_the_security_check() -> None:
    with FakeTrading212.running(secret=None, legacy=True) as server:
        assert httpx.get(server.base_url + "/equity/positions", headers={"Authorization": DEFAULT_KEY}).status_code == 200
        assert server.spec_violations == []


@pytest.mark.parametrize(("method", "path", "kwargs", "words"), [
    ("POST", "/equity/orders/market", {"json": {"ticker": "AAPL_US_EQ", "quantity": "-1"}}, "quantity"),
    ("POST", "/equity/orders/stop", {"json": {"ticker": "AAPL_US_EQ", "quantity": -1, "stopPrice": 1.0,
                                               "timeValidity": "FOREVER"}}, "timeValidity"),
    ("GET", "/equity/positions", {"params": {"symbol": "AAPL"}}, "query parameters not in the spec"),
    ("GET", "/equity/portfolio", {}, "PathNotFound"),
    ("GET", "/equity/orders/abc", {}, "Path parameter error: id"),
])
def test_a_request_against_the_spec_is_recorded(t212_server: FakeTrading212, method: str, path: str,
                                                kwargs: dict, words: str) -> None:
    t212_server.allow_spec_violations = True
    httpx.request(method, t212_server.base_url + path, headers=BASIC, **kwargs)
    assert len(t212_server.spec_violations) >= 1 and words in " ".join(t212_server.spec_violations), \
        t212_server.spec_violations


def test_an_answer_against_the_spec_is_recorded(t212_server: FakeTrading212) -> None:
    """The emulator drifting (here: a schedule id as text, a null price) is caught on the answer."""
    t212_server.allow_spec_violations = True
    t212_server.instruments["AAPL_US_EQ"]["workingScheduleId"] = "51"
    httpx.get(t212_server.base_url + "/equity/metadata/instruments", headers=BASIC)
    t212_server.orders[next(iter(t212_server.orders))]["stopPrice"] = None
    httpx.get(t212_server.base_url + "/equity/orders", headers=BASIC)
    text = " ".join(t212_server.spec_violations)
    assert "metadata/instruments: answer 200" in text and "workingScheduleId" in text
    assert "equity/orders: answer 200" in text and "stopPrice" in text


def test_faults_are_marked_and_not_checked(t212_server: FakeTrading212) -> None:
    t212_server.inject("GET", "/equity/positions", "json", status=200, body=[{"quantity": "lots"}])
    t212_server.inject("GET", "/equity/orders", "garbage")
    assert httpx.get(t212_server.base_url + "/equity/positions", headers=BASIC).json() == [{"quantity": "lots"}]
    httpx.get(t212_server.base_url + "/equity/orders", headers=BASIC)
    assert t212_server.spec_violations == []


def test_an_unknown_deviation_must_be_documented_first() -> None:
    with pytest.raises(ValueError, match="document it"):
        t212_spec.Exemption("whatever")


def test_the_real_scenario_serves_nulls_as_a_marked_deviation(tmp_path: Path) -> None:
    with FakeTrading212.running(scenario="real") as server:
        positions = httpx.get(server.base_url + "/equity/positions", headers=BASIC).json()
        by = {p["instrument"]["ticker"]: p for p in positions}
        assert by["AAPL_US_EQ"]["quantity"] == 12.09032128  # 8 decimals
        assert by["AAPL_US_EQ"]["quantityAvailableForTrading"] == 7.09032128  # 5 under the pending stop
        assert by["SAPd_EQ"]["currentPrice"] is None and by["SAPd_EQ"]["walletImpact"]["currentValue"] is None
        assert by["FB_US_EQ"]["walletImpact"]["fxImpact"] is None
        instruments = {i["ticker"]: i for i in
                       httpx.get(server.base_url + "/equity/metadata/instruments", headers=BASIC).json()}
        assert instruments["FB_US_EQ"]["shortName"] == "META" and instruments["BRK_B_US_EQ"]["shortName"] == "BRK.B"
        assert {"CSP1_EQ", "IITU_EQ", "SAPd_EQ", "SXR8d_EQ"} <= set(instruments)
        assert instruments["SXR8d_EQ"]["isin"] is None
        orders = httpx.get(server.base_url + "/equity/orders", headers=BASIC).json()
        assert {o["side"] for o in orders} == {"SELL", "BUY"} and orders[0]["limitPrice"] is None
        assert server.spec_violations == []  # nulls are the documented deviation: the rest is checked...
        server.instruments["CSP1_EQ"]["currencyCode"] = "GBPX"
        server.advance(60)
        httpx.get(server.base_url + "/equity/metadata/instruments", headers=BASIC)
        assert any("currencyCode" in v for v in server.spec_violations)  # ...and still caught


@pytest.mark.parametrize(("ticker", "quantity", "answer"), [
    ("CSP1_EQ", -0.8312, "invalid quantity precision 3"),
    ("BRK_B_US_EQ", -3.5, "invalid quantity precision 0"),
    ("AAPL_US_EQ", -7.09032, "invalid quantity precision 4"),
])
def test_the_real_scenario_refuses_decimals_per_instrument(ticker: str, quantity: float, answer: str) -> None:
    with FakeTrading212.running(scenario="real") as server:
        reply = httpx.post(server.base_url + "/equity/orders/market", headers=BASIC,
                           json={"ticker": ticker, "quantity": quantity, "extendedHours": False})
        assert reply.status_code == 400 and reply.json()["detail"] == answer
        assert server.spec_violations == []


def test_admin_api_sets_precision_and_lists_violations(t212_server: FakeTrading212) -> None:
    admin = t212_server.url + "/__admin/"
    assert httpx.post(admin + "precision", json={"ticker": "MSFT_US_EQ", "decimals": 1, "style": "message",
                                                  "reading": "sent"}).status_code == 200
    reply = httpx.post(t212_server.base_url + "/equity/orders/market", headers=BASIC,
                       json={"ticker": "MSFT_US_EQ", "quantity": -1.25})
    assert reply.json() == {"code": "BadRequest", "message": "invalid quantity precision 2"}
    assert httpx.post(admin + "precision", json={"style": "nope"}).status_code == 400
    assert httpx.get(admin + "spec").json() == {"violations": []}
    assert httpx.post(admin + "scenario", json={"name": "real"}).status_code == 200
    assert "CSP1_EQ" in t212_server.instruments and "nulls" in t212_server.deviations
