"""Errors in every shape Trading 212 really answers, on every endpoint the client uses.

Problem-JSON, legacy `{code, clarification}`, `{code, message}` (401/403), empty, plain-text and HTML
bodies (a 502 page, a Cloudflare 429 page) are served by the emulator from tests/fixtures/t212/errors/.
Each gives a typed error with one clear sentence that names the endpoint, no traceback, no secret.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from papishares.broker import t212_parse as parse
from papishares.broker.trading212 import Trading212Client
from papishares.core.errors import (
    AuthError,
    BrokerError,
    BrokerUnavailable,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimited,
)
from tests.broker.test_trading212 import SECRETS, OffsetClock, assert_no_secret, make_client
from tests.fakes.t212_realistic import fixture_body
from tests.fakes.t212_server import FakeTrading212

# (method, path the fault is queued for, the client call)
ENDPOINTS: dict[str, tuple[str, str, Callable[[Trading212Client], Any]]] = {
    "summary": ("GET", "/equity/account/summary", lambda c: c.account_summary()),
    "positions": ("GET", "/equity/positions", lambda c: c.positions()),
    "orders": ("GET", "/equity/orders", lambda c: c.orders()),
    "order": ("GET", "/equity/orders/{id}", lambda c: c.order(1001)),
    "instruments": ("GET", "/equity/metadata/instruments", lambda c: c.instruments()),
    "exchanges": ("GET", "/equity/metadata/exchanges", lambda c: c.exchanges()),
    "market": ("POST", "/equity/orders/market", lambda c: c.place_market_order("AAPL_US_EQ", -1)),
    "stop": ("POST", "/equity/orders/stop", lambda c: c.place_stop_order("AAPL_US_EQ", -1, 120.0)),
    "cancel": ("DELETE", "/equity/orders/{id}", lambda c: c.cancel_order(1001)),
}
# (fixture, status, the error a read gives, the error an order call gives, words the sentence holds)
SHAPES = [
    ("errors/problem_not_found.json", 400, BrokerError, OrderRejected, "entity-not-found"),
    ("errors/legacy_not_owned.json", 400, BrokerError, OrderRejected, "selling-equity-not-owned"),
    ("errors/unauthorized_message.json", 401, AuthError, AuthError, "T212_API_KEY"),
    ("errors/forbidden_message.json", 403, AuthError, AuthError, "permission"),
    ("errors/empty.txt", 400, BrokerError, OrderRejected, "HTTP 400"),
    ("errors/empty.txt", 500, BrokerUnavailable, OrderOutcomeUnknown, "HTTP 500"),
    ("errors/plain_400.txt", 400, BrokerError, OrderRejected, "Bad Request: quantity must be a number"),
    ("errors/plain_429.txt", 429, RateLimited, RateLimited, "rate limit"),
    ("errors/html_429.html", 429, RateLimited, RateLimited, "rate limit"),
    ("errors/html_502.html", 502, BrokerUnavailable, OrderOutcomeUnknown, "HTTP 502"),
    ("errors/html_503.html", 503, BrokerUnavailable, OrderOutcomeUnknown, "HTTP 503"),
]


def instant_client(server: FakeTrading212, tmp_path: Path) -> Trading212Client:
    """A client whose waits (retries, rate slots) pass at once, for the server's windows too."""
    clock = OffsetClock()

    def sleep(seconds: float) -> None:
        clock.offset += seconds
        server.advance(seconds)

    return make_client(server, tmp_path, clock=clock, sleep=sleep)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize(("fixture", "status", "read_error", "order_error", "words"), SHAPES,
                         ids=[f"{s[0].split('/')[1]}-{s[1]}" for s in SHAPES])
