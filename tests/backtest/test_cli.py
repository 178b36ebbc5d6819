"""`papishares backtest exits|entries` end to end on the demo broker and demo market data (offline)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from papishares.core.stop_modes import MODES


def papishares(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("T212_", "PAPISHARES_", "TELEGRAM_"))}
    base.update({"PAPISHARES_BROKER": "demo", "PAPISHARES_MARKET_DATA": "demo",
                 "DB_PATH": str(tmp_path / "p.db"), **env})
    return subprocess.run([sys.executable, "-m", "papishares", *args], capture_output=True, text=True,
                          env=base, cwd=tmp_path, timeout=120)


def test_exits_replays_every_history_trade_under_every_mode(tmp_path: Path) -> None:
    assert papishares(tmp_path, "history", "sync").returncode == 0
    done = papishares(tmp_path, "backtest", "exits", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert len(data["trades"]) >= 10 and not data["skipped"]
    assert [m["mode"] for m in data["modes"]] == list(MODES)
    for t in data["trades"]:
        assert set(t["exits"]) == set(MODES)
        for e in t["exits"].values():
            assert e["reason"] in ("stop", "signal", "open")
            risk = t["entry_price"] - t["initial_stop"]
            assert e["r_multiple"] == pytest.approx((e["exit_price"] - t["entry_price"]) / risk, abs=1e-3)
    assert data["actual"]["count"] == len(data["trades"])


def test_exits_from_a_csv_reports_a_symbol_without_bars(tmp_path: Path) -> None:
    csv_dir = tmp_path / "bars"
    csv_dir.mkdir()
    rows = ["Date,Open,High,Low,Close"] + [
        f"2026-01-{d:02d},{100 + d},{101 + d},{99 + d},{100.5 + d}" for d in range(5, 10)]
    (csv_dir / "ABC.csv").write_text("\n".join(rows) + "\n")
    trades = tmp_path / "trades.csv"
    trades.write_text("symbol,entry_date,entry_price,initial_stop\nABC,2026-01-05,105,95\nNOPE,2026-01-05,10,9\n")
    done = papishares(tmp_path, "backtest", "exits", "--trades", str(trades), "--modes", "risk,breakeven",
                      PAPISHARES_MARKET_DATA=f"csv:{csv_dir}")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    (trade,) = data["trades"]
    # closes 105.5 .. 109.5 never fall to the stop: open at the last close; R = (109.5 - 105) / 10
    assert trade["exits"]["risk"] == {"exit_date": "2026-01-09", "exit_price": 109.5, "r_multiple": 0.45,
                                      "reason": "open"}
    assert [s["symbol"] for s in data["skipped"]] == ["NOPE"]


def test_entries_backtest_offline(tmp_path: Path) -> None:
    done = papishares(tmp_path, "backtest", "entries", "--symbols", "AAPL,RR.L,NOBARS", "--from", "2024-01-01",
                      "--mode", "turtle", "--json", PAPISHARES_MARKET_DATA="demo")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    s = data["summary"]
    assert s["trades"] == len(data["trades"]) > 0
    for key in ("win_rate", "expectancy_r", "return_pct", "max_drawdown_pct", "exposure_pct"):
        assert s[key] is not None
    assert data["equity"][0]["date"] >= "2024-01-01"
    uk = [t for t in data["trades"] if t["symbol"] == "RR.L"]
    us = [t for t in data["trades"] if t["symbol"] == "AAPL"]
    assert uk and us and all(t["costs"] > 0 for t in uk + us)  # stamp duty on UK buys, FX fee on USD


def test_a_bad_mode_is_one_line(tmp_path: Path) -> None:
    done = papishares(tmp_path, "backtest", "entries", "--mode", "trailing")
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "unknown stop mode" in done.stderr
