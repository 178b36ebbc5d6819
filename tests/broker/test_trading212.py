"""Trading212Client over real HTTP against the fake Trading 212 server on loopback."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from papishares.broker import Broker
from papishares.broker import t212_parse as parse
from papishares.broker.trading212 import AUTH_401, Trading212Client
from papishares.config import Secret, load_settings
from papishares.core.errors import (
    AuthError,
    BrokerError,
    BrokerUnavailable,
    LiveOrdersForbidden,
    MalformedResponse,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimited,
)
from papishares.store.db import Store
from tests.conftest import t212_settings_for
from tests.fakes.t212_server import DEFAULT_KEY, DEFAULT_SECRET, FakeTrading212

SECRETS = (DEFAULT_KEY, DEFAULT_SECRET)


class OffsetClock:
    """Real time plus an offset a test can move forward (to step past periods and TTLs)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def make_client(server: FakeTrading212, tmp_path: Path, store: Store | None = None, **kw: object) -> Trading212Client:
    settings_kw = {k: kw.pop(k) for k in list(kw) if k in ("t212_env", "allow_live_orders", "http_timeout",
                                                           "t212_secret_key", "t212_api_base")}
    settings = t212_settings_for(server, tmp_path / "papishares.db", **settings_kw)
    kw.setdefault("retry_delays", (0.01,))
    return Trading212Client(settings, store or Store(tmp_path / "papishares.db"), **kw)  # type: ignore[arg-type]


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


# -- auth and base URLs ---------------------------------------------------------------------------
def test_basic_auth_reads_everything_and_implements_the_protocol(t212_server: FakeTrading212,
                                                                 tmp_path: Path) -> None:
    client = make_client(t212_server, tmp_path)
    assert isinstance(client, Broker)
    assert client.environment == "t212-demo"
    account = client.account_summary()
    assert account.currency == "GBP" and account.total_value == pytest.approx(15254.22)
    positions = {p.ticker: p for p in client.positions()}
    assert set(positions) >= {"AAPL_US_EQ", "FB_US_EQ", "RRl_EQ", "VUSAl_EQ", "SAPd_EQ"}
    rr = positions["RRl_EQ"]
    assert rr.currency == "GBX" and rr.wallet_current_value == pytest.approx(400 * 612.4 * 0.01)
    assert positions["AAPL_US_EQ"].quantity_available == 10  # 5 reserved by the pending stop
    orders = client.orders()
    stop = next(o for o in orders if o.type == "STOP")
    assert stop.is_sell and stop.stop_price == 160.0 and stop.is_pending
    assert client.instruments()["FB_US_EQ"].short_name == "META"
    exchanges = client.exchanges()
    event = exchanges[0].schedules[51][0]
    assert isinstance(event.date, datetime) and event.date.tzinfo is not None
    for kind in ("summary", "positions", "orders", "instruments", "exchanges"):
        assert abs(client.data_time(kind) - time.time()) < 30  # type: ignore[operator]


@pytest.mark.parametrize("suffix", ["/api/v0", "/api/v0/equity", "/api/v0/equity/"])
def test_both_base_url_forms_from_the_environment(t212_server: FakeTrading212, tmp_path: Path, suffix: str) -> None:
    env = {"T212_API_KEY": DEFAULT_KEY, "T212_SECRET_KEY": DEFAULT_SECRET, "T212_ENV": "demo",
           "T212_API_BASE": t212_server.url + suffix, "DB_PATH": str(tmp_path / "p.db")}
    settings = load_settings(env, dotenv_path=None)
    client = Trading212Client(settings, Store(settings.db_path))
    assert client.account_summary().currency == "GBP"
    assert client.environment == "t212-demo"


def test_legacy_key_only_header(tmp_path: Path) -> None:
    with FakeTrading212.running(secret=None, legacy=True) as server:
        client = make_client(server, tmp_path, t212_secret_key=None)
        assert len(client.positions()) == 8
        assert server.violations_total == 0


