"""The service against the local Trading 212 server: hand-computed stops, risk and indicators."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from papishares.broker.trading212 import Trading212Client
from papishares.market.cache import CachedMarketData
from papishares.market.csv import CsvMarketData
from papishares.market.none import NoMarketData
from papishares.snapshot.service import Service
from papishares.store.db import Store
from tests.conftest import t212_settings_for
from tests.fakes.t212_server import FakeTrading212


class ManualClock:
    """A clock the client sleeps on: moving it also moves the fake server's rate windows."""

    def __init__(self, server: FakeTrading212) -> None:
        self.now = time.time()
        self.server = server

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.server.advance(seconds)


def _hand_made_account(server: FakeTrading212) -> None:
    """Positions whose stops are worked out by hand below; total value exactly £10,000."""
    server.load_scenario("empty")
    server.add_position("AAPL_US_EQ", 10, 105.0, 106.0)  # USD, fx 0.79: value 10*106*0.79 = 837.40
    server.add_position("RRl_EQ", 200, 500.0, 600.0)  # GBX pence, fx 0.01: value 200*600*0.01 = 1200.00
    server.add_position("VUSAl_EQ", 20, 80.0, 90.0)  # GBP: value 20*90 = 1800.00
    server.add_position("LLOYl_EQ", 100, 50.0, 50.0)  # GBX: value 100*50*0.01 = 50.00 (< budget)
    server.add_order("VUSAl_EQ", "STOP", -10, stop_price=85.0)  # manual stops: highest 86, qty 15
    server.add_order("VUSAl_EQ", "STOP_LIMIT", -5, stop_price=86.0, limit_price=85.5)
    server.add_order("VUSAl_EQ", "LIMIT", -2, limit_price=99.0)  # a take-profit: not a stop
    server.cash = 10000.0 - (837.40 + 1200.0 + 1800.0 + 50.0)


def _service(server: FakeTrading212, tmp_path: Path, clock: ManualClock, market=None) -> Service:
    settings = t212_settings_for(server, tmp_path / "p.db")
    store = Store(settings.db_path)
    client = Trading212Client(settings, store, clock=clock, sleep=clock.sleep)
    return Service(settings, store, client, market or NoMarketData(), clock=clock)


def test_hand_computed_stops_and_total_risk(t212_server: FakeTrading212, tmp_path: Path) -> None:
    _hand_made_account(t212_server)
    clock = ManualClock(t212_server)
    snap = _service(t212_server, tmp_path, clock).snapshot()
    assert snap.environment == "t212-demo"
    assert snap.account.total_value == pytest.approx(10000.0)
    budget = 0.7 / 100 * 10000.0  # £70 per position
    assert budget == pytest.approx(70.0)

    aapl = snap.position("AAPL_US_EQ")
    # fx = 837.40 / (10 * 106) = 0.79 GBP per USD; stop = 106 - 70 / 0.79 / 10 = 97.139240...
    assert aapl.fx == pytest.approx(0.79)
    assert aapl.max_price == 106.0
    assert aapl.stop_loss_price == pytest.approx(97.139240, abs=1e-5)
    assert aapl.stop_loss_percentage == pytest.approx(8.860759 / 106 * 100, abs=1e-3)  # 8.3592 %
    assert aapl.profit_pct == pytest.approx((106 - 105) / 105 * 100, abs=1e-4)

    rr = snap.position("RRl_EQ")
    # pence stay pence: fx = 1200 / (200 * 600) = 0.01; stop = 600 - 70 / 0.01 / 200 = 565p
    assert rr.currency == "GBX"
    assert rr.stop_loss_price == pytest.approx(565.0)
    assert rr.stop_loss_percentage == pytest.approx(35 / 600 * 100, abs=1e-3)

    vusa = snap.position("VUSAl_EQ")
    # GBP: stop = 90 - 70 / 1 / 20 = 86.5; manual stops: highest 86.0 over 10 + 5 shares
    assert vusa.stop_loss_price == pytest.approx(86.5)
    assert vusa.manual_stop_loss_price == 86.0
    assert vusa.manual_stop_loss_quantity == 15

    lloy = snap.position("LLOYl_EQ")
    # 50 - 70 / 0.01 / 100 = -20 -> no stop: the position (£50) is smaller than the budget (£70)
    assert lloy.stop_loss_price is None and lloy.stop_loss_percentage is None
    assert "smaller than the risk budget" in lloy.stop_loss_note

    # total risk: AAPL (105 - 97.13924) * 10 * 0.79 = 62.10; RR avg 500 < 565: 0;
    # VUSA avg 80 < manual 86: 0; LLOY no stop: whole value 50 * 100 * 0.01 = 50.  112.10 / 10000
    assert aapl.risk == pytest.approx(62.10, abs=1e-3)
    assert snap.total_risk_pct == pytest.approx(1.121, abs=1e-3)
    assert snap.total_risk_threshold_pct == 7.0


