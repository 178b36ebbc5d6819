"""`python -m papishares entries --json` end to end: demo data, and a CSV directory of real bars."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import talib
from backtesting.test import GOOG

from papishares.app.build import build
from papishares.config import load_settings
from papishares.demo.simulation import FX_TO_GBP
from papishares.entries import CONTRACT_FIELDS, result_json, scan_entries
from papishares.entries.universe import add_to_watchlist
from tests.conftest import t212_settings_for

ROOT = Path(__file__).resolve().parents[2]


def run_cli(tmp_path: Path, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("T212_", "PAPISHARES_", "ENTRIES_"))}
    clean.update({"DB_PATH": str(tmp_path / "db.sqlite"), "PYTHONPATH": str(ROOT), **env})
    proc = subprocess.run([sys.executable, "-m", "papishares", "entries", "--json"], cwd=tmp_path, env=clean,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def check_contract(data: dict) -> None:
    assert data["generated_at"].endswith("Z")
    for c in data["candidates"]:
        assert set(CONTRACT_FIELDS) <= set(c)
        assert c["system"] in (20, 55, None)
        if c["atr"] is not None:
            assert c["initial_stop"] == pytest.approx(c["close"] - 2 * c["atr"], abs=1e-3)
        if c["shares"] is not None:
            assert isinstance(c["shares"], int)
            assert c["cost"] == pytest.approx(c["shares"] * c["close"], rel=1e-6, abs=1e-3)
            assert c["risk_amount"] == pytest.approx(c["shares"] * 2 * c["atr"] * c["fx"], rel=1e-3, abs=1e-3)


def test_cli_on_demo_data_lists_sized_breakouts(tmp_path) -> None:
    data = run_cli(tmp_path, PAPISHARES_BROKER="demo")
    check_contract(data)
    breakouts = [c for c in data["candidates"] if c["system"]]
    assert len(breakouts) >= 3  # the demo universe (FTSE 100 random walks) has some breakouts
    assert {55, 20} <= {c["system"] for c in breakouts}
    assert all(c["shares"] is not None for c in breakouts)
    budget = 0.7 / 100 * data["account"]["total_value"]
    assert all(c["risk_amount"] <= budget + 1e-6 for c in breakouts)
    held = [c for c in data["candidates"] if c["held"]]
    assert {"RR.L", "AAPL"} <= {c["symbol"] for c in held}  # held positions are always listed
    rr = next(c for c in held if c["symbol"] == "RR.L")
    assert rr["currency"] == "GBX" and rr["fx"] == 0.01 and rr["t212_ticker"] == "RRl_EQ" and rr["tradable"]


def write_goog_csv(directory: Path) -> None:
    frame = GOOG.copy()
    frame.index.name = "Date"
    frame.to_csv(directory / "GOOG.csv")


def test_cli_on_a_csv_directory_of_real_bars(tmp_path) -> None:
    bars = tmp_path / "bars"
    bars.mkdir()
    write_goog_csv(bars)
    watch = tmp_path / "watch.txt"
    watch.write_text("# my list\nGOOG  # Alphabet\n\nnot a symbol!\n")
    data = run_cli(tmp_path, PAPISHARES_BROKER="demo", PAPISHARES_MARKET_DATA=f"csv:{bars}",
                   PAPISHARES_WATCHLIST=str(watch), RISK_PERCENTAGE="1")
    check_contract(data)
    goog = next(c for c in data["candidates"] if c["symbol"] == "GOOG")
    g = GOOG.astype(float)
    atr = talib.ATR(g["High"].to_numpy(), g["Low"].to_numpy(), g["Close"].to_numpy(), 20)[-1]
    hi20 = g["High"].iloc[-21:-1].max()
    assert goog["close"] == pytest.approx(g["Close"].iloc[-1])
    assert goog["atr"] == pytest.approx(atr, abs=1e-4)
    assert goog["atr_pct"] == pytest.approx(atr / g["Close"].iloc[-1] * 100, abs=1e-4)
    assert goog["last_date"] == "2013-03-01"
    assert goog["currency"] == "USD" and goog["sources"] == "watchlist"
    # no USDGBP=X file in the directory: the fixed rate is used, and the notes say so
    assert goog["fx"] == FX_TO_GBP["USD"]
    assert any("USDGBP=X" in n for n in data["notes"])
    want = math.floor(data["account"]["total_value"] / 100 / (2 * atr * FX_TO_GBP["USD"]))
    assert goog["shares"] == want
    if goog["system"] is None:
        assert goog["breakout_level"] == pytest.approx(hi20)


def test_usd_fx_from_a_pair_file_in_the_same_directory(tmp_path) -> None:
    bars = tmp_path / "bars"
    bars.mkdir()
    write_goog_csv(bars)
    pair = GOOG[["Open", "High", "Low", "Close"]].copy() * 0 + 0.5
    pair.index.name = "Date"
    pair.to_csv(bars / "USDGBP=X.csv")
    settings = load_settings({"DB_PATH": str(tmp_path / "db.sqlite"), "PAPISHARES_MARKET_DATA": f"csv:{bars}"},
                             dotenv_path=None)
    service = build(settings).service
    add_to_watchlist(service.store, "goog")
    calls = []
    real = service.market.daily_bars
    service.market.daily_bars = lambda reqs, *a, **k: calls.append(len(reqs)) or real(reqs, *a, **k)
    snapshot = service.snapshot()  # the snapshot's own market call is not the scan's
    calls.clear()
    result = scan_entries(settings, service=service, snapshot=snapshot)
    assert len(calls) == 1  # ONE batched call for the whole universe and its FX pairs
    assert calls[0] == result.requests
    row = result.table.loc["GOOG"]
    assert row["fx"] == pytest.approx(0.5)
    data = result_json(result)
    assert any(c["symbol"] == "GOOG" for c in data["candidates"])


def test_trading212_metadata_gives_tickers_and_tradability(t212_server, tmp_path) -> None:
    settings = t212_settings_for(t212_server, tmp_path / "db.sqlite", market_data="demo")
    result = scan_entries(settings, service=build(settings).service)
    table = result.table
    assert result.account is not None and result.account.currency == "GBP"
    assert table.loc["BP.L", "t212_ticker"] == "BPl_EQ" and bool(table.loc["BP.L", "tradable"])
    assert not table.loc["AZN.L", "tradable"]  # an FTSE 100 share the fake does not list
    assert pd.isna(table.loc["AZN.L", "t212_ticker"])
    assert table.loc["RR.L", "held"] and table.loc["RR.L", "currency"] == "GBX"
    aapl = table.loc["AAPL"]
    assert aapl["held"] and aapl["fx"] == pytest.approx(FX_TO_GBP["USD"]) and aapl["shares"] >= 0
    assert result.total_risk_pct is not None


def test_a_rejected_key_lists_candidates_unsized_with_a_note(t212_server, tmp_path) -> None:
    t212_server.inject("GET", "/equity/account/summary", "status", status=401, body="unauthorised")
    settings = t212_settings_for(t212_server, tmp_path / "db.sqlite", market_data="demo")
    result = scan_entries(settings, service=build(settings).service)
    assert result.account is None
    assert any("rejected the API key" in n for n in result.notes)
    data = result_json(result)
    assert data["candidates"] and all(c["shares"] is None for c in data["candidates"])
    assert all(c["initial_stop"] is not None for c in data["candidates"] if c["atr"] is not None)
