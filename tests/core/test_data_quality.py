"""Data quality end to end (issue 9): real-shaped bodies with nulls served by the emulator, through
the real client, the service and `worker --once`; 100x prices; the pure rules of data_quality."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from papishares.broker.trading212 import Trading212Client
from papishares.core import data_quality
from papishares.market.none import NoMarketData
from papishares.snapshot.service import Service
from papishares.store.db import Store
from tests.conftest import t212_settings_for
from tests.fakes.t212_server import FakeTrading212
from tests.worker.test_loop import base_env, papishares, query

TSLA, MSFT, RR, AAPL = "TSLA_US_EQ", "MSFT_US_EQ", "RRl_EQ", "AAPL_US_EQ"


def positions_body(server: FakeTrading212, nulls: dict[str, dict[str, object]]) -> list[dict]:
    """The emulator's own positions body with some fields replaced (None = JSON null), plus one
    item that cannot be named at all."""
    body = [server.position_json(p) for p in server.positions.values()]
    for row in body:
        for field, value in nulls.get(row["instrument"]["ticker"], {}).items():
            row[field] = value
    return [*body, {"quantity": 1, "currentPrice": None, "instrument": None}]


def unreadable_order_for(server: FakeTrading212, ticker: str) -> list[dict]:
    return [*server.orders.values(), {"id": None, "ticker": ticker, "type": "STOP", "side": "SELL", "quantity": -1}]


def service_for(server: FakeTrading212, tmp_path: Path) -> Service:
    settings = t212_settings_for(server, tmp_path / "p.db")
    store = Store(settings.db_path)
    return Service(settings, store, Trading212Client(settings, store), NoMarketData())


def test_a_snapshot_with_nulls_keeps_every_other_position_live(t212_server: FakeTrading212, tmp_path: Path) -> None:
    t212_server.inject("GET", "/equity/positions", "json",
                       body=positions_body(t212_server, {TSLA: {"currentPrice": None}, RR: {"walletImpact": None}}))
    t212_server.inject("GET", "/equity/orders", "json", body=unreadable_order_for(t212_server, MSFT))
    snap = service_for(t212_server, tmp_path).snapshot()

    assert len(snap.positions) == 8 and not snap.stale
    tsla, rr, msft, aapl = (snap.position(t) for t in (TSLA, RR, MSFT, AAPL))
    # named but unusable numbers: shown, no stop, a note, whole value counted as risk
    assert tsla.current_price is None and tsla.profit_pct is None and "currentPrice is null" in tsla.data_note
    assert tsla.stop_loss_price is None and "unusable data" in tsla.stop_loss_note
    assert tsla.risk == pytest.approx(max(tsla.market_value, 3 * 250.0 * 0.79))  # its whole value or its cost
    assert rr.market_value is None and "walletImpact is null" in rr.data_note and rr.stop_loss_price is None
    # its value is unknown: the invested amount no other position accounts for stands in
    others = sum(p.market_value for p in snap.positions if p.market_value is not None)
    assert rr.risk == pytest.approx(snap.account.invested - others, abs=0.05) and rr.risk > 0
    # an unreadable pending order marks its position (it could be a pending sell), numbers intact
    assert msft.stop_loss_price is not None and "pending order" in msft.data_note
    # the rest is as usual
    assert aapl.data_note is None and aapl.stop_loss_price is not None and aapl.units_note is None
    assert snap.total_risk_pct == pytest.approx(sum(p.risk for p in snap.positions) / snap.account.total_value * 100,
                                                abs=1e-3)
    text = " | ".join(snap.data_notes)
    assert "position TSLA_US_EQ" in text and "position #9" in text and "order MSFT_US_EQ" in text
    json.dumps(snap.to_json(), allow_nan=False)  # valid JSON: no NaN anywhere
    again = type(snap).from_json(json.loads(json.dumps(snap.to_json())))
    assert again.position(TSLA).data_note == tsla.data_note and again.data_notes == snap.data_notes


def test_worker_once_sells_the_healthy_breach_and_never_the_marked_one(t212_server: FakeTrading212,
                                                                        tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    env = base_env(db, **t212_server.env(str(db)), PAPISHARES_MARKET_DATA="none")
    assert papishares(["autosell", "on"], env, tmp_path).returncode == 0
    assert papishares(["worker", "--once"], env, tmp_path).returncode == 0  # prices and stops recorded
    t212_server.set_price(TSLA, 150.0)  # below its stop (~205): sells
    t212_server.set_price(MSFT, 300.0)  # below its stop (~388), but one of its orders is unreadable
    t212_server.set_price(AAPL, 190.0)
    time.sleep(5.5)  # every rate period over: the next run fetches afresh
    t212_server.inject("GET", "/equity/positions", "json",
                       body=positions_body(t212_server, {RR: {"currentPrice": None, "walletImpact": None}}),
                       times=2)  # the worker's answer, and the snapshot's below should it ask afresh
    t212_server.inject("GET", "/equity/orders", "json", body=unreadable_order_for(t212_server, MSFT))
    result = papishares(["worker", "--once"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert [s["body"]["ticker"] for s in t212_server.sells()] == [TSLA]
    skipped = query(db, "SELECT ticker, message FROM journal WHERE kind = 'autosell' AND action = 'skipped'")
    assert any(r["ticker"] == MSFT and "unusable data" in r["message"] for r in skipped)
    assert "Traceback" not in result.stderr
    snap = json.loads(papishares(["snapshot", "--json"], env, tmp_path).stdout)
    rr = next(p for p in snap["positions"] if p["ticker"] == RR)
    assert rr["current_price"] is None and rr["stop_loss_price"] is None and rr["data_note"]


def test_a_100x_current_price_gets_no_stop_and_leaves_the_ratchet_alone(t212_server: FakeTrading212,
                                                                        tmp_path: Path) -> None:
    service = service_for(t212_server, tmp_path)
    first = service.snapshot().position(RR)
    assert first.stop_loss_price is not None and first.units_note is None
    stored = service.store.position_states()[RR]
    t212_server.set_price(RR, 6.124)  # pence reported as pounds: 100x from the average and last price
    time.sleep(1.3)  # the positions period (1 s + margin) is over
    rr = service.snapshot().position(RR)
    assert rr.stop_loss_price is None and "pence/pounds" in rr.stop_loss_note and "average price" in rr.units_note
    assert rr.risk == pytest.approx(max(rr.market_value, 400 * 420.0 * 0.01), rel=1e-6)  # whole value or cost
    after = service.store.position_states()[RR]
    assert (after["max_price"], after["stop_price"]) == (stored["max_price"], stored["stop_price"])


def test_pure_rules() -> None:
    assert data_quality.units_problem(600.0, 6.0, None, "GBX") is not None
    assert "last recorded price" in data_quality.units_problem(6.1, None, 610.0, "GBP")
    assert data_quality.units_problem(None, 6.0, 6.0, "GBP") is None  # no price is not a units problem
    assert data_quality.units_problem(6.1, 6.0, 9.0, "GBP") is None
    assert data_quality.conservative_risk(None, float("nan"), -3.0, True) == 0.0
    assert data_quality.conservative_risk(10.0, None, 12.5) == 12.5
    assert data_quality.unaccounted_value(100.0, [30.0, None, 20.0]) == 50.0
    assert data_quality.unaccounted_value(100.0, [130.0]) is None
    assert data_quality.unaccounted_value(None, [1.0]) is None