def test_401_message_is_clear_and_holds_no_secret(t212_server: FakeTrading212, tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    client = make_client(t212_server, tmp_path, t212_secret_key=Secret("wrong-secret-999"))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as err:
        client.positions()
    assert str(err.value) == AUTH_401
    assert t212_server.requests[-1][2] == 401 and len(t212_server.requests) == 1  # not retried
    texts = (str(err.value), repr(err.value), repr(client), caplog.text)
    assert_no_secret(*texts)
    assert not any("wrong-secret-999" in t for t in texts)


def test_legacy_header_refused_by_a_key_secret_account(t212_server: FakeTrading212, tmp_path: Path) -> None:
    client = make_client(t212_server, tmp_path, t212_secret_key=None)
    with pytest.raises(AuthError, match="401"):
        client.account_summary()


def test_403_names_the_missing_scope(t212_server: FakeTrading212, tmp_path: Path) -> None:
    t212_server.missing_scopes = {"portfolio"}
    client = make_client(t212_server, tmp_path)
    with pytest.raises(AuthError, match="'portfolio'") as err:
        client.positions()
    assert "403" in str(err.value)
    assert_no_secret(str(err.value))
    assert client.account_summary().currency == "GBP"  # other scopes still work


# -- rate limits and the cache --------------------------------------------------------------------
def test_cache_inside_the_period_spends_no_request(t212_server: FakeTrading212, tmp_path: Path) -> None:
    client = make_client(t212_server, tmp_path)
    first = client.account_summary()
    first_time = client.data_time("summary")
    t212_server.cash = 99999.0  # a change the cache must hide inside the period
    assert client.account_summary() == first
    assert client.data_time("summary") == first_time
    other = make_client(t212_server, tmp_path)  # another process on the same file
    assert other.account_summary() == first
    assert t212_server.count("GET", "/equity/account/summary") == 1


def test_429_waits_for_reset_then_retries(t212_server: FakeTrading212, tmp_path: Path) -> None:
    t212_server.inject("GET", "/equity/positions", "status", status=429, body="Too Many Requests")
    client = make_client(t212_server, tmp_path)
    start = time.time()
    assert len(client.positions()) == 8
    assert 0.9 < time.time() - start < 4
    assert t212_server.count("GET", "/equity/positions") == 2


def test_no_slot_serves_the_stale_answer_else_rate_limited(t212_server: FakeTrading212, tmp_path: Path) -> None:
    clock = OffsetClock()
    client = make_client(t212_server, tmp_path, clock=clock)
    with pytest.raises(RateLimited) as err:
        client.budget.block("GET /equity/orders", clock() + 120)
        client.orders()
    assert err.value.retry_at is not None and err.value.retry_at > clock() + 100
    fetched = client.account_summary()
    fetched_at = client.data_time("summary")
    clock.offset += 30  # long after the period...
    client.budget.block("GET /equity/account/summary", clock() + 120)  # ...but a 429 blocked it
    assert client.account_summary() == fetched
    assert client.data_time("summary") == fetched_at
    assert t212_server.count("GET", "/equity/orders") == 0


def test_threads_with_separate_stores_hammering_stay_within_limits(t212_server: FakeTrading212,
                                                                    tmp_path: Path) -> None:
    errors: list[Exception] = []
    served = [0]

    def hammer() -> None:
        client = make_client(t212_server, tmp_path, store=Store(tmp_path / "papishares.db"))
        end = time.time() + 3.0
        while time.time() < end:
            try:
                client.positions()
                client.account_summary()
                client.orders()
                served[0] += 1
            except RateLimited:
                pass
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
                return

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert served[0] > 20  # mostly answered from the shared cache
    assert t212_server.violations_total == 0
    assert 2 <= t212_server.count("GET", "/equity/positions") <= 4
    assert t212_server.count("GET", "/equity/account/summary") == 1


def test_two_processes_share_the_budget(t212_server: FakeTrading212, tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import time
        from papishares.config import Secret, load_settings
        from papishares.store.db import Store
        from papishares.broker.trading212 import Trading212Client
        s = load_settings(dotenv_path=None)
        c = Trading212Client(s, Store(s.db_path))
        end = time.time() + 2.5
        n = 0
        while time.time() < end:
            c.positions(); c.orders(); n += 1
        print(n)
    """)
    db = tmp_path / "papishares.db"
    Store(db).close()
    env = {**os.environ, **t212_server.env(str(db)), "PYTHONPATH": str(Path.cwd())}
    procs = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=60)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert t212_server.violations_total == 0
    assert 2 <= t212_server.count("GET", "/equity/positions") <= 4


# -- faults on reads ------------------------------------------------------------------------------
def test_500_non_json_is_retried(t212_server: FakeTrading212, tmp_path: Path) -> None:
    t212_server.inject("GET", "/equity/positions", "status", status=500)
    client = make_client(t212_server, tmp_path)
    assert len(client.positions()) == 8
    assert t212_server.count("GET", "/equity/positions") == 2


def test_persistent_5xx_gives_broker_unavailable_naming_the_endpoint(t212_server: FakeTrading212,
                                                                     tmp_path: Path) -> None:
    t212_server.inject("GET", "/equity/positions", "status", status=503, times=5)
    client = make_client(t212_server, tmp_path)
    with pytest.raises(BrokerUnavailable, match=r"unreachable \(GET /equity/positions: HTTP 503, 3 attempts"):
        client.positions()
    assert t212_server.count("GET", "/equity/positions") == 3


def test_timeouts_are_retried_then_unavailable(t212_server: FakeTrading212, tmp_path: Path) -> None:
    t212_server.inject("GET", "/equity/positions", "delay", seconds=0.6)
    client = make_client(t212_server, tmp_path, http_timeout=0.3)
    assert len(client.positions()) == 8  # the first attempt timed out, the second answered
    t212_server.inject("GET", "/equity/orders/{id}", "delay", seconds=0.6, times=3)
    with pytest.raises(BrokerUnavailable, match="unreachable.*no answer within 0.3 s"):
        client.order(1001)


def test_connection_refused_is_unavailable(tmp_path: Path) -> None:
    with FakeTrading212.running() as server:
        client = make_client(server, tmp_path)
    with pytest.raises(BrokerUnavailable, match="unreachable.*connection failed") as err:
        client.account_summary()
    assert_no_secret(str(err.value), repr(err.value.__cause__), repr(err.value.__context__))


# Contract change (issue 9, "one bad item costs one item"): a list whose item lacks its numbers
# (`[{"instrument": {"ticker": "X"}}]`) is no longer a MalformedResponse; see the tests below.
@pytest.mark.parametrize("fault", [{"kind": "garbage"}, {"kind": "json", "body": {"not": "a list"}}])
def test_malformed_bodies(t212_server: FakeTrading212, tmp_path: Path, fault: dict) -> None:
    t212_server.inject("GET", "/equity/positions", **fault)
    client = make_client(t212_server, tmp_path)
    with pytest.raises(MalformedResponse, match="GET /equity/positions"):
        client.positions()
    # the bad body was not cached: the next read (next second) is good
    assert len(client.positions()) == 8


@pytest.mark.parametrize("style", ["old", "problem"])
def test_read_error_bodies_of_both_shapes(t212_server: FakeTrading212, tmp_path: Path, style: str) -> None:
    t212_server.inject("GET", "/equity/orders", "error", status=400, style=style,
                       error_type="instrument-disabled", detail="Instrument is disabled")
    client = make_client(t212_server, tmp_path)
    with pytest.raises(BrokerError, match="instrument-disabled.*Instrument is disabled"):
        client.orders()


# -- metadata -------------------------------------------------------------------------------------
def test_instruments_cached_six_hours_and_unknown_ticker_refresh(t212_server: FakeTrading212,
                                                                 tmp_path: Path) -> None:
    clock = OffsetClock()
    client = make_client(t212_server, tmp_path, clock=clock)
    assert "NEWCO_US_EQ" not in client.instruments()
    t212_server.add_instrument("NEWCO_US_EQ", "New Co", "NEWC", "USD", 51)
    # an unknown ticker appears: refresh inside the 50 s window -> what is stored, no crash
    assert "NEWCO_US_EQ" not in client.instruments(refresh=True)
    clock.offset += 55
    t212_server.advance(55)
    assert "NEWCO_US_EQ" in client.instruments(refresh=True)
    t212_server.add_instrument("LATER_US_EQ", "Later", "LATR", "USD", 51)
    clock.offset += 3600
    t212_server.advance(3600)
    assert "LATER_US_EQ" not in client.instruments()  # inside 6 h: from the table
    t212_server.add_instrument("LAST_US_EQ", "Last", "LAST", "USD", 51)
    clock.offset += 6 * 3600
    t212_server.advance(6 * 3600)
    assert "LAST_US_EQ" in client.instruments()  # 7 h old: fetched again
    assert t212_server.count("GET", "/equity/metadata/instruments") == 3


def test_instruments_failure_keeps_the_stored_table(t212_server: FakeTrading212, tmp_path: Path) -> None:
    clock = OffsetClock()
    client = make_client(t212_server, tmp_path, clock=clock)
    stored = client.instruments()
    clock.offset += 7 * 3600
    t212_server.advance(7 * 3600)
    t212_server.inject("GET", "/equity/metadata/instruments", "status", status=502)
    assert client.instruments() == stored
    assert t212_server.count("GET", "/equity/metadata/instruments") == 2  # tried once, no retry wait


def test_exchanges_stored_and_read_back(t212_server: FakeTrading212, tmp_path: Path) -> None:
    client = make_client(t212_server, tmp_path)
    fetched = client.exchanges()
    again = make_client(t212_server, tmp_path).exchanges()  # from the table
    assert again == fetched
    assert t212_server.count("GET", "/equity/metadata/exchanges") == 1
    lse = next(e for e in again if e.id == 57)
    assert [ev.type for ev in lse.schedules[123]][:2] == ["OPEN", "CLOSE"]


# -- orders ---------------------------------------------------------------------------------------
def test_market_sell_fills_and_invalidates_the_cache(t212_server: FakeTrading212, tmp_path: Path) -> None:
    client = make_client(t212_server, tmp_path)
    before = {p.ticker: p.quantity for p in client.positions()}
    order = client.place_market_order("RRl_EQ", -100)
    assert order.is_sell and order.status == "FILLED"
    assert t212_server.order_posts[-1]["body"] == {"ticker": "RRl_EQ", "quantity": -100, "extendedHours": False}
    after = {p.ticker: p.quantity for p in client.positions()}
    assert after["RRl_EQ"] == before["RRl_EQ"] - 100


@pytest.mark.parametrize("style", ["old", "problem"])
def test_order_rejections_are_parsed(tmp_path: Path, style: str) -> None:
    with FakeTrading212.running(error_style=style) as server:
        client = make_client(server, tmp_path)
        with pytest.raises(OrderRejected) as err:
            client.place_market_order("RRl_EQ", -1.125)  # RR allows 2 decimals
        assert err.value.error_type == "quantity-precision-mismatch"
        # issue 9: the emulator names the precision ALLOWED, as the real broker does (was: the one sent)
        assert err.value.detail == "invalid quantity precision 2"
        assert err.value.status == 400
        with pytest.raises(OrderRejected) as err:
            client.place_market_order("AAPL_US_EQ", -12)  # 10 available: 5 are under a stop order
        assert err.value.error_type == "selling-equity-not-owned"
        server.inject("POST", "/equity/orders/market", "error", status=400, style=style,
                      error_type="quantity-precision-mismatch", detail="invalid quantity precision 2")
        with pytest.raises(OrderRejected, match=r"quantity-precision-mismatch\): invalid quantity precision 2"):
            client.place_market_order("MSFT_US_EQ", -1)
        assert len(server.order_posts) == 2  # (the injected one answered before the order code)
        assert server.count("POST", "/equity/orders/market") == 3


@pytest.mark.parametrize("fault", [{"kind": "place_then_500"}, {"kind": "status", "status": 503},
                                   {"kind": "place_then_hang", "seconds": 0.8}, {"kind": "garbage"}])
def test_order_posts_are_never_retried(t212_server: FakeTrading212, tmp_path: Path, fault: dict) -> None:
    t212_server.inject("POST", "/equity/orders/market", **fault)
    client = make_client(t212_server, tmp_path, http_timeout=0.4)
    with pytest.raises(OrderOutcomeUnknown, match="may or may not|may have been placed") as err:
        client.place_market_order("LLOYl_EQ", -100)
    assert t212_server.count("POST", "/equity/orders/market") == 1
    assert_no_secret(str(err.value))
    if fault["kind"].startswith("place_then"):  # the order reached the book: the outcome really was unknown
        assert len(t212_server.sells()) == 1


def test_order_on_unreachable_broker_is_outcome_unknown(tmp_path: Path) -> None:
    with FakeTrading212.running() as server:
        client = make_client(server, tmp_path)
    with pytest.raises(OrderOutcomeUnknown):
        client.place_market_order("LLOYl_EQ", -100)


def test_order_budget_never_exceeds_fifty_a_minute(t212_server: FakeTrading212, tmp_path: Path) -> None:
    client = make_client(t212_server, tmp_path)
    for _ in range(50):
        with pytest.raises(OrderRejected):
            client.place_market_order("NVDA_US_EQ", -1)  # not owned: refused, but spends the budget
    with pytest.raises(RateLimited, match="not sent"):
        client.place_market_order("NVDA_US_EQ", -1)
    assert t212_server.count("POST", "/equity/orders/market") == 50


def test_stop_order_cancel_and_order_lookup(t212_server: FakeTrading212, tmp_path: Path) -> None:
    client = make_client(t212_server, tmp_path)
    stop = client.place_stop_order("SAPd_EQ", -4, 160.0)
    assert stop.type == "STOP" and stop.stop_price == 160.0 and stop.is_pending
    assert t212_server.order_posts[-1]["body"]["timeValidity"] == "GOOD_TILL_CANCEL"
    assert client.order(stop.id) is not None
    client.cancel_order(stop.id)
    assert client.order(stop.id) is None  # 404 once gone
    with pytest.raises(OrderRejected) as err:
        client.cancel_order(stop.id)
    assert err.value.error_type == "entity-not-found"


def test_closed_market_queues_the_order(t212_server: FakeTrading212, tmp_path: Path) -> None:
    t212_server.set_market_open(123, False)
    client = make_client(t212_server, tmp_path)
    order = client.place_market_order("RRl_EQ", -50)
    assert order.status == "NEW"
    assert any(o.id == order.id for o in client.orders())


def test_live_guard_blocks_before_anything_is_sent(t212_server: FakeTrading212, tmp_path: Path) -> None:
    client = make_client(t212_server, tmp_path, t212_env="live")
    assert client.environment == "t212-live"
    for attempt in (lambda: client.place_market_order("RRl_EQ", -1),
                    lambda: client.place_stop_order("RRl_EQ", -1, 500.0),
                    lambda: client.cancel_order(1001)):
        with pytest.raises(LiveOrdersForbidden, match="PAPISHARES_ALLOW_LIVE_ORDERS"):
            attempt()
    assert t212_server.requests == []
    allowed = make_client(t212_server, tmp_path, t212_env="live", allow_live_orders=True)
    assert allowed.place_market_order("RRl_EQ", -1).status == "FILLED"


def test_no_key_is_a_clear_error(t212_server: FakeTrading212, tmp_path: Path) -> None:
    settings = t212_settings_for(t212_server, tmp_path / "p.db", t212_api_key=None)
    with pytest.raises(AuthError, match="T212_API_KEY"):
        Trading212Client(settings, Store(tmp_path / "p.db"))


ORDER_BODY = {"id": 4242, "ticker": "LLOYl_EQ", "type": "MARKET", "status": "NEW", "quantity": -100,
              "side": "SELL", "filledQuantity": 0}


@pytest.mark.parametrize("fault", [{"kind": "json", "status": 202, "body": ORDER_BODY},
                                   {"kind": "status", "status": 202, "body": ""},
                                   {"kind": "status", "status": 204, "body": ""},
                                   {"kind": "status", "status": 302, "body": ""}])
def test_an_order_answer_that_is_not_a_4xx_is_never_called_rejected(t212_server: FakeTrading212, tmp_path: Path,
                                                                     fault: dict) -> None:
    """Only a 4xx proves an order was not placed. A 2xx other than 200 (a proxy, an API change) may
    have placed it: read the order when there is one, else the outcome is unknown (reconciled)."""
    t212_server.inject("POST", "/equity/orders/market", **fault)
    client = make_client(t212_server, tmp_path)
    if fault["kind"] == "json":
        assert client.place_market_order("LLOYl_EQ", -100).id == 4242
    else:
        with pytest.raises(OrderOutcomeUnknown):
            client.place_market_order("LLOYl_EQ", -100)
    assert t212_server.count("POST", "/equity/orders/market") == 1


# Contract change (issue 9): an event without a date no longer fails the whole answer; the schedule
# keeps its id with no events (its hours are unknown), and a problem says so.
def test_a_schedule_event_without_a_date_leaves_that_schedule_without_hours(t212_server: FakeTrading212,
                                                                            tmp_path: Path) -> None:
    body = [{"id": 1, "name": "NASDAQ", "workingSchedules": [{"id": 51, "timeEvents": [{"date": "", "type": "OPEN"}]}]}]
    t212_server.inject("GET", "/equity/metadata/exchanges", "json", status=200, body=body)
    client = make_client(t212_server, tmp_path)
    got = client.exchanges()
    assert got[0].schedules == {51: ()} and "empty date" in parse.problems_of(got)[0].reason


# -- one bad item costs one item (issue 9) -------------------------------------------------------------
def _positions_with_nulls(server: FakeTrading212) -> list[dict]:
    """The server's real positions body, with the nulls real accounts have been seen to send."""
    body = [server.position_json(p) for p in server.positions.values()]
    by = {row["instrument"]["ticker"]: row for row in body}
    by["TSLA_US_EQ"]["currentPrice"] = None
    by["RRl_EQ"]["walletImpact"] = None
    body.append({"quantity": 3, "currentPrice": 10.0})  # cannot be named: left out
    return body


def test_a_position_with_nulls_is_marked_and_the_rest_is_kept(t212_server: FakeTrading212, tmp_path: Path) -> None:
    t212_server.inject("GET", "/equity/positions", "json", body=_positions_with_nulls(t212_server))
    client = make_client(t212_server, tmp_path)
    positions = client.positions()
    by = {p.ticker: p for p in positions}
    assert len(positions) == 8  # the unnamed item is left out, the two marked ones are kept
    assert by["TSLA_US_EQ"].current_price is None and "currentPrice is null" in by["TSLA_US_EQ"].data_note
    assert by["RRl_EQ"].wallet_current_value is None and "walletImpact is null" in by["RRl_EQ"].data_note
    assert by["AAPL_US_EQ"].data_note is None and by["AAPL_US_EQ"].current_price == 185.5
    texts = [x.text for x in parse.problems_of(positions)]
    assert any("position TSLA_US_EQ" in t and "never sold on" in t for t in texts)
    assert any("position #9" in t and "left out" in t for t in texts)


def test_orders_instruments_and_exchanges_cost_only_their_bad_item(t212_server: FakeTrading212,
                                                                   tmp_path: Path) -> None:
    orders = list(t212_server.orders.values())
    orders.append({"id": "not-a-number", "ticker": "MSFT_US_EQ", "type": "STOP", "quantity": -1})
    orders.append({"id": 77, "ticker": "AAPL_US_EQ", "type": "TRAILING_STOP", "status": "SOMETHING_NEW",
                   "quantity": -1, "side": "SELL"})  # unknown enum values are accepted
    t212_server.inject("GET", "/equity/orders", "json", body=orders)
    instruments = list(t212_server.instruments.values()) + [{"name": "no ticker"}, {"ticker": 42}]
    t212_server.inject("GET", "/equity/metadata/instruments", "json", body=instruments)
    exchanges = t212_server.exchanges_json()
    exchanges[0]["workingSchedules"][0]["timeEvents"].append({"date": None, "type": "CLOSE"})
    exchanges[0]["workingSchedules"][0]["timeEvents"].append({"date": "2026-11-24T20:00:00Z", "type": "NEW_EVENT"})
    exchanges.append({"name": "No id"})
    t212_server.inject("GET", "/equity/metadata/exchanges", "json", body=exchanges)
    client = make_client(t212_server, tmp_path)

    got = client.orders()
    assert {o.id for o in got} == {o["id"] for o in t212_server.orders.values()} | {77}
    odd = next(o for o in got if o.id == 77)
    assert (odd.type, odd.status, odd.is_sell, odd.is_pending) == ("TRAILING_STOP", "SOMETHING_NEW", True, True)
    assert [(x.ticker, x.skipped) for x in parse.problems_of(got)] == [("MSFT_US_EQ", True)]

    inst = client.instruments()
    assert len(inst) == len(t212_server.instruments) and len(parse.problems_of(inst)) == 2
    again = client.instruments()  # from SQLite now: the problems travel with the stored metadata
    assert len(parse.problems_of(again)) == 2

    ex = client.exchanges()
    assert len(ex) == len(t212_server.exchanges)  # "No id" left out
    first = next(e for e in ex if e.id == exchanges[0]["id"])
    sid = exchanges[0]["workingSchedules"][0]["id"]
    assert sid in first.schedules and first.schedules[sid] == ()  # kept, hours unknown
    kinds = [(x.kind, x.skipped) for x in parse.problems_of(ex)]
    assert ("exchange", False) in kinds and ("exchange", True) in kinds


def test_garbage_item_types_never_raise() -> None:
    odd = [None, 5, "x", [], {"instrument": None}, {"instrument": {"ticker": ""}},
           {"instrument": {"ticker": "A_US_EQ", "currency": "USD"}, "quantity": True, "currentPrice": "1",
            "averagePricePaid": float("nan"), "walletImpact": [], "createdAt": "yesterday"}]
    got = parse.parse_positions(odd)
    assert [p.ticker for p in got] == ["A_US_EQ"]
    note = got[0].data_note
    for field in ("quantity", "currentPrice", "averagePricePaid", "walletImpact"):
        assert field in note
    assert len(parse.problems_of(got)) == len(odd)
    assert parse.parse_orders([None, {"ticker": "B"}, {"id": 1, "ticker": "C"}])[0].ticker == "C"
    assert parse.parse_exchanges([None, {"id": 3, "workingSchedules": [None, {"id": 4, "timeEvents": [5]}]}])[0] \
        .schedules == {4: ()}


@pytest.mark.parametrize("available", [None, "missing", -1.0])
def test_unknown_availability_sells_nothing(available: object) -> None:
    """A null or missing quantityAvailableForTrading must not default to the whole quantity: shares
    in pies or under pending sells would be sold (or the one sell per breach spent on a rejection)."""
    row = {"instrument": {"ticker": "AAPL_US_EQ", "name": "Apple", "currency": "USD"}, "quantity": 15.5,
           "currentPrice": 185.5, "averagePricePaid": 170.25,
           "walletImpact": {"currency": "GBP", "currentValue": 2275.1}}
    if available != "missing":
        row["quantityAvailableForTrading"] = available
    (pos,) = parse.parse_positions([row])
    assert pos.quantity == 15.5 and pos.quantity_available == 0.0
