"""`papishares doctor` against the Trading 212 emulator and the fake Bot API, through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from papishares.history.tax import tool_path
from tests.fakes.t212_server import FakeTrading212
from tests.fakes.telegram_server import TelegramServer

SYMBOLS = {"AAPL": 185.5, "MSFT": 415.2, "META": 480.0, "TSLA": 230.0, "RR.L": 612.4, "LLOY.L": 52.3,
           "VUSA.L": 92.1, "SAP.DE": 185.0}


def bars_dir(tmp_path: Path, scale: dict[str, float] | None = None) -> Path:
    """Daily CSV bars around each default position's price (`scale` multiplies one symbol's)."""
    out = tmp_path / "bars"
    out.mkdir(exist_ok=True)
    days = pd.bdate_range(end=pd.Timestamp.now().normalize() - pd.Timedelta(days=1), periods=300)
    for symbol, price in SYMBOLS.items():
        close = price * (scale or {}).get(symbol, 1.0) * (1 + 0.01 * np.sin(np.arange(len(days)) / 7))
        pd.DataFrame({"Date": days.strftime("%Y-%m-%d"), "Open": close, "High": close * 1.01, "Low": close * 0.99,
                      "Close": close, "Volume": 1000}).to_csv(out / f"{symbol}.csv", index=False)
    return out


def bars(tmp_path: Path) -> Path:
    return tmp_path / "bars" if (tmp_path / "bars").is_dir() else bars_dir(tmp_path)


def doctor(server: FakeTrading212, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("T212_", "TELEGRAM_", "PAPISHARES_", "DB_"))}
    base.update(server.env(str(tmp_path / "p.db")), PAPISHARES_MARKET_DATA=f"csv:{bars(tmp_path)}",
                PAPISHARES_HTTP_TIMEOUT="3")
    base.update(env)
    return subprocess.run([sys.executable, "-m", "papishares", "doctor", *args], env=base, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def lines(out: subprocess.CompletedProcess[str]) -> dict[str, str]:
    return {line[6:].split(": ", 1)[0]: line for line in out.stdout.splitlines() if ": " in line}


def no_orders(server: FakeTrading212) -> None:
    assert server.order_posts == []
    assert not [k for k in server.counts if k.startswith(("POST", "DELETE"))]


def test_a_working_account_passes_every_check_and_sends_no_order(t212_server: FakeTrading212, tmp_path: Path) -> None:
    out = doctor(t212_server, tmp_path, "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["ok"] is True
    by_name = {c["name"]: c for c in report["checks"]}
    assert set(by_name) >= {"configuration", "authentication", "scope account", "scope portfolio", "scope orders:read",
                            "scope metadata", "scope orders:execute", "scope history:orders", "rate-limit headers",
                            "market data", "price units", "exchange schedules", "telegram", "worker"}
    assert all({"name", "ok", "detail"} <= set(c) for c in report["checks"])
    assert "account in GBP" in by_name["authentication"]["detail"] and "t212-demo" not in by_name["configuration"]
    assert "not checked without an order" in by_name["scope orders:execute"]["detail"]
    assert by_name["rate-limit headers"]["status"] == "pass"
    assert by_name["worker"]["ok"] is True and "not started" in by_name["worker"]["detail"]
    if tool_path() is not None:
        assert by_name["uk capital gains"]["ok"] is True and "cgt-calc 2.0.0 ready" in by_name["uk capital gains"]["detail"]
    no_orders(t212_server)


def test_the_capital_gains_line_for_an_isa_and_without_cgt_calc(t212_server: FakeTrading212, tmp_path: Path) -> None:
    isa = lines(doctor(t212_server, tmp_path, PAPISHARES_ACCOUNT_TYPE="isa"))["uk capital gains"]
    assert "ISA" in isa and "tax-free" in isa
    out = doctor(t212_server, tmp_path, "--json", PAPISHARES_CGT_CALC=str(tmp_path / "no-such-cgt-calc"))
    check = {c["name"]: c for c in json.loads(out.stdout)["checks"]}["uk capital gains"]
    assert check["status"] == "info" and "not installed" in check["detail"] and "Python 3.12" in check["fix"]
    assert out.returncode == 0  # an info line, not a failure


def test_a_rejected_key_exits_3_with_a_fix(t212_server: FakeTrading212, tmp_path: Path) -> None:
    out = doctor(t212_server, tmp_path, T212_SECRET_KEY="wrong-secret")
    assert out.returncode == 3, out.stdout
    line = lines(out)["authentication"]
    assert line.startswith("FAIL") and "401" in line and "Fix:" in line
    assert "wrong-secret" not in out.stdout + out.stderr and "Traceback" not in out.stderr
    no_orders(t212_server)


def test_an_unreachable_broker_exits_3(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("T212_", "TELEGRAM_", "PAPISHARES_", "DB_"))}
    env.update(T212_API_KEY="k", T212_SECRET_KEY="s", T212_ENV="demo", T212_API_BASE="http://127.0.0.1:9/api/v0",
               DB_PATH=str(tmp_path / "p.db"), PAPISHARES_MARKET_DATA="none", PAPISHARES_HTTP_TIMEOUT="1")
    out = subprocess.run([sys.executable, "-m", "papishares", "doctor"], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 3, out.stdout
    assert "cannot be reached" in lines(out)["authentication"]


@pytest.mark.parametrize("scope", ["portfolio", "metadata", "history:dividends"])
def test_a_missing_scope_is_named_and_exits_1(t212_server: FakeTrading212, tmp_path: Path, scope: str) -> None:
    t212_server.missing_scopes = {scope}
    out = doctor(t212_server, tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    found = lines(out)[f"scope {scope}"]
    assert found.startswith("FAIL") and f"'{scope}'" in found and "Fix:" in found
    assert lines(out)["authentication"].startswith("ok")
    assert f"scope {scope}" in out.stdout.splitlines()[-1]
    no_orders(t212_server)


def test_a_position_without_a_symbol_and_a_units_mismatch_fail(t212_server: FakeTrading212, tmp_path: Path) -> None:
    t212_server.add_instrument("ODD_XX_EQ", "Odd Listing plc", "ODD", "USD", 999)
    t212_server.add_position("ODD_XX_EQ", 10, 20.0, 21.0)
    t212_server.add_position("BPl_EQ", 100, 4.5, 450.0)  # average in pounds, price in pence
    out = doctor(t212_server, tmp_path)
    assert out.returncode == 1
    found = lines(out)
    assert found["market data"].startswith("FAIL") and "ODD_XX_EQ" in found["market data"]
    assert found["price units"].startswith("FAIL") and "BPl_EQ" in found["price units"]
    assert "100x" in found["price units"]
    assert found["exchange schedules"].startswith("FAIL") and "ODD_XX_EQ" in found["exchange schedules"]
    no_orders(t212_server)


def test_bars_in_the_wrong_scale_fail_the_units_check(t212_server: FakeTrading212, tmp_path: Path) -> None:
    bars_dir(tmp_path, {"RR.L": 0.01})  # pounds where the broker quotes pence
    out = doctor(t212_server, tmp_path)
    assert out.returncode == 1
    assert "RRl_EQ" in lines(out)["price units"] and lines(out)["price units"].startswith("FAIL")


def test_telegram_checked_by_getme_and_a_test_message_only_with_the_flag(t212_server: FakeTrading212,
                                                                        tmp_path: Path) -> None:
    with TelegramServer(token="123:ABC") as tg:
        env = {"TELEGRAM_BOT_TOKEN": "123:ABC", "TELEGRAM_CHAT_ID": "-4242", "TELEGRAM_API_BASE": tg.base}
        out = doctor(t212_server, tmp_path, **env)
        assert out.returncode == 0, out.stdout
        assert "@papishares_test_bot" in lines(out)["telegram"] and tg.messages == []
        t212_server.reset_counters()
        out = doctor(t212_server, tmp_path, "--telegram", **env)
        assert out.returncode == 0 and len(tg.messages) == 1
        tg.migrate_chat("-4242", "-1004242")
        out = doctor(t212_server, tmp_path, **env)
        assert out.returncode == 1 and "TELEGRAM_CHAT_ID=-1004242" in lines(out)["telegram"]
        bad = doctor(t212_server, tmp_path, **{**env, "TELEGRAM_BOT_TOKEN": "999:WRONG"})
        assert bad.returncode == 1 and "getMe failed" in lines(bad)["telegram"] and "WRONG" not in bad.stdout
    no_orders(t212_server)


def test_configuration_errors_exit_2_in_text_and_json(t212_server: FakeTrading212, tmp_path: Path) -> None:
    out = doctor(t212_server, tmp_path, RISK_PERCENTAGE="abc")
    assert out.returncode == 2 and lines(out)["configuration"].startswith("FAIL")
    out = doctor(t212_server, tmp_path, "--json", TELEGRAM_BOT_TOKEN="123:ABC")
    assert out.returncode == 2
    report = json.loads(out.stdout)
    assert report["ok"] is False and report["checks"][0]["name"] == "configuration"


def test_a_spent_history_budget_is_not_a_failure(t212_server: FakeTrading212, tmp_path: Path) -> None:
    """Another process (the worker's history sync) used this minute's 6 requests: reported, exit 0."""
    from papishares.broker.ratebudget import RateBudget
    from papishares.store.db import Store

    budget = RateBudget(Store(tmp_path / "p.db"))
    while not hasattr(budget.try_reserve("GET /equity/history/orders", in_flight=0.0), "until"):
        pass
    out = doctor(t212_server, tmp_path)
    assert out.returncode == 0, out.stdout
    assert lines(out)["scope history:orders"].startswith("skip") and "again in a minute" in out.stdout
    assert t212_server.counts["GET /equity/history/orders"] == 0


def test_rate_limit_headers_stricter_than_ours_fail_and_ours_pass() -> None:
    from types import SimpleNamespace

    from papishares.doctor.checks import check_rate_headers

    def service(headers: dict[str, dict[str, str]]) -> SimpleNamespace:
        return SimpleNamespace(environment="t212-demo", broker=SimpleNamespace(rate_headers=headers))

    same = {"GET /equity/positions": {"x-ratelimit-limit": "1", "x-ratelimit-period": "1"}}
    assert check_rate_headers(service(same)).status == "pass"
    stricter = {"GET /equity/positions": {"x-ratelimit-limit": "1", "x-ratelimit-period": "2"}}
    failed = check_rate_headers(service(stricter))
    assert failed.ok is False and "allows 1 per 2 s, Papishares assumes 1 per 1 s" in failed.detail
    looser = {"GET /equity/history/orders": {"x-ratelimit-limit": "50", "x-ratelimit-period": "60"}}
    assert check_rate_headers(service(looser)).ok is True  # the agent guide's 50/min: we stay at 6
    assert check_rate_headers(service({})).status == "info"


def test_a_position_the_broker_sent_unusable_is_named(t212_server: FakeTrading212, tmp_path: Path) -> None:
    body = [t212_server.position_json(p) for p in t212_server.positions.values()]
    body[0]["currentPrice"] = None
    t212_server.inject("GET", "/equity/positions", "json", status=200, body=body, times=5)
    out = doctor(t212_server, tmp_path)
    assert out.returncode == 1, out.stdout
    line = lines(out)["broker data"]
    assert line.startswith("FAIL") and body[0]["instrument"]["ticker"] in line
    assert lines(out)["authentication"].startswith("ok")
    no_orders(t212_server)