def test_stop_ratchets_with_high_water_mark_across_service_instances(t212_server: FakeTrading212,
                                                                      tmp_path: Path) -> None:
    _hand_made_account(t212_server)
    clock = ManualClock(t212_server)
    _service(t212_server, tmp_path, clock).snapshot()
    t212_server.set_price("AAPL_US_EQ", 120.0)
    clock.sleep(6)  # past every read endpoint's period
    snap = _service(t212_server, tmp_path, clock).snapshot()  # another process, same file
    # high-water 120: stop = 120 - 70 / 0.79 / 10 (budget from the new total value)
    total = snap.account.total_value
    expected = 120 - (0.007 * total) / 0.79 / 10
    assert snap.position("AAPL_US_EQ").max_price == 120.0
    assert snap.position("AAPL_US_EQ").stop_loss_price == pytest.approx(expected, abs=1e-4)

    t212_server.set_price("AAPL_US_EQ", 110.0)
    t212_server.cash += 10000.0  # a larger account: the formula's stop drops, the stored one holds
    clock.sleep(6)
    later = _service(t212_server, tmp_path, clock).snapshot()
    assert later.position("AAPL_US_EQ").max_price == 120.0
    assert later.position("AAPL_US_EQ").stop_loss_price == pytest.approx(expected, abs=1e-4)

    t212_server.add_position("AAPL_US_EQ", 20, 105.0, 110.0)  # quantity changed: the stop starts again
    clock.sleep(6)
    resized = _service(t212_server, tmp_path, clock).snapshot()
    budget = 0.007 * resized.account.total_value
    assert resized.position("AAPL_US_EQ").stop_loss_price == pytest.approx(120 - budget / 0.79 / 20, abs=1e-4)


def test_broker_down_serves_last_good_snapshot_marked_stale(t212_server: FakeTrading212, tmp_path: Path) -> None:
    _hand_made_account(t212_server)
    clock = ManualClock(t212_server)
    service = _service(t212_server, tmp_path, clock)
    first = service.snapshot()
    clock.sleep(6)
    for _ in range(10):
        t212_server.inject("GET", "/equity/account/summary", "status", status=500)
    stale = service.snapshot()
    assert stale.stale and stale.broker_note
    assert [p.ticker for p in stale.positions] == [p.ticker for p in first.positions]


def test_bars_in_pounds_for_a_pence_instrument_never_reach_the_indicators(t212_server: FakeTrading212,
                                                                          tmp_path: Path) -> None:
    _hand_made_account(t212_server)
    csv_dir = tmp_path / "bars"
    csv_dir.mkdir()
    dates = pd.bdate_range(end=pd.Timestamp.now().normalize() - pd.Timedelta(days=1), periods=300)
    for symbol, level in (("RR.L", 6.0), ("AAPL", 106.0)):  # RR in pounds: 100x off the T212 pence
        closes = [level * (1 + 0.001 * (i % 20)) for i in range(300)]
        pd.DataFrame({"Date": dates.strftime("%Y-%m-%d"), "Open": closes, "High": closes, "Low": closes,
                      "Close": closes}).to_csv(csv_dir / f"{symbol}.csv", index=False)
    clock = ManualClock(t212_server)
    store_path = tmp_path / "p.db"
    market = CachedMarketData(CsvMarketData(csv_dir), Store(store_path))
    snap = _service(t212_server, tmp_path, clock, market).snapshot()
    assert snap.position("AAPL_US_EQ").sma_17 is not None
    assert snap.position("AAPL_US_EQ").macd_signal in {"BULLISH", "BEARISH", "NEUTRAL"}
    rr = snap.position("RRl_EQ")
    assert rr.sma_17 is None and rr.macd_signal is None
    assert "RR.L" in (snap.market_data_note or "")
    assert rr.stop_loss_price == pytest.approx(565.0)  # stops come from broker prices only


