"""The CLI with several accounts, as real processes: two emulated Trading 212 servers with different
keys (or the demo's two books) and one SQLite file."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.t212_server import FakeTrading212

SNAPSHOT_KEYS = {"generated_at", "environment", "account", "total_risk_pct", "total_risk_threshold_pct",
                 "open_risk_pct", "risk_percentage", "stop_mode", "positions", "orders", "market_data",
                 "market_data_note", "broker_note", "data_time", "stale", "data_notes"}


def _cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    full = {"PATH": "/usr/bin:/bin", "PAPISHARES_MARKET_DATA": "none", **env}
    return subprocess.run([sys.executable, "-m", "papishares", *args], env=full, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def _named(server: FakeTrading212, name: str) -> dict[str, str]:
    """The server's variables under account `name` (T212_API_KEY -> T212_ISA_API_KEY, ...)."""
    up = name.upper()
    return {k.replace("T212_", f"T212_{up}_", 1): v for k, v in server.env().items() if k.startswith("T212_")}


@pytest.fixture
def two_servers() -> Iterator[tuple[FakeTrading212, FakeTrading212]]:
    with FakeTrading212.running(key="key-of-the-invest-account", positions=4) as invest, \
            FakeTrading212.running(key="key-of-the-isa-account", scenario="many", positions=6) as isa:
        yield invest, isa


@pytest.fixture
def two_env(two_servers: tuple[FakeTrading212, FakeTrading212], tmp_path: Path) -> dict[str, str]:
    invest, isa = two_servers
    return {"PAPISHARES_ACCOUNTS": "invest,isa", "DB_PATH": str(tmp_path / "p.db"), "PAPISHARES_BROKER": "t212",
            **_named(invest, "invest"), **_named(isa, "isa")}


