"""The worker as a real process: --once, health, signals, two workers, a SIGKILL mid-order.

Workers run as subprocesses (`python -m papishares worker`) against the fake Trading 212 server
(or the demo broker) and a real SQLite file; the test reads the server's order log and the file.
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

from papishares.store.db import Store
from tests.fakes.t212_server import FakeTrading212
from tests.fakes.telegram_server import TelegramServer
from tests.support import wait_for

TSLA = "TSLA_US_EQ"
TOKEN = "555000:WORKER-bot-token-zzz"


def base_env(db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("T212_", "TELEGRAM_", "PAPISHARES_", "DB_PATH", "RISK_", "TOTAL_RISK"))}
    env.update(DB_PATH=str(db), PAPISHARES_POSITIONS_INTERVAL="1", PAPISHARES_LOG_LEVEL="INFO")
    env.update(extra)
    return env


def papishares(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "papishares", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


class Procs:
    """Started worker processes; whatever a test leaves running is killed at teardown (by pid)."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.running: list[subprocess.Popen] = []

    def worker(self, env: dict[str, str], *args: str) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "papishares", "worker", *args], env=env, cwd=self.cwd,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.running.append(proc)
        return proc

    def cleanup(self) -> None:
        for proc in self.running:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=10)


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    p = Procs(tmp_path)
    yield p
    p.cleanup()


