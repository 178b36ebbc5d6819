"""Two demo accounts in the dashboard: the sidebar's picker, All-accounts Home/Risk/History, the toggle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from papishares.core.models import Snapshot
from papishares.store.db import Store
from papishares.ui import combined, data, tables
from papishares.ui.accounts import ALL
from tests.fakes.t212_server import FakeTrading212
from tests.ui.conftest import clear_caches, open_page


@pytest.fixture(autouse=True)
def two_accounts(monkeypatch: pytest.MonkeyPatch, ui_env: Path) -> Path:
    monkeypatch.setenv("PAPISHARES_ACCOUNTS", "invest,isa")
    return ui_env


def snapshots() -> dict[str, Snapshot]:
    found = {a.account_name: data.load_snapshot(a).snapshot for a in data.current_accounts()}
    return {name: snap for name, snap in found.items() if snap is not None}


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_home_shows_the_whole_book_by_default(ui_env: Path) -> None:
    at = open_page()
    assert not at.exception
    picker = at.sidebar.selectbox(key="account_picker")
    assert picker.options == [ALL, "invest", "isa"] and picker.value == ALL
    snaps = snapshots()
    invest, isa = snaps["invest"], snaps["isa"]
    both = combined.combine([("invest", invest, None), ("isa", isa, None)], 7.0)
    shown = metrics(at)
    assert shown["Value of all accounts"] == tables.price_text(invest.account.total_value
                                                               + isa.account.total_value, "GBP")
    assert shown["Open positions"] == str(len(invest.positions) + len(isa.positions))
    assert shown["Auto-sell invest"] == shown["Auto-sell isa"] == "off"
    gauge = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert gauge["value"] == pytest.approx(both.total_risk_pct)
    assert min(invest.total_risk_pct, isa.total_risk_pct) < both.total_risk_pct < max(
        invest.total_risk_pct, isa.total_risk_pct)
    assert list(at.dataframe[0].value["Account"]) == ["invest", "isa"]


def test_the_choice_follows_the_user_across_pages() -> None:
    at = open_page()
    at.sidebar.selectbox(key="account_picker").select("isa").run()
    isa = snapshots()["isa"]
    assert metrics(at)["Account value"] == tables.price_text(isa.account.total_value, "GBP")
    at.switch_page("pages/2_Risk.py").run()
    assert not at.exception
    assert at.sidebar.selectbox(key="account_picker").value == "isa"
    assert metrics(at)["Total risk"] == f"{isa.total_risk_pct:.2f}%"


def test_risk_for_all_accounts_names_each_positions_account() -> None:
    at = open_page("pages/2_Risk.py")
    assert not at.exception
    frame = at.dataframe[0].value
    snaps = snapshots()
    assert sorted(frame["Account"]) == sorted(n for n, s in snaps.items() for _ in s.positions)
    twice = frame.groupby("Ticker")["Account"].nunique()
    assert (twice == 2).any(), "the demo holds one ticker in both accounts: two rows, one per account"
    assert metrics(at)["Limit (TOTAL_RISK_PERCENTAGE)"] == "7%"


def test_history_for_all_accounts_adds_both_books() -> None:
    at = open_page("pages/8_History.py")
    assert not at.exception, at.exception
    trades = next(d.value for d in at.dataframe if "r_multiple" in d.value.columns)
    assert set(trades["account"]) == {"invest", "isa"}
    assert metrics(at)["Closed trades"] == str(len(trades))
    assert at.get("plotly_chart"), "the equity curve of the whole book"


def test_a_one_account_page_says_which_account_it_shows() -> None:
    at = open_page("pages/3_Charts.py")
    assert not at.exception
    assert any("one account at a time: this is invest" in i.value for i in at.info)


def test_positions_of_all_accounts_name_their_account() -> None:
    at = open_page("pages/1_Positions.py")
    assert not at.exception
    frame = at.dataframe(key="positions_table").value
    snaps = snapshots()
    assert list(frame["Account"]) == [n for n, s in snaps.items() for _ in s.positions]
    assert "% of all accounts" not in frame.columns
    at.switch_page("pages/2_Risk.py").run()
    risk = at.dataframe[0].value
    assert risk["% of all accounts"].sum() == pytest.approx(
        risk["Risk"].sum() / sum(s.account.total_value for s in snaps.values()) * 100)


def test_all_accounts_toggle_asks_then_sets_every_account(ui_env: Path) -> None:
    at = open_page()
    toggle = at.sidebar.toggle(key="autosell_toggle_all")
    assert toggle.value is False
    toggle.set_value(True).run()
    assert not Store(ui_env, "invest").autosell_enabled and not Store(ui_env, "isa").autosell_enabled
    assert any("every account (invest, isa)" in w.value for w in at.sidebar.warning)
    at.sidebar.button(key="autosell_all_no").click().run()
    assert not at.sidebar.warning and not Store(ui_env, "invest").autosell_enabled
    at.sidebar.toggle(key="autosell_toggle_all").set_value(True).run()
    at.sidebar.button(key="autosell_all_yes").click().run()
    assert Store(ui_env, "invest").autosell_enabled and Store(ui_env, "isa").autosell_enabled
    assert at.sidebar.toggle(key="autosell_toggle_all").value is True
    assert metrics(at)["Auto-sell invest"] == metrics(at)["Auto-sell isa"] == "ON"


def test_the_toggle_acts_on_the_account_shown_only(ui_env: Path) -> None:
    at = open_page()
    at.sidebar.selectbox(key="account_picker").select("isa").run()
    at.sidebar.toggle(key="autosell_toggle_isa").set_value(True).run()
    assert not at.exception
    assert Store(ui_env, "isa").autosell_enabled and not Store(ui_env, "invest").autosell_enabled
    at.sidebar.selectbox(key="account_picker").select(ALL).run()
    assert at.sidebar.toggle(key="autosell_toggle_all").value is False  # on only when on everywhere
    assert any("invest: off · isa: on" in c.value for c in at.sidebar.caption)


def test_two_invest_accounts_each_get_their_tax_panel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPISHARES_ACCOUNTS", "main,spare")  # both invest accounts: two panels, two buttons
    at = open_page("pages/8_History.py")
    assert not at.exception, at.exception
    assert {b.key for b in at.button if b.key and b.key.startswith("tax_compute")} == {"tax_compute_main",
                                                                                       "tax_compute_spare"}


def test_activity_for_all_accounts_names_the_account_of_each_entry(ui_env: Path) -> None:
    Store(ui_env, "isa").journal("alert", "VUSA_EQ", "stop_breached", "VUSA fell below its stop")
    Store(ui_env, "invest").journal("alert", "AAPL_US_EQ", "stop_breached", "AAPL fell below its stop")
    at = open_page("pages/5_Activity.py")
    assert not at.exception
    events = at.dataframe[0].value
    assert {"isa · VUSA_EQ", "invest · AAPL_US_EQ"} <= set(events["ticker"])
    at.sidebar.selectbox(key="account_picker").select("isa").run()
    assert "invest · AAPL_US_EQ" not in set(at.dataframe[0].value["ticker"]) and not at.exception
    assert "AAPL_US_EQ" not in set(at.dataframe[0].value["ticker"])


def test_a_single_account_database_becomes_the_first_accounts(monkeypatch: pytest.MonkeyPatch,
                                                               ui_env: Path) -> None:
    monkeypatch.delenv("PAPISHARES_ACCOUNTS")
    at = open_page()
    at.sidebar.toggle[0].set_value(True).run()  # auto-sell on in the single-account set-up
    clear_caches()
    monkeypatch.setenv("PAPISHARES_ACCOUNTS", "main,isa")
    at = open_page()
    assert not at.exception
    assert metrics(at)["Auto-sell main"] == "ON" and metrics(at)["Auto-sell isa"] == "off"
    assert Store(ui_env, "main").journal_entries(kind="autosell")[0]["action"] == "on"  # its journal too
    assert not Store(ui_env, "isa").journal_entries(kind="autosell")


def point(monkeypatch: pytest.MonkeyPatch, name: str, server: FakeTrading212, env: str) -> None:
    """Account `name` (upper case) at this emulated Trading 212, through its own variables."""
    for variable, value in server.env().items():
        if variable.startswith("T212_"):
            monkeypatch.setenv(variable.replace("T212_", f"T212_{name}_", 1), value)
    monkeypatch.setenv(f"T212_{name}_ENV", env)
    monkeypatch.setenv("PAPISHARES_MARKET_DATA", "none")


def test_all_accounts_toggle_warns_about_a_live_account(monkeypatch: pytest.MonkeyPatch, ui_env: Path) -> None:
    with FakeTrading212.running() as live, FakeTrading212.running() as paper:
        point(monkeypatch, "INVEST", live, "live")
        point(monkeypatch, "ISA", paper, "demo")
        at = open_page()
        assert not at.exception
        badges = [b.value for b in at.sidebar.markdown if "badge" in b.value]
        assert badges == [":red-badge[LIVE]", ":orange-badge[PAPER]"]
        at.sidebar.toggle(key="autosell_toggle_all").set_value(True).run()
        warning = at.sidebar.warning[0].value
        assert "LIVE (real money): invest" in warning and "PAPISHARES_ALLOW_LIVE_ORDERS is not true" in warning
        assert not Store(ui_env, "invest").autosell_enabled
        at.sidebar.button(key="autosell_all_yes").click().run()
        assert Store(ui_env, "invest").autosell_enabled and Store(ui_env, "isa").autosell_enabled


def test_orders_of_all_accounts_name_their_account() -> None:
    at = open_page("pages/4_Orders.py")
    assert not at.exception
    snaps = snapshots()
    frame = at.dataframe[0].value
    assert set(frame["Account"]) == {"invest", "isa"}  # the demo keeps orders in both
    assert list(frame["Account"]) == [n for n, s in snaps.items() for _ in s.orders]
    assert metrics(at)["Pending orders"] == str(len(frame))


def test_one_accounts_rejected_key_costs_that_account_only(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeTrading212.running() as invest, FakeTrading212.running() as isa:
        point(monkeypatch, "INVEST", invest, "demo")
        point(monkeypatch, "ISA", isa, "demo")
        monkeypatch.setenv("T212_ISA_API_KEY", "revoked-key")
        at = open_page()
        assert not at.exception
        assert any("rejected the API key" in e.value for e in at.error)
        assert any("Not in the totals: isa" in w.value for w in at.warning)
        shown = data.load_snapshot(data.current_accounts()[0]).snapshot
        assert shown is not None
        assert metrics(at)["Value of all accounts"] == tables.price_text(shown.account.total_value, "GBP")
        assert metrics(at)["Open positions"] == str(len(shown.positions))