def test_one_account_snapshot_only_gains_account_name(t212_server: FakeTrading212, tmp_path: Path) -> None:
    proc = _cli(t212_server.env(str(tmp_path / "p.db")), tmp_path, "snapshot", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == SNAPSHOT_KEYS | {"account_name"} and list(data)[-1] == "account_name"
    assert data["account_name"] == "invest"
    same = _cli(t212_server.env(str(tmp_path / "p.db")), tmp_path, "snapshot", "--json", "--account", "invest")
    assert same.returncode == 0 and json.loads(same.stdout)["account_name"] == "invest"
    other = _cli(t212_server.env(str(tmp_path / "p.db")), tmp_path, "snapshot", "--json", "--account", "isa")
    assert other.returncode == 2 and other.stdout == ""
    assert other.stderr == "papishares: no account named 'isa': the accounts are invest\n"


def test_several_accounts_snapshot_has_each_and_the_combined_totals(
        two_servers: tuple[FakeTrading212, FakeTrading212], two_env: dict[str, str], tmp_path: Path) -> None:
    invest, isa = two_servers
    proc = _cli(two_env, tmp_path, "snapshot", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert list(data) == ["generated_at", "accounts", "combined"]
    first, second = data["accounts"]
    assert (first["account_name"], second["account_name"]) == ("invest", "isa")
    assert set(first) == set(second) == SNAPSHOT_KEYS | {"account_name"}
    assert {p["ticker"] for p in first["positions"]} == set(invest.positions)
    assert {p["ticker"] for p in second["positions"]} == set(isa.positions)
    combined = data["combined"]
    assert list(combined) == ["currency", "total_value", "cash", "total_risk_pct"]
    assert combined["currency"] == first["account"]["currency"]
    assert combined["total_value"] == pytest.approx(first["account"]["total_value"] + second["account"]["total_value"],
                                                    abs=0.01)
    assert combined["cash"] == pytest.approx(first["account"]["cash"] + second["account"]["cash"], abs=0.01)
    at_risk = sum(a["total_risk_pct"] * a["account"]["total_value"] for a in (first, second)) / 100
    assert combined["total_risk_pct"] == pytest.approx(100 * at_risk / combined["total_value"], abs=1e-3)
    # each account asked its own server, with its own key
    assert invest.count("GET", "/equity/positions") >= 1 and isa.count("GET", "/equity/positions") >= 1

    one = _cli(two_env, tmp_path, "snapshot", "--json", "--account", "isa")
    assert one.returncode == 0, one.stderr
    only = json.loads(one.stdout)
    assert only["account_name"] == "isa" and {p["ticker"] for p in only["positions"]} == set(isa.positions)


def test_one_account_down_names_it_and_exits_3(two_servers: tuple[FakeTrading212, FakeTrading212],
                                               two_env: dict[str, str], tmp_path: Path) -> None:
    _, isa = two_servers
    isa.inject("GET", "/equity/account/summary", "status", status=401, times=50)
    proc = _cli(two_env, tmp_path, "snapshot", "--json")
    assert proc.returncode == 3 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("papishares: isa: ") and "T212_" in line and "Traceback" not in proc.stderr
    assert isa.key not in proc.stderr
    fine = _cli(two_env, tmp_path, "snapshot", "--json", "--account", "invest")
    assert fine.returncode == 0 and json.loads(fine.stdout)["account_name"] == "invest"


def test_autosell_on_off_status_over_every_account_or_one(tmp_path: Path) -> None:
    env = {"PAPISHARES_ACCOUNTS": "invest,isa", "DB_PATH": str(tmp_path / "p.db")}
    assert _cli(env, tmp_path, "autosell", "status").stdout == "invest off\nisa off\n"
    assert _cli(env, tmp_path, "autosell", "on").stdout == "invest on\nisa on\n"
    assert _cli(env, tmp_path, "autosell", "off", "--account", "isa").stdout == "off\n"
    assert _cli(env, tmp_path, "autosell", "status").stdout == "invest on\nisa off\n"
    assert _cli(env, tmp_path, "autosell", "--account", "isa", "status").stdout == "off\n"
    assert _cli(env, tmp_path, "autosell", "status", "--account", "invest").stdout == "on\n"


@pytest.mark.parametrize(("args", "what"), [
    (("brokerstops", "status"), "brokerstops"),
    (("history", "trades", "--json"), "history"),
    (("autosell", "rearm", "VUSAl_EQ"), "autosell rearm"),
])
def test_one_account_commands_need_account_with_several(tmp_path: Path, args: tuple[str, ...], what: str) -> None:
    env = {"PAPISHARES_ACCOUNTS": "invest,isa", "DB_PATH": str(tmp_path / "p.db")}
    proc = _cli(env, tmp_path, *args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"papishares: {what} needs --account with several accounts: the accounts are invest, isa\n"
    named = _cli(env, tmp_path, *args, "--account", "isa")
    assert named.returncode in (0, 1) and "Traceback" not in named.stderr, named.stderr  # rearm: nothing held


def test_unknown_account_names_the_accounts(tmp_path: Path) -> None:
    env = {"PAPISHARES_ACCOUNTS": "invest,isa", "DB_PATH": str(tmp_path / "p.db")}
    proc = _cli(env, tmp_path, "brokerstops", "status", "--account", "sipp")
    assert proc.returncode == 2
    assert proc.stderr == "papishares: no account named 'sipp': the accounts are invest, isa\n"


def test_a_bad_account_variable_is_one_line_exit_2(tmp_path: Path) -> None:
    env = {"PAPISHARES_ACCOUNTS": "invest,isa", "DB_PATH": str(tmp_path / "p.db"), "T212_ISA_ENV": "paper"}
    proc = _cli(env, tmp_path, "snapshot", "--json")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == "papishares: configuration error: T212_ISA_ENV must be one of live, demo (got 'paper')\n"


def test_two_demo_accounts_offline(tmp_path: Path) -> None:
    env = {"PAPISHARES_ACCOUNTS": "invest,isa", "DB_PATH": str(tmp_path / "p.db")}
    proc = _cli(env, tmp_path, "snapshot", "--json")
    assert proc.returncode == 0, proc.stderr
    invest, isa = json.loads(proc.stdout)["accounts"]
    held = [{p["ticker"]: p["quantity"] for p in a["positions"]} for a in (invest, isa)]
    assert set(held[0]) & set(held[1]) == {"VUSAl_EQ"} and held[0]["VUSAl_EQ"] != held[1]["VUSAl_EQ"]
    assert invest["environment"] == isa["environment"] == "demo-sim"
    reset = _cli(env, tmp_path, "demo", "reset")
    assert reset.stdout == "invest: demo account reset\nisa: demo account reset\n"


def test_history_trades_and_export_carry_the_account(tmp_path: Path) -> None:
    env = {"PAPISHARES_ACCOUNTS": "invest,isa", "DB_PATH": str(tmp_path / "p.db")}
    assert _cli(env, tmp_path, "history", "sync", "--account", "isa").returncode == 0
    proc = _cli(env, tmp_path, "history", "trades", "--json", "--account", "isa")
    assert proc.returncode == 0, proc.stderr
    trades = json.loads(proc.stdout)["trades"]
    assert trades and {t["account"] for t in trades} == {"isa"}
    assert _cli(env, tmp_path, "history", "export", str(tmp_path / "out"), "--account", "isa").returncode == 0
    for name in ("trades", "dividends", "transactions", "daily"):
        header, *rows = (tmp_path / "out" / f"{name}.csv").read_text().splitlines()
        assert header.split(",")[0] == "account" and all(r.startswith("isa,") for r in rows)
    # the invest account's history is its own
    assert _cli(env, tmp_path, "history", "sync", "--account", "invest").returncode == 0
    invest = json.loads(_cli(env, tmp_path, "history", "trades", "--json", "--account", "invest").stdout)["trades"]
    assert {t["account"] for t in invest} == {"invest"}
    assert {(t["ticker"], t["opened_at"]) for t in invest}.isdisjoint({(t["ticker"], t["opened_at"]) for t in trades})


def test_one_account_history_has_no_account_field(tmp_path: Path) -> None:
    env = {"DB_PATH": str(tmp_path / "p.db")}
    assert _cli(env, tmp_path, "history", "sync").returncode == 0
    trades = json.loads(_cli(env, tmp_path, "history", "trades", "--json").stdout)["trades"]
    assert trades and all("account" not in t for t in trades)


def test_doctor_one_section_per_account(tmp_path: Path) -> None:
    env = {"PAPISHARES_ACCOUNTS": "invest,isa", "DB_PATH": str(tmp_path / "p.db")}
    proc = _cli(env, tmp_path, "doctor", "--json")
    data = json.loads(proc.stdout)
    assert [a["account"] for a in data["accounts"]] == ["invest", "isa"]
    assert all(a["checks"] for a in data["accounts"]) and data["ok"] == all(a["ok"] for a in data["accounts"])
    tax = {a["account"]: next(c for c in a["checks"] if c["name"] == "uk capital gains") for a in data["accounts"]}
    assert "tax-free" in tax["isa"]["detail"] and "tax-free" not in tax["invest"]["detail"]
    assert "PAPISHARES_ISA_ACCOUNT_TYPE=isa" in tax["isa"]["detail"]  # each account's own variables
    config = {a["account"]: a["checks"][0]["detail"] for a in data["accounts"]}
    assert "T212_ISA_API_KEY" in config["isa"] and "T212_INVEST_API_KEY" in config["invest"]
    assert not any(" T212_API_KEY" in c or "(T212_API_KEY" in c for c in config.values())
    text = _cli(env, tmp_path, "doctor")
    assert text.returncode == proc.returncode
    lines = text.stdout.splitlines()
    assert lines[0] == "== account invest ==" and "== account isa ==" in lines
    assert lines[-2].startswith("invest: ") and lines[-1].startswith("isa: ")


def test_combined_amounts_are_in_the_first_accounts_currency(
        two_servers: tuple[FakeTrading212, FakeTrading212], two_env: dict[str, str], tmp_path: Path) -> None:
    from papishares.core.money import fixed_rate

    _, isa = two_servers
    with isa.lock:
        isa.currency = "EUR"
    proc = _cli(two_env, tmp_path, "snapshot", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    first, second = data["accounts"]
    assert (first["account"]["currency"], second["account"]["currency"]) == ("GBP", "EUR")
    rate = fixed_rate("EUR", "GBP")  # no EURGBP quote was ever seen: the fixed table
    assert rate is not None and data["combined"]["currency"] == "GBP"
    assert data["combined"]["total_value"] == pytest.approx(
        first["account"]["total_value"] + rate * second["account"]["total_value"], abs=0.01)


def test_tax_is_computed_for_invest_accounts_only(tmp_path: Path) -> None:
    env = {"PAPISHARES_ACCOUNTS": "invest,isa", "DB_PATH": str(tmp_path / "p.db")}
    proc = _cli(env, tmp_path, "history", "tax", "--json", "--account", "isa")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["years"] == [] and any("Stocks ISA (PAPISHARES_ISA_ACCOUNT_TYPE=isa)" in n for n in data["notes"])
    invest = _cli(env, tmp_path, "history", "tax", "--json", "--account", "invest")
    assert "Stocks ISA" not in invest.stdout + invest.stderr and "Traceback" not in invest.stderr


def test_accounts_without_any_exchange_rate_say_so_in_one_line(
        two_servers: tuple[FakeTrading212, FakeTrading212], two_env: dict[str, str], tmp_path: Path) -> None:
    _, isa = two_servers
    with isa.lock:
        isa.currency = "CHF"  # in no rate table, never quoted
    proc = _cli(two_env, tmp_path, "snapshot", "--json")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == ("papishares: the accounts cannot be combined: no exchange rate from CHF into GBP "
                           "(use --account)\n")
    assert _cli(two_env, tmp_path, "snapshot", "--json", "--account", "isa").returncode == 0
