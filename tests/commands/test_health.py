"""Worker health, computed once: the typed result and the `health` JSON it prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from papishares.commands.health import STANDBY_KEY, worker_health
from papishares.config import Settings
from papishares.store import intents
from papishares.store.db import Store
from papishares.store.lease import Lease, LeaseHolder, heartbeat_age, is_fresh

NOW = 1_800_000_000.0
JSON_KEYS = ["healthy", "heartbeat_age_s", "owner", "state", "autosell", "environment", "last_cycle", "held",
             "outbox_pending", "heartbeat_max_age_s"]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "p.db")


def settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(db_path=tmp_path / "p.db", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("age", "max_age", "fresh"), [
    (None, 60.0, False), (0.0, 60.0, True), (60.0, 60.0, True), (60.01, 60.0, False), (0.0, 0.0, True)])
def test_the_freshness_rule(age: float | None, max_age: float, fresh: bool) -> None:
    assert is_fresh(age, max_age) is fresh


def test_heartbeat_age() -> None:
    assert heartbeat_age(None, NOW) is None
    assert heartbeat_age(LeaseHolder("o", NOW - 9, NOW + 9, NOW - 5, {}), NOW) == 5.0
    assert heartbeat_age(LeaseHolder("o", NOW - 9, NOW + 9, NOW + 5, {}), NOW) == 0.0  # a clock a little ahead


def test_never_started(store: Store, tmp_path: Path) -> None:
    health = worker_health(store, settings(tmp_path), NOW)
    assert not health.healthy and health.heartbeat_age is None and health.state == "never started"
    assert not health.started and health.owner is None and health.standby is None
    data = health.to_json()
    assert list(data) == JSON_KEYS  # no dry_run / last_note / positions before any worker ran
    assert data == {"healthy": False, "heartbeat_age_s": None, "owner": None, "state": "never started",
                    "autosell": "off", "environment": "demo-sim", "last_cycle": None, "held": [],
                    "outbox_pending": 0, "heartbeat_max_age_s": 60.0}


def test_running_then_stale_then_stopped(store: Store, tmp_path: Path) -> None:
    clock = [NOW]
    lease = Lease(store, ttl=20.0, owner="host:1:abc", clock=lambda: clock[0])
    assert lease.try_acquire({"environment": "t212-demo", "last_cycle": "2026-11-24T14:03:00Z", "dry_run": True,
                              "note": "ok", "positions": 4})[0]
    store.set_autosell(True)
    intents.hold(store, "TSLA_US_EQ", "unknown", 1)
    health = worker_health(store, settings(tmp_path), NOW + 12.34)
    assert health.healthy and health.state == "running" and health.heartbeat_age == pytest.approx(12.34)
    assert health.autosell and health.held == ("TSLA_US_EQ",) and health.dry_run and health.positions == 4
    data = health.to_json()
    assert data["heartbeat_age_s"] == 12.3 and data["autosell"] == "on" and data["held"] == ["TSLA_US_EQ"]
    assert data["environment"] == "t212-demo" and data["owner"] == "host:1:abc" and data["last_note"] == "ok"
    assert data["dry_run"] is True and data["positions"] == 4 and data["last_cycle"] == "2026-11-24T14:03:00Z"
    json.dumps(data)  # printable as it is
    stopped = worker_health(store, settings(tmp_path), NOW + 61)
    assert not stopped.healthy and stopped.state == "stopped"  # the lease expired after 20 s
    still = worker_health(store, settings(tmp_path, heartbeat_max_age=90.0), NOW + 61)
    assert still.healthy and still.state == "stopped"  # fresh is the heartbeat's age, not the lease's


def test_a_standby_worker_is_shown_while_recently_seen(store: Store, tmp_path: Path) -> None:
    store.set_json(STANDBY_KEY, {"owner": "b:2:x", "waiting_for": "a:1:y", "seen_at": NOW - 10})
    health = worker_health(store, settings(tmp_path), NOW)
    assert health.standby is not None and health.standby.owner == "b:2:x"
    assert health.to_json()["standby"] == {"owner": "b:2:x", "waiting_for": "a:1:y",
                                           "reason": "another worker holds the lease"}
    assert worker_health(store, settings(tmp_path), NOW + 3600).standby is None