def _cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    full = {"PATH": "/usr/bin:/bin", "PAPISHARES_MARKET_DATA": "none", **env}
    return subprocess.run([sys.executable, "-m", "papishares", *args], env=full, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_snapshot_json_cli_against_local_server(t212_server: FakeTrading212, tmp_path: Path) -> None:
    _hand_made_account(t212_server)
    proc = _cli(t212_server.env(str(tmp_path / "p.db")), tmp_path, "snapshot", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["environment"] == "t212-demo"
    assert set(data) >= {"generated_at", "environment", "account", "total_risk_pct", "total_risk_threshold_pct",
                         "positions"}
    rr = next(p for p in data["positions"] if p["ticker"] == "RRl_EQ")
    assert rr["stop_loss_price"] == pytest.approx(565.0)
    assert data["generated_at"].endswith("Z")
    for field in ("ticker", "short_name", "name", "currency", "quantity", "average_price", "current_price",
                  "profit_pct", "max_price", "stop_loss_price", "stop_loss_percentage", "manual_stop_loss_price",
                  "manual_stop_loss_quantity", "macd_signal", "macd_crossover", "sma_17"):
        assert field in rr


def test_snapshot_cli_exit_3_on_rejected_key_without_leaking_it(t212_server: FakeTrading212,
                                                                  tmp_path: Path) -> None:
    env = t212_server.env(str(tmp_path / "p.db"))
    env["T212_SECRET_KEY"] = "wrong-secret-999"
    proc = _cli(env, tmp_path, "snapshot", "--json")
    assert proc.returncode == 3
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "wrong-secret-999" not in proc.stderr and t212_server.key not in proc.stderr


def test_snapshot_cli_exit_3_when_broker_unreachable(tmp_path: Path) -> None:
    env = {"T212_API_KEY": "k", "T212_SECRET_KEY": "s", "T212_API_BASE": "http://127.0.0.1:9/api/v0",
           "DB_PATH": str(tmp_path / "p.db"), "PAPISHARES_HTTP_TIMEOUT": "1"}
    proc = _cli(env, tmp_path, "snapshot", "--json")
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_demo_snapshot_json_cli(tmp_path: Path) -> None:
    proc = _cli({"DB_PATH": str(tmp_path / "d.db"), "PAPISHARES_MARKET_DATA": "demo"}, tmp_path,
                "snapshot", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["environment"] == "demo-sim" and data["account"]["currency"] == "GBP"
    currencies = {p["currency"] for p in data["positions"]}
    assert {"USD", "GBX", "GBP"} <= currencies
    assert any(p["sma_17"] is not None and p["macd_signal"] for p in data["positions"])
    assert any(p["stop_loss_price"] is None and p["stop_loss_note"] for p in data["positions"])


def test_a_new_ticker_never_crashes_and_refreshes_instruments(t212_server: FakeTrading212, tmp_path: Path) -> None:
    _hand_made_account(t212_server)
    clock = ManualClock(t212_server)
    service = _service(t212_server, tmp_path, clock)
    service.snapshot()  # instruments now cached in SQLite
    t212_server.add_instrument("NEWCOl_EQ", "New Company plc", "NEWCO", "GBX", 123)
    t212_server.add_position("NEWCOl_EQ", 1000, 100.0, 101.0)  # £1,010 at 101p
    clock.sleep(6)
    snap = service.snapshot()  # the instruments endpoint allows 1 request / 50 s: the stored list serves
    newco = snap.position("NEWCOl_EQ")
    assert newco is not None
    assert newco.short_name == "NEWCOl"  # not refreshed yet: a stand-in from the ticker
    assert newco.stop_loss_price == pytest.approx(101.0 - 0.007 * snap.account.total_value / 0.01 / 1000, abs=1e-3)
    assert newco.market_open is not None  # weekday fallback when no schedule is known
    clock.sleep(51)
    refreshed = service.snapshot()
    assert refreshed.position("NEWCOl_EQ").short_name == "NEWCO"
    assert refreshed.position("NEWCOl_EQ").yahoo_symbol == "NEWCO.L"


def test_risk_limits_saved_in_the_store_override_the_environment(t212_server: FakeTrading212,
                                                                 tmp_path: Path) -> None:
    from papishares.config import ConfigError
    from papishares.snapshot.service import set_risk_override

    _hand_made_account(t212_server)
    clock = ManualClock(t212_server)
    service = _service(t212_server, tmp_path, clock)
    set_risk_override(service.store, "risk_percentage", 1.4)  # £140 budget on £10,000
    set_risk_override(service.store, "total_risk_percentage", 5.0)
    snap = service.snapshot()
    assert snap.risk_percentage == 1.4 and snap.total_risk_threshold_pct == 5.0
    assert snap.position("RRl_EQ").stop_loss_price == pytest.approx(600 - 140 / 0.01 / 200)  # 530p
    with pytest.raises(ConfigError, match="RISK_PERCENTAGE"):
        set_risk_override(service.store, "risk_percentage", 0.0)
    set_risk_override(service.store, "risk_percentage", None)
    clock.sleep(6)
    # back to 0.7%: the formula gives 565p, above the stored 530p, so the stop rises to it
    assert service.snapshot().position("RRl_EQ").stop_loss_price == pytest.approx(565.0)