def test_every_shape_on_every_endpoint(t212_server: FakeTrading212, tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                       endpoint: str, fixture: str, status: int, read_error: type,
                                       order_error: type, words: str) -> None:
    method, path, call = ENDPOINTS[endpoint]
    t212_server.inject(method, path, "fixture", fixture=fixture, status=status, times=20)
    client = instant_client(t212_server, tmp_path)
    expected = read_error if method == "GET" else order_error
    if expected is BrokerError:  # a plain refusal: not one of the more specific kinds
        expected = OrderRejected if method != "GET" else BrokerError
    caplog.set_level(logging.DEBUG)
    with pytest.raises(BrokerError) as err:
        call(client)
    assert isinstance(err.value, expected), (type(err.value), str(err.value))
    if expected is BrokerError:
        assert not isinstance(err.value, AuthError | BrokerUnavailable | RateLimited | OrderRejected)
    text = str(err.value)
    assert words in text, text
    assert "\n" not in text and "Traceback" not in text and "<" not in text and len(text) < 400, text
    assert err.value.__cause__ is None  # no httpx error (it carries the request headers) chained
    assert_no_secret(text, repr(err.value), caplog.text, *getattr(err.value, "texts", ()))
    client.close()


def test_order_rejection_texts_carry_every_field(t212_server: FakeTrading212, tmp_path: Path) -> None:
    t212_server.inject("POST", "/equity/orders/market", "fixture", fixture="errors/precision_code.json", status=400)
    client = instant_client(t212_server, tmp_path)
    with pytest.raises(OrderRejected) as err:
        client.place_market_order("AAPL_US_EQ", -1)
    assert err.value.texts == ("invalid quantity precision {n}", "The order could not be placed")


def test_a_body_that_echoes_the_key_or_secret_is_scrubbed(t212_server: FakeTrading212, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    key, secret = SECRETS
    echo = {"code": "BadRequest", "message": f"request with key {key} and secret {secret} refused"}
    caplog.set_level(logging.DEBUG)
    client = instant_client(t212_server, tmp_path)
    for method, path, call in (ENDPOINTS["orders"], ENDPOINTS["market"]):
        t212_server.inject(method, path, "json", status=400, body=echo)
        with pytest.raises(BrokerError) as err:
            call(client)
        assert "********" in str(err.value)
        assert_no_secret(str(err.value), repr(err.value), caplog.text, *getattr(err.value, "texts", ()))


@pytest.mark.parametrize(("body", "expected"), [
    ('{"type": "/api-errors/price-too-far", "title": "Price too far", "status": 400, "detail": "Too far"}',
     ("price-too-far", "Too far")),
    ('{"code": "SellingEquityNotOwned", "clarification": "Not owned"}', ("selling-equity-not-owned", "Not owned")),
    ('{"code": "Unauthorized", "message": "Invalid API key"}', ("unauthorized", "Invalid API key")),
    ('{"code": "BadRequest", "message": "invalid quantity precision 3"}',
     ("bad-request", "invalid quantity precision 3")),
    ('{"type": "about:blank", "title": "Bad Request", "status": 400}', (None, "Bad Request")),
    ('"just a string"', (None, "just a string")),
    ("[1, 2]", (None, None)),
    ("", (None, None)),
    ("   \n", (None, None)),
    ("Too Many Requests\n", (None, "Too Many Requests")),
    ("<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>", (None, "502 Bad Gateway")),
    ("<html><body><h1>Service</h1>\n<p>down &amp; out</p><script>x()</script></body></html>",
     (None, "Service down & out")),
    ("<html><head><title>  </title></head></html>", (None, None)),
])
def test_parse_error_reads_every_shape(body: str, expected: tuple[str | None, str | None]) -> None:
    assert parse.parse_error(body) == expected


def test_parse_error_keeps_a_long_page_to_a_sentence() -> None:
    _, detail = parse.parse_error("x" * 5000)
    assert detail is not None and len(detail) <= parse.BODY_TEXT_MAX and detail.endswith("…")
    page, _ = fixture_body("errors/html_429.html")
    _, detail = parse.parse_error(page.decode())
    assert detail == "Access denied | live.trading212.com used Cloudflare to restrict access"
