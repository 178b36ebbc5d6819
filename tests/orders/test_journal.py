"""The order journal on its own: intent before request, one request per key, every answer settled.

Over real HTTP (Trading212Client -> the fake Trading 212) and a real SQLite file, without the worker,
auto-sell or Telegram around it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from papishares.broker.trading212 import Trading212Client
from papishares.core.errors import LiveOrdersForbidden
from papishares.orders.journal import (
    MARKET_SELL,
    STOP_CANCEL,
    STOP_PLACE,
    OrderJournal,
    busy,
    papishares_order_ids,
    sent_since,
    unresolved,
)
from papishares.store import intents
from papishares.store.db import Store
from papishares.store.quantities import learned_precision
from tests.conftest import t212_settings_for
from tests.fakes.t212_server import FakeTrading212

TSLA = "TSLA_US_EQ"  # 3 shares in the fake's default scenario
US = 51  # its exchange schedule


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "j.db")
    yield s
    s.close()


@pytest.fixture
def client(t212_server: FakeTrading212, store: Store, tmp_path: Path) -> Iterator[Trading212Client]:
    t212_server.set_market_open(US, True)
    c = Trading212Client(t212_settings_for(t212_server, tmp_path / "j.db"), store)
    yield c
    c.close()


def row(store: Store, key: str) -> dict[str, Any] | None:
    rows = store.query("SELECT * FROM sell_intents WHERE key = ?", (key,))
    return rows[0] if rows else None


def market_posts(server: FakeTrading212) -> list[dict[str, Any]]:
    return [p for p in server.order_posts if p["path"] == "/equity/orders/market"]


# -- intents ---------------------------------------------------------------------------------------------------
def test_the_intent_is_recorded_before_anything_is_sent_then_settled(t212_server: FakeTrading212,
                                                                     client: Trading212Client, store: Store) -> None:
    clock = Clock()
    journal = OrderJournal(store, client, clock=clock)
    assert journal.record("k1", MARKET_SELL, TSLA, 1.0, origin="auto-sell", price=230.0, stop=206.0,
                          detail={"position_quantity": 3.0})
    recorded = row(store, "k1")
    assert recorded is not None and recorded["status"] == "intent" and t212_server.order_posts == []
    assert (recorded["kind"], recorded["origin"], recorded["quantity"], recorded["created_at"]) == (
        MARKET_SELL, "auto-sell", 1.0, clock.now)
    assert busy(store, TSLA) and [i["key"] for i in unresolved(store, MARKET_SELL)] == ["k1"]

    clock.now += 5
    out = journal.sell_market("k1", TSLA, 1.0)
    assert out.status == "filled" and out.proven and out.quantity == 1.0 and out.order is not None
    assert [p["body"] for p in market_posts(t212_server)] == [{"ticker": TSLA, "quantity": -1.0,
                                                               "extendedHours": False}]
    settled = row(store, "k1")
    assert settled is not None and settled["status"] == "filled" and settled["broker_order_id"] == out.order.id
    assert settled["updated_at"] == clock.now and json.loads(settled["detail"])["position_quantity"] == 3.0
    assert not busy(store, TSLA) and unresolved(store) == []
    assert t212_server.positions[TSLA].quantity == pytest.approx(2.0)


def test_one_key_is_one_request_ever(client: Trading212Client, store: Store) -> None:
    journal = OrderJournal(store, client)
    assert journal.record("k", MARKET_SELL, TSLA, 1.0, origin="telegram")
    assert not journal.record("k", MARKET_SELL, TSLA, 1.0, origin="telegram")  # a second press, a restart
    journal.sell_market("k", TSLA, 1.0)
    assert not journal.record("k", MARKET_SELL, TSLA, 1.0, origin="telegram")  # settled: still never again
    assert len(store.query("SELECT * FROM sell_intents")) == 1


def test_nothing_is_recorded_without_the_lease_a_passing_guard_or_while_the_ticker_is_busy(
        client: Trading212Client, store: Store) -> None:
    assert not OrderJournal(store, client, lease_ok=lambda: False).record("a", MARKET_SELL, TSLA, 1.0,
                                                                          origin="auto-sell")
    journal = OrderJournal(store, client)
    assert not journal.record("b", MARKET_SELL, TSLA, 1.0, origin="auto-sell", guard=lambda _conn: False)
    seen: list[bool] = []

    def guard(conn: Any) -> bool:  # read under the same write lock as the insert
        seen.append(conn.in_transaction)
        return True

    assert journal.record("c", STOP_PLACE, TSLA, 3.0, origin="broker-stop", stop_price=150.0, guard=guard)
    assert seen == [True]
    assert not journal.record("d", MARKET_SELL, TSLA, 1.0, origin="auto-sell")  # "c" is unsettled
    assert journal.record("e", MARKET_SELL, "AAPL_US_EQ", 1.0, origin="auto-sell")  # another ticker is free
    journal.set_status("c", "not_placed")
    intents.hold(store, TSLA, "unknown outcome", 0)
    assert busy(store, TSLA)
    assert not journal.record("f", MARKET_SELL, TSLA, 1.0, origin="auto-sell")  # held until re-armed
    assert [r["key"] for r in store.query("SELECT key FROM sell_intents ORDER BY id")] == ["c", "e"]


def test_sent_since_names_every_ticker_with_a_request_at_or_after_a_moment(client: Trading212Client,
                                                                          store: Store) -> None:
    clock = Clock(100.0)
    journal = OrderJournal(store, client, clock=clock)
    journal.record("a", STOP_PLACE, TSLA, 3.0, origin="broker-stop", stop_price=150.0)
    journal.set_status("a", "rejected")
    clock.now = 200.0
    journal.record("b", MARKET_SELL, "AAPL_US_EQ", 1.0, origin="auto-sell")
    assert sent_since(store, 100.0) == {TSLA, "AAPL_US_EQ"}
    assert sent_since(store, 150.0) == {"AAPL_US_EQ"} and sent_since(store, 201.0) == frozenset()


def test_drop_forgets_only_an_intent_never_sent(client: Trading212Client, store: Store) -> None:
    journal = OrderJournal(store, client)
    journal.record("a", MARKET_SELL, TSLA, 1.0, origin="auto-sell")
    journal.record("b", MARKET_SELL, "AAPL_US_EQ", 1.0, origin="auto-sell")
    journal.set_status("b", "unknown")
    journal.drop("a")
    journal.drop("b")  # sent, outcome unknown: never forgotten
    assert row(store, "a") is None and row(store, "b") is not None


# -- answers ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "params"), [("place_then_500", {}), ("status", {"status": 502}),
                                              ("garbage", {})])
def test_an_answer_that_proves_nothing_leaves_the_intent_unknown(t212_server: FakeTrading212,
                                                                 client: Trading212Client, store: Store,
                                                                 kind: str, params: dict[str, Any]) -> None:
    t212_server.inject("POST", "/equity/orders/market", kind, **params)
    journal = OrderJournal(store, client)
    journal.record("k", MARKET_SELL, TSLA, 1.0, origin="auto-sell")
    out = journal.sell_market("k", TSLA, 1.0)
    assert out.status == "unknown" and not out.proven and "outcome is unknown" in out.message
    assert row(store, "k")["status"] == "unknown"  # type: ignore[index]
    assert busy(store, TSLA)  # its owner reconciles it before anything else is sent for TSLA
    assert t212_server.count("POST", "/equity/orders/market") == 1


def test_a_rate_limited_request_was_never_placed_and_its_intent_goes(t212_server: FakeTrading212,
                                                                     client: Trading212Client, store: Store) -> None:
    t212_server.inject("POST", "/equity/orders/market", "status", status=429)
    journal = OrderJournal(store, client)
    journal.record("k", MARKET_SELL, TSLA, 1.0, origin="auto-sell")
    out = journal.sell_market("k", TSLA, 1.0)
    assert out.status == "deferred" and out.proven and "not sent yet" in out.message
    assert row(store, "k") is None and not busy(store, TSLA)


def test_a_rejection_is_final_and_keeps_the_brokers_error(t212_server: FakeTrading212, client: Trading212Client,
                                                         store: Store) -> None:
    t212_server.inject("POST", "/equity/orders/market", "error", status=400, error_type="selling-equity-not-owned",
                       detail="you do not own it")
    journal = OrderJournal(store, client)
    journal.record("k", MARKET_SELL, TSLA, 1.0, origin="auto-sell")
    out = journal.sell_market("k", TSLA, 1.0)
    assert out.status == "rejected" and out.error is not None and out.error.error_type == "selling-equity-not-owned"
    assert row(store, "k")["status"] == "rejected"  # type: ignore[index]
    assert t212_server.count("POST", "/equity/orders/market") == 1
    assert learned_precision(store, TSLA) is None  # not a precision rejection: nothing learned, no retry


def test_a_precision_rejection_gets_one_truncated_retry_and_is_learned(t212_server: FakeTrading212,
                                                                      client: Trading212Client, store: Store) -> None:
    t212_server.add_position("RRl_EQ", 10.5678, 7000.0, 7000.0)
    t212_server.inject("POST", "/equity/orders/market", "error", status=400,
                       error_type="quantity-precision-mismatch", detail="invalid quantity precision 2")
    journal = OrderJournal(store, client, journal_kind="brokerstop")
    journal.record("k", MARKET_SELL, "RRl_EQ", 10.5678, origin="emergency")
    out = journal.sell_market("k", "RRl_EQ", 10.5678)
    assert out.status == "filled" and out.quantity == 10.56
    assert t212_server.count("POST", "/equity/orders/market") == 2  # the injected rejection, then the retry
    assert [p["body"]["quantity"] for p in market_posts(t212_server)] == [-10.56]
    assert row(store, "k")["quantity"] == 10.56  # type: ignore[index]
    assert learned_precision(store, "RRl_EQ") == 2
    [retry] = store.journal_entries(50, kind="brokerstop")
    assert retry["action"] == "retry" and "10.56 (2 decimals)" in retry["message"]


def test_live_orders_are_refused_before_sending(t212_server: FakeTrading212, store: Store, tmp_path: Path) -> None:
    live = Trading212Client(t212_settings_for(t212_server, tmp_path / "j.db", t212_env="live"), store)
    try:
        journal = OrderJournal(store, live)
        journal.record("k", MARKET_SELL, TSLA, 1.0, origin="auto-sell")
        out = journal.sell_market("k", TSLA, 1.0)
        assert out.status == "rejected" and isinstance(out.cause, LiveOrdersForbidden)
        assert t212_server.order_posts == [] and row(store, "k")["status"] == "rejected"  # type: ignore[index]
    finally:
        live.close()


def test_a_stop_is_placed_then_cancelled_and_a_second_cancel_is_refused(t212_server: FakeTrading212,
                                                                       client: Trading212Client,
                                                                       store: Store) -> None:
    journal = OrderJournal(store, client)
    journal.record("place", STOP_PLACE, TSLA, 3.0, origin="broker-stop", stop_price=150.0)
    placed = journal.place_stop("place", TSLA, 3.0, 150.0)
    assert placed.status == "placed" and placed.order is not None
    order_id = placed.order.id
    assert t212_server.orders[order_id]["stopPrice"] == 150.0 and t212_server.orders[order_id]["quantity"] == -3.0
    assert order_id in papishares_order_ids(store)  # the Orders page marks it as Papishares'
    journal.record("cancel", STOP_CANCEL, TSLA, 3.0, origin="broker-stop", order_id=order_id)
    cancelled = journal.cancel("cancel", order_id)
    assert cancelled.status == "cancelled" and order_id not in t212_server.orders
    assert row(store, "cancel")["status"] == "cancelled"  # type: ignore[index]
    journal.record("again", STOP_CANCEL, TSLA, 3.0, origin="broker-stop", order_id=order_id)
    again = journal.cancel("again", order_id)
    assert again.status == "rejected" and "refused" in again.message  # 404: filled or cancelled already
    assert row(store, "again")["broker_order_id"] == order_id  # type: ignore[index]