def query(db: Path, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    store = Store(db)
    try:
        return store.query(sql, params)
    finally:
        store.close()


def market_posts(server: FakeTrading212) -> int:
    return server.count("POST", "/equity/orders/market")


# -- demo broker ------------------------------------------------------------------------------------
def test_once_on_demo_exits_0_and_health_follows_the_heartbeat(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    env = base_env(db, PAPISHARES_DEMO_ALWAYS_OPEN="true")
    never = papishares(["health"], env, tmp_path)
    assert never.returncode == 1 and json.loads(never.stdout)["healthy"] is False
    once = papishares(["worker", "--once"], env, tmp_path)
    assert once.returncode == 0, once.stderr
    health = papishares(["health"], env, tmp_path)
    status = json.loads(health.stdout)
    assert health.returncode == 0 and status["healthy"] is True and status["environment"] == "demo-sim"
    assert status["autosell"] == "off" and status["held"] == [] and status["last_cycle"]
    store = Store(db)
    store.execute("UPDATE lease SET heartbeat_at = heartbeat_at - 3600")
    store.close()
    stale = papishares(["health"], env, tmp_path)
    assert stale.returncode == 1 and json.loads(stale.stdout)["heartbeat_age_s"] >= 3600


def test_demo_autosell_end_to_end_with_telegram(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    with TelegramServer(token=TOKEN) as tg:
        # A tiny risk budget puts the stops just under the high-water marks: losing positions breach.
        env = base_env(db, PAPISHARES_DEMO_ALWAYS_OPEN="true", RISK_PERCENTAGE="0.01",
                       TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_CHAT_ID="77", TELEGRAM_API_BASE=tg.base,
                       PAPISHARES_LOG_LEVEL="DEBUG")
        assert papishares(["autosell", "on"], env, tmp_path).returncode == 0
        once = papishares(["worker", "--once"], env, tmp_path)
        assert once.returncode == 0, once.stderr
        sold = query(db, "SELECT ticker, message FROM journal WHERE kind = 'autosell' AND action = 'sold'")
        assert sold, "no demo position was below its stop"
        snap = papishares(["snapshot", "--json"], env, tmp_path)
        held = {p["ticker"] for p in json.loads(snap.stdout)["positions"]}
        fully_sold = [r["ticker"] for r in sold if r["ticker"] not in held]
        assert fully_sold, "a sold demo position must disappear from the next snapshot"
        texts = tg.texts()
        assert any("Auto-sell placed" in t for t in texts) and any("Stop breached" in t for t in texts)
        assert TOKEN not in once.stderr + once.stdout and "WORKER-bot-token" not in once.stderr


# -- signals ------------------------------------------------------------------------------------------
def test_sigterm_stops_within_5_s_even_during_a_hanging_request(t212_server: FakeTrading212, tmp_path: Path,
                                                                procs: Procs) -> None:
    db = tmp_path / "p.db"
    proc = procs.worker(base_env(db, **t212_server.env(str(db)), PAPISHARES_MARKET_DATA="none"))
    wait_for(lambda: query(db, "SELECT 1 FROM lease WHERE heartbeat_at IS NOT NULL") and
             t212_server.count("GET", "/equity/positions") >= 1)
    t212_server.inject("GET", "/equity/positions", "delay", seconds=8.0, times=5)
    wait_for(lambda: t212_server.count("GET", "/equity/positions") >= 2)  # now hanging in that request
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert time.monotonic() - started < 5.0


def test_sigint_stops_an_idle_worker_cleanly(tmp_path: Path, procs: Procs) -> None:
    db = tmp_path / "p.db"
    proc = procs.worker(base_env(db, PAPISHARES_DEMO_ALWAYS_OPEN="true", PAPISHARES_POSITIONS_INTERVAL="30"))
    wait_for(lambda: query(db, "SELECT 1 FROM lease WHERE info LIKE '%cycles%'"))
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err
    assert time.monotonic() - started < 5.0
    lease = query(db, "SELECT expires_at FROM lease")[0]
    assert lease["expires_at"] <= time.time()  # released: a next worker need not wait


# -- never twice ---------------------------------------------------------------------------------------
def test_two_workers_started_together_sell_once(t212_server: FakeTrading212, tmp_path: Path,
                                                procs: Procs) -> None:
    db = tmp_path / "p.db"
    env = base_env(db, **t212_server.env(str(db)), PAPISHARES_MARKET_DATA="none")
    assert papishares(["autosell", "on"], env, tmp_path).returncode == 0
    t212_server.set_price(TSLA, 200.0)  # already below its stop (about 206) when both start
    a, b = procs.worker(env), procs.worker(env)
    wait_for(lambda: len(t212_server.sells()) >= 1)
    # the second worker says it waits once it has tried the lease (under load, after the first sale)
    wait_for(lambda: "standby" in json.loads(papishares(["health"], env, tmp_path).stdout), timeout=10)
    health = json.loads(papishares(["health"], env, tmp_path).stdout)
    assert health["healthy"] and health["standby"]["reason"] == "another worker holds the lease"
    # The acting worker stops; the other takes over and must not sell that breach again.
    holder = query(db, "SELECT owner FROM lease")[0]["owner"]
    first, second = (a, b) if f":{a.pid}:" in holder else (b, a)
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=10)
    wait_for(lambda: f":{second.pid}:" in query(db, "SELECT owner FROM lease")[0]["owner"], timeout=30)  # a stop mid-request leaves the lease to expire (20 s)
    time.sleep(2.5)
    assert market_posts(t212_server) == 1 and len(t212_server.sells()) == 1
    second.send_signal(signal.SIGTERM)
    _, err = second.communicate(timeout=10)
    assert "took over the worker lease" in err


def test_sigkill_between_the_intent_and_the_answer_never_sells_twice(t212_server: FakeTrading212, tmp_path: Path,
                                                                     procs: Procs) -> None:
    db = tmp_path / "p.db"
    env = base_env(db, **t212_server.env(str(db)), PAPISHARES_MARKET_DATA="none")
    assert papishares(["autosell", "on"], env, tmp_path).returncode == 0
    # The broker places the order, then takes 4 s to answer: the worker is killed while it waits.
    t212_server.inject("POST", "/equity/orders/market", "place_then_hang", seconds=4.0)
    t212_server.set_price(TSLA, 200.0)
    proc = procs.worker(env)
    wait_for(lambda: query(db, "SELECT 1 FROM sell_intents WHERE status = 'intent'") and t212_server.sells())
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    assert [r["status"] for r in query(db, "SELECT status FROM sell_intents")] == ["intent"]
    # Restart once the dead worker's lease has expired (simulated: no need to wait its ttl out).
    store = Store(db)
    store.execute("UPDATE lease SET expires_at = 0")
    store.close()
    restarted = procs.worker(env)
    wait_for(lambda: query(db, "SELECT 1 FROM sell_intents WHERE status IN ('filled', 'placed')"))
    time.sleep(2.0)  # a few more cycles
    assert market_posts(t212_server) == 1 and len(t212_server.sells()) == 1
    reconciled = query(db, "SELECT message FROM journal WHERE action = 'reconciled'")
    assert len(reconciled) == 1 and "went through" in reconciled[0]["message"]
    restarted.send_signal(signal.SIGTERM)
    restarted.communicate(timeout=10)
    assert restarted.returncode == 0


def test_auth_rejection_is_alerted_once_and_once_exits_3(t212_server: FakeTrading212, tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    env = base_env(db, **{**t212_server.env(str(db)), "T212_SECRET_KEY": "wrong-secret"},
                   PAPISHARES_MARKET_DATA="none")
    for _ in range(2):
        result = papishares(["worker", "--once"], env, tmp_path)
        assert result.returncode == 3 and "wrong-secret" not in result.stderr
    alerts = query(db, "SELECT message FROM journal WHERE kind = 'alert' AND action = 'auth_rejected'")
    assert len(alerts) == 1 and "rejected the API key" in alerts[0]["message"]
