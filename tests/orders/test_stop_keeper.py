"""Stops kept at the broker, over real HTTP against the Trading 212 emulator, cycle by cycle.

The emulator holds resting SELL STOP orders that reserve shares and fill as market sells when
the price reaches them (tests/fakes/t212_server.py, `trigger_resting`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from papishares.broker.trading212 import Trading212Client
from papishares.market.none import NoMarketData
from papishares.orders import stop_keeper
from papishares.orders.stop_plan import tick_down
from papishares.snapshot.service import Service
from papishares.store.db import Store
from papishares.store.lease import read_lease
from papishares.worker.loop import Worker
from tests.fakes.t212_server import FakeTrading212
from tests.orders.test_autosell import Rig
from tests.support import start_worker, wait_for

TSLA = "TSLA_US_EQ"  # 3 @ 250 USD, price 230; with a ~15k account its calculated stop is about 205.7
AAPL = "AAPL_US_EQ"  # 15 @ 170.25, price 185.5, the user's own stop for 5 at 160


def only(server: FakeTrading212, *tickers: str) -> None:
    """Keep only these positions (and the user's orders on them); cash keeps the account near 15k."""
    with server.lock:
        for t in list(server.positions):
            if t not in tickers:
                server.remove_position(t)
        for oid in [i for i, o in server.orders.items() if o["ticker"] not in tickers]:
            del server.orders[oid]
        server.cash = 14000.0


def stops_at_broker(server: FakeTrading212, ticker: str = TSLA) -> list[dict[str, Any]]:
    return [o for o in server.orders.values() if o["ticker"] == ticker and o["type"] == "STOP" and o["quantity"] < 0]


def stop_posts(server: FakeTrading212) -> list[dict[str, Any]]:
    return [p for p in server.order_posts if p["path"].endswith("/stop")]


def market_posts(server: FakeTrading212) -> list[dict[str, Any]]:
    return [p for p in server.order_posts if p["path"].endswith("/market")]


def journal(rig: Rig, action: str | None = None, ticker: str = TSLA) -> list[dict[str, Any]]:
    rows = [r for r in rig.store.journal_entries(500, kind="brokerstop") if r["ticker"] == ticker]
    return [r for r in rows if action is None or r["action"] == action]


def make_rig(server: FakeTrading212, db: Path, *tickers: str, **overrides: Any) -> Rig:
    only(server, *(tickers or (TSLA,)))
    values: dict[str, Any] = dict(broker_stops=True, broker_stop_interval=0.0, broker_stop_min_move=0.5)
    values.update(overrides)
    dry_run = bool(values.pop("dry_run", False))
    return Rig(server, db, dry_run=dry_run, **values)


@pytest.fixture
def rig(t212_server: FakeTrading212, tmp_path: Path) -> Iterator[Rig]:
    r = make_rig(t212_server, tmp_path / "p.db")
    yield r
    r.close()


def test_places_one_managed_stop_and_the_snapshot_shows_it(rig: Rig) -> None:
    rig.cycle(wait=False)
    [post] = stop_posts(rig.server)
    snap = rig.worker.previous
    assert snap is not None
    stop = snap.position(TSLA).stop_loss_price
    assert post["body"] == {"ticker": TSLA, "quantity": -3, "stopPrice": tick_down(stop),
                            "timeValidity": "GOOD_TILL_CANCEL"}
    assert stop - 0.01 < post["body"]["stopPrice"] <= stop
    assert len(stops_at_broker(rig.server)) == 1
    for _ in range(3):
        rig.cycle()
    assert len(stop_posts(rig.server)) == 1  # in place: nothing more sent
    view = rig.worker.previous.position(TSLA)
    assert (view.broker_stop_price, view.broker_stop_quantity) == (post["body"]["stopPrice"], 3.0)
    assert view.protection == "broker"
    assert (view.manual_stop_loss_price, view.manual_stop_loss_quantity) == (None, 0.0)  # ours, not the user's
    assert [r["action"] for r in journal(rig)] == ["placed"]


def test_ratchet_one_cancel_and_one_placement_per_step_never_down(rig: Rig) -> None:
    rig.cycle(wait=False)
    prices = [260.0, 262.0, 262.5, 261.0, 255.0, 270.0]
    for price in prices:
        rig.server.set_price(TSLA, price)
        before = (rig.server.count("DELETE", "/equity/orders/1"), len(stop_posts(rig.server)))
        rig.cycle()
        after = (rig.server.count("DELETE", "/equity/orders/1"), len(stop_posts(rig.server)))
        moved = after[1] - before[1]
        assert after[0] - before[0] == moved <= 1  # one cancel + one placement per step, or nothing
        assert len(stops_at_broker(rig.server)) == 1
    placed = [p["body"]["stopPrice"] for p in stop_posts(rig.server)]
    assert len(placed) == 4  # the first, then 260, 262 and 270 (262.5 is < 0.5 % up; 261 and 255 lower)
    assert placed == sorted(placed) and len(set(placed)) == len(placed)
    moves = journal(rig, "moved")
    assert len(moves) == 3 and all(json.loads(m["data"])["unprotected_s"] < 3.0 for m in moves)


def test_the_broker_stop_sells_and_the_next_cycle_records_it_without_sending(rig: Rig) -> None:
    rig.cycle(wait=False)
    [order] = stops_at_broker(rig.server)
    rig.server.set_price(TSLA, order["stopPrice"] - 1.0)  # the emulator fills the resting stop
    assert TSLA not in rig.server.positions
    posts = len(rig.server.order_posts)
    rig.cycle()
    rig.cycle()
    assert len(rig.server.order_posts) == posts
    [filled] = journal(rig, "filled")
    assert "Sold at the broker" in filled["message"] and json.loads(filled["data"])["exit_reason"] == "broker stop"
    assert len(rig.alerts("broker_stop_filled")) == 1
    assert stop_keeper.managed_rows(rig.store) == {}


@pytest.fixture
def slow_rig(t212_server: FakeTrading212, tmp_path: Path) -> Iterator[Rig]:
    """Auto-sell on; a managed stop is moved at most hourly (so it can sit below the calculated one)."""
    r = make_rig(t212_server, tmp_path / "p.db", broker_stop_interval=3600.0)
    r.store.set_autosell(True)
    yield r
    r.close()


def test_auto_sell_does_not_sell_shares_a_managed_stop_covers(slow_rig: Rig) -> None:
    r = slow_rig
    r.cycle(wait=False)
    [order] = stops_at_broker(r.server)
    r.server.set_market_open(51, False)  # the broker's stop cannot fill while the market is closed
    r.server.set_price(TSLA, order["stopPrice"] - 5.0)
    r.cycle()
    assert market_posts(r.server) == []  # market closed anyway; and covered by the managed stop
    r.server.set_market_open(51, True)  # opens: the resting stop fills at once
    assert TSLA not in r.server.positions
    for _ in range(5):  # pending orders are fetched at most every 5 s
        r.cycle()
    assert market_posts(r.server) == []
    assert len(journal(r, "filled")) == 1


def test_emergency_exit_cancels_the_lower_stop_then_sells_once(slow_rig: Rig) -> None:
    r = slow_rig
    r.cycle(wait=False)
    [order] = stops_at_broker(r.server)
    r.server.set_price(TSLA, 300.0)  # the calculated stop rises to ~256; the move waits an hour
    r.cycle()
    view = r.worker.previous.position(TSLA)
    assert len(stop_posts(r.server)) == 1 and view.stop_loss_price > order["stopPrice"] + 20
    r.server.set_price(TSLA, view.stop_loss_price - 1.0)  # at the calculated stop, above the broker's
    r.cycle()
    assert stops_at_broker(r.server) == [] and r.alerts("broker_stop_emergency")
    assert market_posts(r.server) == []  # the released shares show in the next fresh answer
    r.cycle()
    r.cycle()
    assert [p["body"]["quantity"] for p in market_posts(r.server)] == [-3]
    assert TSLA not in r.server.positions and len(stop_posts(r.server)) == 1


def test_a_partial_manual_stop_leaves_the_rest_to_the_managed_stop(t212_server: FakeTrading212,
                                                                   tmp_path: Path) -> None:
    r = make_rig(t212_server, tmp_path / "p.db", AAPL)
    try:
        r.cycle(wait=False)
        [post] = stop_posts(r.server)
        assert post["body"]["ticker"] == AAPL and post["body"]["quantity"] == -10  # 15 held, the user's 5 left
        r.cycle()
        view = r.worker.previous.position(AAPL)
        assert (view.manual_stop_loss_price, view.manual_stop_loss_quantity) == (160.0, 5.0)
        assert view.broker_stop_quantity == 10.0 and view.protection == "broker"
        assert len(stops_at_broker(r.server, AAPL)) == 2  # the user's and ours: theirs untouched
    finally:
        r.close()


def test_the_user_cancelling_the_managed_stop_leaves_the_position_out(rig: Rig) -> None:
    rig.cycle(wait=False)
    [order] = stops_at_broker(rig.server)
    del rig.server.orders[order["id"]]  # the user cancels it in the app (nothing else on record)
    rig.cycle()
    rig.cycle()
    assert len(stop_posts(rig.server)) == 1  # not replaced
    assert TSLA in stop_keeper.exclusions(rig.store) and len(rig.alerts("broker_stop_cancelled")) == 1
    assert rig.worker.previous.position(TSLA).protection == "alert"
    assert stop_keeper.include(rig.store, TSLA)
    rig.cycle()
    assert len(stop_posts(rig.server)) == 2 and len(stops_at_broker(rig.server)) == 1


@pytest.mark.parametrize(("status", "fields"), [
    ("EXPIRED", {}),  # a status the spec's enum lacks (new values appear)
    ("CANCELLED", {"cancelReason": "GTC order expired"}),  # an expiry shown as a cancel, marked
])
def test_an_expired_stop_is_placed_again_and_said_once(rig: Rig, status: str, fields: dict[str, Any]) -> None:
    rig.server.allow_spec_violations = status == "EXPIRED"  # EXPIRED is not in the spec's status enum
    rig.cycle(wait=False)
    [order] = stops_at_broker(rig.server)
    rig.server.end_order(order["id"], status, history=True, **fields)
    for _ in range(3):
        rig.cycle()
    assert TSLA not in stop_keeper.exclusions(rig.store)
    [again] = stops_at_broker(rig.server)
    assert again["id"] != order["id"] and again["quantity"] == -3 and len(stop_posts(rig.server)) == 2
    assert len(rig.alerts("broker_stop_expired")) == 1 and rig.alerts("broker_stop_cancelled") == []
    [expired] = journal(rig, "expired")
    assert json.loads(expired["data"])["order_id"] == order["id"]
    placed = [i for i in rig.intents() if i["kind"] == "stop_place"]
    assert [i["status"] for i in placed] == ["placed", "placed"]  # journalled like any placement
    assert rig.worker.previous.position(TSLA).protection == "broker"


@pytest.mark.parametrize(("status", "history"), [("CANCELLED", True), ("REJECTED", True), ("CANCELLED", False)])
def test_a_stop_gone_without_proof_of_expiry_leaves_the_position_out(rig: Rig, status: str, history: bool) -> None:
    """INTERFACE.md: a managed stop gone without a fill is "cancelled outside Papishares" unless the
    broker shows it expired; it is never put back behind the user's back."""
    rig.cycle(wait=False)
    [order] = stops_at_broker(rig.server)
    rig.server.end_order(order["id"], status, history=history)
    for _ in range(3):
        rig.cycle()
    assert TSLA in stop_keeper.exclusions(rig.store)
    assert stops_at_broker(rig.server) == [] and len(stop_posts(rig.server)) == 1
    assert len(rig.alerts("broker_stop_cancelled")) == 1 and rig.alerts("broker_stop_expired") == []


def test_a_stop_whose_end_cannot_be_read_yet_is_not_replaced_meanwhile(rig: Rig) -> None:
    rig.cycle(wait=False)
    [order] = stops_at_broker(rig.server)
    rig.server.end_order(order["id"], "CANCELLED", history=True)
    rig.server.inject("GET", "/equity/history/orders", "status", status=503, times=100)
    rig.cycle()  # the history cannot be read: nothing decided, nothing placed
    assert len(stop_posts(rig.server)) == 1 and TSLA not in stop_keeper.exclusions(rig.store)
    rig.server.faults.clear()
    for _ in range(3):
        rig.cycle()
    assert TSLA in stop_keeper.exclusions(rig.store) and len(stop_posts(rig.server)) == 1


def null_quantity_next(rig: Rig) -> None:
    """The next positions answer serves TSLA with "quantity": null (any field can be null)."""
    from tests.core.test_data_quality import positions_body

    rig.server.inject("GET", "/equity/positions", "json", body=positions_body(rig.server, {TSLA: {"quantity": None}}))


def test_a_stop_gone_while_the_quantity_is_null_is_decided_on_good_data(rig: Rig) -> None:
    rig.cycle(wait=False)
    [order] = stops_at_broker(rig.server)
    del rig.server.orders[order["id"]]  # the user cancels it in the app
    null_quantity_next(rig)
    assert rig.cycle().ok  # was a TypeError out of the cycle: nothing acted for any position
    assert TSLA not in stop_keeper.exclusions(rig.store) and len(stop_posts(rig.server)) == 1
    rig.cycle()
    assert TSLA in stop_keeper.exclusions(rig.store) and len(stop_posts(rig.server)) == 1


def test_an_unknown_cancel_while_the_quantity_is_null_is_decided_on_good_data(rig: Rig) -> None:
    rig.cycle(wait=False)
    rig.server.inject("DELETE", "/equity/orders/{id}", "place_then_500")  # cancelled, then 500: unknown
    rig.server.set_price(TSLA, 260.0)  # a move
    rig.cycle()
    assert [i["status"] for i in rig.intents() if i["kind"] == "stop_cancel"] == ["unknown"]
    null_quantity_next(rig)
    assert rig.cycle().ok
    assert [i["status"] for i in rig.intents() if i["kind"] == "stop_cancel"] == ["unknown"]
    for _ in range(2):
        rig.cycle()
    assert [i["status"] for i in rig.intents() if i["kind"] == "stop_cancel"] == ["cancelled"]
    assert len(stops_at_broker(rig.server)) == 1 and len(stop_posts(rig.server)) == 2


def test_an_order_listed_as_expired_is_not_pending() -> None:
    from papishares.core.models import Order

    assert not Order(1, TSLA, "STOP", "EXPIRED", -3.0).is_pending
    assert Order(1, TSLA, "STOP", "SOMETHING_NEW", -3.0).is_pending  # an unknown status still counts as pending


def test_switching_off_per_position_cancels_the_managed_stop(rig: Rig) -> None:
    rig.cycle(wait=False)
    stop_keeper.exclude(rig.store, TSLA, "the user switched it off")
    rig.cycle()
    assert stops_at_broker(rig.server) == [] and len(journal(rig, "cancelled")) == 1
    rig.cycle()
    assert len(stop_posts(rig.server)) == 1


def test_a_500_after_the_placement_is_adopted_never_resent(rig: Rig) -> None:
    rig.server.inject("POST", "/equity/orders/stop", "place_then_500")
    rig.cycle(wait=False)
    assert len(stop_posts(rig.server)) == 1 and len(stops_at_broker(rig.server)) == 1
    rig.cycle()
    rig.cycle()
    assert len(stop_posts(rig.server)) == 1
    [row] = stop_keeper.managed_rows(rig.store).values()
    assert row["order_id"] == stops_at_broker(rig.server)[0]["id"]
    assert journal(rig, "reconciled")


def test_a_timeout_on_placement_is_reconciled_never_resent(t212_server: FakeTrading212, tmp_path: Path) -> None:
    t212_server.inject("POST", "/equity/orders/stop", "place_then_hang", seconds=2.0)
    r = make_rig(t212_server, tmp_path / "p.db", http_timeout=1.0)
    try:
        r.cycle(wait=False)
        assert r.store.query("SELECT status FROM sell_intents")[0]["status"] == "unknown"
        r.cycle()
        r.cycle()
        assert len(stop_posts(r.server)) == 1 and len(stops_at_broker(r.server)) == 1
        assert len(stop_keeper.managed_rows(r.store)) == 1
    finally:
        r.close()


def test_a_502_placement_not_placed_is_placed_again_after_reconciling(rig: Rig) -> None:
    rig.worker.keeper.unknown_grace = 0.0
    rig.server.inject("POST", "/equity/orders/stop", "status", status=502)  # not placed, but who knows
    rig.cycle(wait=False)
    assert stops_at_broker(rig.server) == []
    rig.cycle()  # fresh orders show none: not placed
    rig.cycle()  # placed now, once
    rig.cycle()
    assert rig.server.count("POST", "/equity/orders/stop") == 2 and len(stops_at_broker(rig.server)) == 1
    statuses = [r["status"] for r in rig.store.query("SELECT status FROM sell_intents ORDER BY id")]
    assert statuses == ["not_placed", "placed"]


def test_a_500_after_the_cancel_of_a_move_never_leaves_two_stops(rig: Rig) -> None:
    rig.cycle(wait=False)
    rig.server.inject("DELETE", "/equity/orders/{id}", "place_then_500")  # cancelled, then 500
    rig.server.set_price(TSLA, 260.0)
    rig.cycle()
    assert stops_at_broker(rig.server) == [] and len(stop_posts(rig.server)) == 1  # no placement on an unknown
    for _ in range(3):
        rig.cycle()
        assert len(stops_at_broker(rig.server)) <= 1
    assert len(stops_at_broker(rig.server)) == 1 and len(stop_posts(rig.server)) == 2
    assert stops_at_broker(rig.server)[0]["stopPrice"] > stop_posts(rig.server)[0]["body"]["stopPrice"]


def test_a_cancel_refused_with_a_502_keeps_the_old_stop_and_tries_again(rig: Rig) -> None:
    rig.cycle(wait=False)
    rig.server.inject("DELETE", "/equity/orders/{id}", "status", status=502)  # not cancelled
    rig.server.set_price(TSLA, 260.0)
    rig.cycle()
    assert len(stops_at_broker(rig.server)) == 1 and len(stop_posts(rig.server)) == 1
    rig.cycle()  # reconciled: still pending, not cancelled
    rig.cycle()  # moved now
    rig.cycle()
    assert len(stops_at_broker(rig.server)) == 1 and len(stop_posts(rig.server)) == 2


def test_a_worker_without_the_lease_never_places(rig: Rig) -> None:
    rig.store.execute("UPDATE lease SET owner = 'someone-else', expires_at = ?", (time.time() + 60,))
    rig.cycle(wait=False)
    assert rig.server.order_posts == []


def test_two_workers_one_database_one_managed_stop(rig: Rig) -> None:
    rig.cycle(wait=False)
    other_store = Store(rig.store.path)
    other_broker = Trading212Client(rig.settings, other_store)
    try:
        other = Worker(rig.settings, Service(rig.settings, other_store, other_broker, NoMarketData()))
        assert not other.lease.try_acquire()[0]
        rig.server.set_price(TSLA, 260.0)
        time.sleep(1.3)
        other.cycle()  # called without the lease (as after losing it): the journal refuses every intent
        assert len(stop_posts(rig.server)) == 1
        rig.cycle()
        assert len(stop_posts(rig.server)) == 2 and len(stops_at_broker(rig.server)) == 1
        other.notifier.close()
    finally:
        other_broker.close()
        other_store.close()


def test_refusal_on_live_said_once_auto_sell_remains(t212_server: FakeTrading212, tmp_path: Path) -> None:
    t212_server.refuse_stop_orders = "order-type-not-supported"
    r = make_rig(t212_server, tmp_path / "p.db", t212_env="live", allow_live_orders=True)
    r.store.set_autosell(True)
    try:
        for _ in range(3):
            r.cycle()
        assert len(stop_posts(r.server)) == 1  # refused once, not retried within the day
        assert len(r.alerts("broker_stop_refused")) == 1 and len(journal(r, "refused")) == 1
        assert stop_keeper.refused_now(r.store, time.time())[0]
        assert r.worker.previous.position(TSLA).protection == "worker"  # auto-sell on, heartbeat fresh
        r.server.set_price(TSLA, 200.0)
        r.cycle()
        assert [p["body"]["quantity"] for p in market_posts(r.server)] == [-3]  # the worker's auto-sell
    finally:
        r.close()


def test_live_without_the_allow_flag_sends_nothing(t212_server: FakeTrading212, tmp_path: Path) -> None:
    r = make_rig(t212_server, tmp_path / "p.db", t212_env="live")
    try:
        r.cycle(wait=False)
        r.cycle()
        assert r.server.order_posts == [] and len(journal(r, "skipped", ticker=None)) == 1
    finally:
        r.close()


def test_dry_run_records_would_place_only(t212_server: FakeTrading212, tmp_path: Path) -> None:
    r = make_rig(t212_server, tmp_path / "p.db", dry_run=True)
    try:
        r.cycle(wait=False)
        r.cycle()
        assert r.server.order_posts == [] and len(journal(r, "would_place")) == 1
    finally:
        r.close()


def test_the_dashboard_switch_overrides_the_environment(rig: Rig) -> None:
    stop_keeper.set_enabled(rig.store, False)
    rig.cycle(wait=False)
    assert rig.server.order_posts == []
    stop_keeper.set_enabled(rig.store, None)
    rig.cycle()
    assert len(stop_posts(rig.server)) == 1
    stop_keeper.set_enabled(rig.store, False)
    rig.cycle()
    assert stops_at_broker(rig.server) == [] and len(journal(rig, "cancelled")) == 1


def test_sigkilled_worker_then_the_price_falls_the_restarted_worker_only_records(
        t212_server: FakeTrading212, tmp_path: Path) -> None:
    only(t212_server, TSLA)
    db = tmp_path / "k.db"
    env = t212_server.env(str(db)) | {"PAPISHARES_BROKER_STOPS": "on", "PAPISHARES_POSITIONS_INTERVAL": "1",
                                      "PAPISHARES_WORKER_LEASE_SECONDS": "5"}
    proc = start_worker(env, os.getcwd())
    try:
        wait_for(lambda: stops_at_broker(t212_server), timeout=30)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    [order] = stops_at_broker(t212_server)
    posts = len(t212_server.order_posts)
    t212_server.set_price(TSLA, order["stopPrice"] - 2.0)  # nobody runs: the broker's stop sells
    assert TSLA not in t212_server.positions
    def lease_expired() -> bool:  # the killed worker's lease (5 s after its last renewal, however late)
        store = Store(db)
        try:
            holder = read_lease(store)
            return holder is None or (holder.expires_at or 0) < time.time() - 0.2
        finally:
            store.close()

    wait_for(lease_expired, timeout=30)
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("T212_", "TELEGRAM_", "PAPISHARES_"))}
    run_env |= env | {"PAPISHARES_MARKET_DATA": "none"}
    done = subprocess.run([sys.executable, "-m", "papishares", "worker", "--once"], env=run_env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(t212_server.order_posts) == posts
    store = Store(db)
    try:
        filled = [r for r in store.journal_entries(200, kind="brokerstop") if r["action"] == "filled"]
        assert len(filled) == 1 and filled[0]["ticker"] == TSLA
    finally:
        store.close()


# -- offline: the built-in demo broker and the CLI ----------------------------------------------------
def test_demo_broker_keeps_stops_offline_and_the_cli_switches_a_position(tmp_path: Path) -> None:
    from tests.worker.test_loop import base_env, papishares, query

    db = tmp_path / "d.db"
    env = base_env(db, PAPISHARES_DEMO_ALWAYS_OPEN="true", PAPISHARES_BROKER_STOPS="on")
    assert papishares(["worker", "--once"], env, tmp_path).returncode == 0
    managed = query(db, "SELECT ticker, order_id FROM managed_stops")
    assert managed, "the demo worker placed no stop at the broker"
    pending = query(db, "SELECT id, ticker, type, quantity FROM demo_orders WHERE status = 'NEW'")
    assert all(any(p["id"] == m["order_id"] and p["type"] == "STOP" and p["quantity"] < 0 for p in pending)
               for m in managed)
    ticker = managed[0]["ticker"]
    status = papishares(["brokerstops", "status"], env, tmp_path)
    assert status.returncode == 0 and status.stdout.splitlines()[0] == "on" and f"managed: {ticker}" in status.stdout
    assert papishares(["brokerstops", "off", ticker], env, tmp_path).returncode == 0
    assert f"left out: {ticker}" in papishares(["brokerstops", "status"], env, tmp_path).stdout
    assert papishares(["worker", "--once"], env, tmp_path).returncode == 0
    assert ticker not in [m["ticker"] for m in query(db, "SELECT ticker FROM managed_stops")]
    assert query(db, "SELECT status FROM demo_orders WHERE id = ?", (managed[0]["order_id"],))[0]["status"] == \
        "CANCELLED"
    assert "taken back in" in papishares(["brokerstops", "on", ticker], env, tmp_path).stdout
    snap = json.loads(papishares(["snapshot", "--json"], env, tmp_path).stdout)
    kept = [p for p in snap["positions"] if p["broker_stop_price"] is not None]
    assert kept and all(p["protection"] in ("broker", "partial") and p["broker_stop_quantity"] > 0 for p in kept)


def test_demo_broker_resting_stop_reserves_shares_and_fills_when_crossed(tmp_path: Path) -> None:
    from papishares.demo.broker import DemoBroker

    store = Store(tmp_path / "s.db")
    now = [time.time()]
    try:
        demo = DemoBroker(store, always_open=True, clock=lambda: now[0])
        pos = next(p for p in demo.positions() if p.quantity_available >= 2)
        order = demo.place_stop_order(pos.ticker, -1, round(pos.current_price * 0.999, 2))
        assert next(p for p in demo.positions() if p.ticker == pos.ticker).quantity_available == \
            pytest.approx(pos.quantity_available - 1)
        for _ in range(400):  # the simulated price path crosses 0.1 % below within days
            now[0] += 3600
            if demo.order(order.id) is None:
                break
        assert demo.order(order.id) is None
        assert next(p for p in demo.positions() if p.ticker == pos.ticker).quantity == pytest.approx(pos.quantity - 1)
    finally:
        store.close()


def test_a_key_without_the_order_scope_is_a_refusal_said_once(rig: Rig) -> None:
    rig.server.missing_scopes = {"orders:execute"}
    for _ in range(3):
        rig.cycle()
    assert rig.server.count("POST", "/equity/orders/stop") == 1
    assert len(rig.alerts("broker_stop_refused")) == 1
    assert stop_keeper.refused_now(rig.store, time.time())[0]
    assert any(line.startswith("refused for the account") for line in stop_keeper.status_lines(rig.store, True))


def test_the_stop_placement_is_truncated_and_retried_once_for_precision(t212_server: FakeTrading212,
                                                                        tmp_path: Path) -> None:
    t212_server.add_position("RRl_EQ", 10.56789, 7000.0, 7000.0)  # the emulator allows 2 decimals for RR
    r = make_rig(t212_server, tmp_path / "p.db", "RRl_EQ")
    try:
        for _ in range(3):
            r.cycle()
        sent = [p["body"]["quantity"] for p in stop_posts(r.server)]
        assert sent[0] == -10.5678  # at most 4 decimals, truncated
        [order] = stops_at_broker(r.server, "RRl_EQ")
        assert order["quantity"] == -10.56 and all(q >= -10.5678 for q in sent)
        assert len(journal(r, "refused", "RRl_EQ")) == 0 and journal(r, "retry", "RRl_EQ")
    finally:
        r.close()
