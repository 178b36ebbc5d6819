"""PAPISHARES_STOP_MODE: the live calculated stop follows a stop mode; `risk` changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def snapshot(tmp_path: Path, db: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("T212_", "PAPISHARES_", "TELEGRAM_"))}
    base.update({"PAPISHARES_BROKER": "demo", "PAPISHARES_MARKET_DATA": "demo", "DB_PATH": str(tmp_path / db), **env})
    return subprocess.run([sys.executable, "-m", "papishares", "snapshot", "--json"], capture_output=True, text=True,
                          env=base, cwd=tmp_path, timeout=120)


def stops(done: subprocess.CompletedProcess[str]) -> tuple[str, dict[str, float | None]]:
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    return data["stop_mode"], {p["ticker"]: p["stop_loss_price"] for p in data["positions"]}


def test_a_bad_mode_stops_at_start_naming_the_variable(tmp_path: Path) -> None:
    done = snapshot(tmp_path, "a.db", PAPISHARES_STOP_MODE="trailing")
    assert done.returncode == 2
    assert "PAPISHARES_STOP_MODE" in done.stderr and done.stderr.strip().count("\n") == 0


def test_risk_is_the_default_and_breakeven_follows_its_rule(tmp_path: Path) -> None:
    mode, default = stops(snapshot(tmp_path, "a.db"))
    assert mode == "risk" and any(v is not None for v in default.values())
    done = snapshot(tmp_path, "c.db", PAPISHARES_STOP_MODE="breakeven")
    mode, other = stops(done)
    assert mode == "breakeven" and other.keys() == default.keys()
    # breakeven never trails: the stop is the initial one or the entry, never above the average price
    for p in json.loads(done.stdout)["positions"]:
        if p["stop_loss_price"] is not None:
            assert p["stop_loss_price"] <= p["average_price"] + 1e-9, p["ticker"]


def test_a_mode_saved_in_the_store_stands_over_the_environment_until_dropped(tmp_path: Path) -> None:
    import pytest

    from papishares.config import ConfigError, load_settings
    from papishares.snapshot.service import apply_overrides, set_stop_mode_override
    from papishares.store.db import Store

    store = Store(tmp_path / "a.db")
    env = load_settings({"DB_PATH": str(tmp_path / "a.db"), "PAPISHARES_STOP_MODE": "turtle"}, dotenv_path=None)
    assert apply_overrides(env, store).stop_mode == "turtle"  # nothing saved: the environment's
    set_stop_mode_override(store, "sma")
    assert apply_overrides(env, store).stop_mode == "sma"
    assert apply_overrides(env, store).risk_percentage == env.risk_percentage  # nothing else changes
    with pytest.raises(ConfigError, match="PAPISHARES_STOP_MODE"):
        set_stop_mode_override(store, "trailing")
    assert apply_overrides(env, store).stop_mode == "sma"  # a refused mode leaves the saved one
    store.set("override.stop_mode", "trailing")  # written by something else: not a mode, ignored
    assert apply_overrides(env, store).stop_mode == "turtle"
    set_stop_mode_override(store, None)
    assert store.get("override.stop_mode") is None and apply_overrides(env, store).stop_mode == "turtle"
    assert [e["action"] for e in store.journal_entries(kind="settings")] == ["reset", "changed"]
