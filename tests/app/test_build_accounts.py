"""build_all: one App per account on one database; the single-account rows become the first account's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from papishares.app.build import UnknownAccount, app_for, build, build_all
from papishares.broker.trading212 import Trading212Client
from papishares.config import load_accounts, load_settings
from papishares.demo.broker import DemoBroker
from papishares.store.keys import Key
from tests.fakes.t212_server import FakeTrading212


def _two(db: Path, **extra: str) -> dict[str, str]:
    return {"PAPISHARES_ACCOUNTS": "invest,isa", "DB_PATH": str(db), "PAPISHARES_MARKET_DATA": "none", **extra}


def _rows(db: Path, table: str) -> list[tuple[str, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT account, ticker FROM {table} ORDER BY account, ticker").fetchall()  # noqa: S608


def test_unset_builds_the_one_app_as_build_does(tmp_path: Path) -> None:
    env = {"DB_PATH": str(tmp_path / "d.db"), "PAPISHARES_MARKET_DATA": "none"}
    (app,) = build_all(load_accounts(env, dotenv_path=None))
    assert app.settings == load_settings(env, dotenv_path=None)
    assert app.store.account == "invest" and isinstance(app.broker, DemoBroker) and app.broker.book is None
    assert app_for((app,), "invest") is app


def test_two_demo_accounts_hold_different_positions_with_one_ticker_in_both(tmp_path: Path) -> None:
    invest, isa = build_all(load_accounts(_two(tmp_path / "d.db"), dotenv_path=None))
    assert (invest.store.account, isa.store.account) == ("invest", "isa")
    assert invest.store.path == isa.store.path
    held = {app.store.account: {p.ticker: p.quantity for p in app.broker.positions()} for app in (invest, isa)}
    common = set(held["invest"]) & set(held["isa"])
    assert common == {"VUSAl_EQ"}
    assert held["invest"]["VUSAl_EQ"] != held["isa"]["VUSAl_EQ"]
    assert set(held["invest"]) != set(held["isa"]) and len(held["isa"]) >= 3
    # each account's cash is its own, and a sale in one leaves the other untouched
    assert invest.broker.account_summary().cash != isa.broker.account_summary().cash
    isa.broker.place_market_order("VUSAl_EQ", -1)
    assert {p.ticker: p.quantity for p in invest.broker.positions()} == held["invest"]


def test_the_single_account_rows_become_the_first_accounts(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    single = build(load_settings({"DB_PATH": str(db), "PAPISHARES_MARKET_DATA": "none",
                                  "PAPISHARES_ACCOUNT_TYPE": "isa"}, dotenv_path=None))
    single.store.set_autosell(True)
    single.store.record_price("AAPL_US_EQ", 10, 100.0, 120.0)
    single.store.close()
    assert _rows(db, "position_state") == [("isa", "AAPL_US_EQ")]

    main, isa = build_all(load_accounts({**_two(db), "PAPISHARES_ACCOUNTS": "main,isa"}, dotenv_path=None))
    assert main.store.autosell_enabled and not isa.store.autosell_enabled
    assert set(main.store.position_states()) == {"AAPL_US_EQ"} and isa.store.position_states() == {}
    assert main.store.get(Key.SOLE_ACCOUNT) is None
    assert [r for r in _rows(db, "position_state")] == [("main", "AAPL_US_EQ")]
    # built again: nothing moves twice
    main.store.close()
    isa.store.close()
    main2, isa2 = build_all(load_accounts({**_two(db), "PAPISHARES_ACCOUNTS": "main,isa"}, dotenv_path=None))
    assert set(main2.store.position_states()) == {"AAPL_US_EQ"} and isa2.store.position_states() == {}


def test_each_account_talks_to_its_own_trading212(tmp_path: Path) -> None:
    with FakeTrading212.running(key="key-invest", positions=3) as one, \
            FakeTrading212.running(key="key-isa", scenario="many", positions=7) as two:
        env = _two(tmp_path / "d.db", T212_INVEST_API_KEY=one.key, T212_INVEST_SECRET_KEY=one.secret or "",
                   T212_INVEST_API_BASE=one.base_url, T212_ISA_API_KEY=two.key,
                   T212_ISA_SECRET_KEY=two.secret or "", T212_ISA_API_BASE=two.base_url)
        apps = build_all(load_accounts(env, dotenv_path=None))
        assert all(isinstance(a.broker, Trading212Client) for a in apps)
        counts = {a.store.account: len(a.broker.positions()) for a in apps}
        assert counts == {"invest": len(one.positions), "isa": len(two.positions)}
        assert counts["invest"] != counts["isa"]


def test_app_for_an_unknown_name_names_the_accounts(tmp_path: Path) -> None:
    apps = build_all(load_accounts(_two(tmp_path / "d.db"), dotenv_path=None))
    assert app_for(apps, "isa") is apps[1]
    with pytest.raises(UnknownAccount) as caught:
        app_for(apps, "sipp")
    assert str(caught.value) == "no account named 'sipp': the accounts are invest, isa"


def test_build_without_settings_is_the_first_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name, value in _two(tmp_path / "d.db", PAPISHARES_ACCOUNTS="main,isa").items():
        monkeypatch.setenv(name, value)
    app = build()
    assert app.settings.account_name == "main" and app.store.account == "main"
    assert app.settings.several and isinstance(app.broker, DemoBroker) and app.broker.book == 0
    assert [a.store.account for a in build_all()] == ["main", "isa"]
