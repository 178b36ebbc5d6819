"""`papishares history sync|trades|export` as a user runs them: subprocesses, the demo account and
the emulator; the JSON shape of INTERFACE.md and the four CSV files with their header rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.fakes.t212_history import history_of, order_item
from tests.fakes.t212_server import FakeTrading212
from tests.snapshot.test_service import _cli

TRADE_FIELDS = {"ticker", "opened_at", "closed_at", "quantity", "entry_price", "exit_price", "realised_pnl",
                "currency", "initial_risk", "r_multiple", "exit_reason"}
SUMMARY_FIELDS = {"count", "win_rate", "expectancy_r", "total_realised_pnl"}


def test_demo_history_sync_trades_and_export(tmp_path: Path) -> None:
    env = {"DB_PATH": str(tmp_path / "d.db"), "PAPISHARES_BROKER": "demo"}
    proc = _cli(env, tmp_path, "history", "sync", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["complete"] and report["kinds"]["orders"]["new_items"] > 20

    proc = _cli(env, tmp_path, "history", "trades", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"trades", "summary"} and set(data["summary"]) >= SUMMARY_FIELDS
    assert data["summary"]["count"] == len(data["trades"]) >= 10
    assert all(set(t) >= TRADE_FIELDS for t in data["trades"])
    assert {t["exit_reason"] for t in data["trades"]} == {"auto-sell", "manual"}
    assert all(t["r_multiple"] is not None for t in data["trades"])

    proc = _cli(env, tmp_path, "history", "export", str(tmp_path / "out"), "--excel")
    assert proc.returncode == 0, proc.stderr
    for name, first in (("trades", "ticker"), ("dividends", "id"), ("transactions", "id"), ("daily", "date")):
        with open(tmp_path / "out" / f"{name}.csv", newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[0][0] == first and len(rows) > 1, name
    assert (tmp_path / "out" / "history.xlsx").stat().st_size > 1000


def test_sync_against_the_emulator_and_an_empty_export(t212_server: FakeTrading212, tmp_path: Path) -> None:
    h = history_of(t212_server)
    h.orders += [order_item(1, "AAPL_US_EQ", "BUY", 2, 100.0, 1_760_000_000_000, fx=0.8),
                 order_item(2, "AAPL_US_EQ", "SELL", 2, 110.0, 1_760_086_400_000, fx=0.8)]
    env = t212_server.env(str(tmp_path / "t.db"))
    proc = _cli(env, tmp_path, "history", "sync")
    assert proc.returncode == 0, proc.stderr
    assert "orders: 1 pages, 2 new, complete" in proc.stdout
    data = json.loads(_cli(env, tmp_path, "history", "trades", "--json").stdout)
    # FIFO from the fills' net values: 2 x 110 x 0.8 - 2 x 100 x 0.8 = 16.00
    assert data["trades"][0]["realised_pnl"] == 16.0 and data["trades"][0]["r_multiple"] is None
    assert _cli(env, tmp_path, "history", "export", str(tmp_path / "e")).returncode == 0
    with open(tmp_path / "e" / "dividends.csv") as fh:
        assert fh.read().strip().split(",")[0] == "id"  # a header row even without any dividend
