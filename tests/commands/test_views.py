"""The read-only commands as typed data: /status, /positions, /risk (and their chat wording)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from papishares.commands import render_telegram as render
from papishares.commands.positions import TOP_RISKS, positions_view, risk_view
from papishares.commands.reading import NoSnapshot, UnknownPosition, data_age, find_position, unknown_position
from papishares.commands.status import status
from papishares.config import Settings
from papishares.orders import stop_keeper
from papishares.store.db import Store
from papishares.store.lease import Lease
from tests.fakes.telegram_server import html_error
from tests.notify.test_rules import position, snapshot

AAPL = position("AAPL_US_EQ", short_name="AAPL", current_price=155.8, effective_stop=149.2, stop_loss_price=149.2,
                distance_to_stop_pct=4.2, risk=30.0, protection="broker")
TSLA = position(distance_to_stop_pct=10.4, risk=80.0, current_price=200.0)  # at or below its stop of 206
NOSTOP = position("NVDA_US_EQ", short_name="", effective_stop=None, stop_loss_price=None, distance_to_stop_pct=None,
                  risk=10.0)


def test_status_is_typed_data(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.db")
    snap = snapshot(AAPL, TSLA, risk=8.0)
    now = snap.generated_at.timestamp() + 30
    s = status(Settings(db_path=tmp_path / "p.db"), store, snap, now)
    assert s.account is not None and s.account.positions == 2 and s.account.at_or_below_stop == 1
    assert s.account.over_limit and s.account.currency == "GBP" and s.account.total_value == 15000.0
    assert s.data is not None and round(s.data.age_seconds) == 30 and not s.data.stale
    assert not s.autosell and not s.broker_stops and not s.telegram_actions and s.muted_until is None
    assert s.worker.heartbeat_age is None
    none = status(Settings(db_path=tmp_path / "p.db"), store, None, now)
    assert none.account is None and none.data is None
    assert render.NO_DATA in render.text(none)


def test_status_says_on_or_off_for_the_flags_in_force(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.db")
    snap = snapshot(AAPL)
    now = snap.generated_at.timestamp()
    on = Settings(db_path=tmp_path / "p.db", broker_stops=True, telegram_actions=True)
    text = render.text(status(on, store, snap, now))
    assert "Auto-sell: off · broker stops: on" in text and "Telegram actions: on" in text and "True" not in text
    stop_keeper.set_enabled(store, False)  # the dashboard's switch wins over the environment
    store.set_autosell(True)
    text = render.text(status(on, store, snap, now))
    assert "Auto-sell: ON · broker stops: off" in text and "False" not in text
    assert html_error(text) is None


def test_status_worker_line_follows_the_one_health(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.db")
    snap = snapshot(AAPL)
    now = snap.generated_at.timestamp()
    assert Lease(store, ttl=20.0, clock=lambda: now - 5).try_acquire()[0]
    s = status(Settings(db_path=tmp_path / "p.db"), store, snap, now)
    assert s.worker.healthy and "Worker: running (heartbeat 5 s ago)" in render.text(s)
    s = status(Settings(db_path=tmp_path / "p.db"), store, snap, now + 120)
    assert not s.worker.healthy and "Worker: NOT running (heartbeat 2 min ago)" in render.text(s)


def test_positions_nearest_to_the_stop_first() -> None:
    snap = snapshot(TSLA, NOSTOP, AAPL)
    view = positions_view(snap, snap.generated_at.timestamp())
    assert [r.ticker for r in view.rows] == ["AAPL_US_EQ", "TSLA_US_EQ", "NVDA_US_EQ"]  # no distance last
    assert view.rows[0].protection == "broker" and view.rows[0].stop == 149.2
    assert view.rows[2].short_name == "NVDA_US_EQ" and view.rows[2].stop is None  # no short name: the ticker
    table = render.text(view)
    assert "4.2% broker" in table and "   - none" in table and html_error(table) is None
    empty = positions_view(snapshot(), snap.generated_at.timestamp())
    assert empty.rows == () and render.text(empty).startswith("No open positions.")


def test_risk_lists_the_largest_first_and_at_most_ten() -> None:
    many = [position(f"T{i}_US_EQ", short_name=f"T{i}", risk=float(i)) for i in range(12)]
    snap = snapshot(*many, replace(NOSTOP, risk=10.5), risk=4.5)
    view = risk_view(snap, snap.generated_at.timestamp())
    assert len(view.largest) == TOP_RISKS and [r.short_name for r in view.largest[:2]] == ["T11", "NVDA_US_EQ"]
    assert view.largest[0].share_pct == 11.0 / 15000.0 * 100 and view.largest[0].has_stop
    assert not view.largest[1].has_stop and " · no stop" in render.text(view)
    assert view.total_risk_pct == 4.5 and view.total_risk_limit_pct == 7.0 and view.currency == "GBP"
    assert risk_view(replace(snap, account=replace(snap.account, total_value=0.0)), 0).largest[0].share_pct == 0.0


def test_reading_the_snapshot() -> None:
    snap = snapshot(AAPL, TSLA, stale=True)
    assert find_position(snap, " aapl ") is AAPL and find_position(snap, "tsla_us_eq") is TSLA
    assert find_position(snap, "MSFT") is None and find_position(None, "AAPL") is None
    assert unknown_position("x", snap) == UnknownPosition("x", ("AAPL", "TSLA"))
    assert unknown_position("x", None) == UnknownPosition("x", ())
    age = data_age(replace(snap, data_time=snap.generated_at - timedelta(seconds=20)), snap.generated_at.timestamp())
    assert age.age_seconds == 20.0 and age.stale and "· stale" in render.data_note(age)
    assert render.text(NoSnapshot()) == render.NO_DATA
