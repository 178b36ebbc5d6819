"""The tax summary end to end: the demo's report offline, Trading 212's report from the emulator
through `papishares history tax`, the ISA sentence; the result kept for the History page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from papishares.app.build import make_broker
from papishares.config import load_settings
from papishares.history import book, tax_run
from papishares.history import sync as history_sync
from papishares.store.db import Store
from tests.fakes.cgt import INVEST_2024, needs_cgt, offline_rates
from tests.fakes.t212_history import history_of
from tests.fakes.t212_server import FakeTrading212
from tests.snapshot.test_service import _cli


@needs_cgt
def test_demo_tax_summary_offline_agrees_with_the_trades(tmp_path: Path) -> None:
    settings = load_settings({"DB_PATH": str(tmp_path / "d.db")}, dotenv_path=None)
    store = Store(settings.db_path)
    summary = tax_run.compute(settings, store, make_broker(settings, store))
    assert "demo" in summary.source and summary.years and not summary.notes  # the demo's cash balances
    assert all(y.error is None and y.figures["disposals"] >= 1 for y in summary.years)
    # every demo trade is a full round trip, none re-bought within 30 days: HMRC's matching = FIFO,
    # so cgt-calc's net gains add up to the History's realised P&L (each fill rounded to the penny)
    history_sync.sync(store, make_broker(settings, store))
    trades = book.trades(store)
    assert sum(y.figures["net_gain"] for y in summary.years) == pytest.approx(
        sum(t.realised_pnl or 0.0 for t in trades), abs=0.01 * len(trades))
    assert sum(y.figures["disposals"] for y in summary.years) == len(trades)
    assert (tmp_path / "reports" / "demo-report.csv").is_file()
    assert not (tmp_path / "hmrc_rates.csv").exists()  # demo rates never reach the real rates cache
    kept = tax_run.last(store)
    assert kept is not None and kept[0] == summary and kept[1] > 0


@needs_cgt
def test_history_tax_cli_fetches_trading_212s_report_and_computes(t212_server: FakeTrading212,
                                                                  tmp_path: Path) -> None:
    history = history_of(t212_server)
    history.csv_text, history.polls_until_ready = INVEST_2024.read_text(), 0
    rates = offline_rates(tmp_path / "hmrc_rates.csv")  # what a user records by hand offline
    env = {**t212_server.env(str(tmp_path / "t.db")), "PAPISHARES_CGT_RATES": str(rates)}
    proc = _cli(env, tmp_path, "history", "tax", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["source"].startswith("Trading 212's report trading212-")
    assert [y["year"] for y in data["years"]] == [2024, 2025]
    assert data["years"][0]["figures"]["net_gain"] == 527.92 and data["years"][1]["figures"]["gains"] == 284.0
    assert t212_server.count("POST", "/equity/history/exports") == 1
    assert history.downloads and history.downloads[0]["authorization"] is None
    assert len(list((tmp_path / "reports").glob("trading212-*.csv"))) == 1
    assert "Traceback" not in proc.stderr and t212_server.key not in proc.stdout + proc.stderr


def test_history_tax_cli_for_an_isa_says_tax_free(tmp_path: Path) -> None:
    env = {"DB_PATH": str(tmp_path / "d.db"), "PAPISHARES_ACCOUNT_TYPE": "isa"}
    proc = _cli(env, tmp_path, "history", "tax")
    assert proc.returncode == 0, proc.stderr
    assert "ISA" in proc.stdout and "free of UK capital gains tax" in proc.stdout
