"""Several accounts: one worker, one lease, every account, against two emulated Trading 212 servers.

Each account has its own server (its own key, its own rate limits) and the one SQLite file. The
same ticker (TSLA, 3 @ 250 USD, price 230, stop about 206) is held in both: two positions. The
cycles run in-process so each test controls when they happen; every request goes over real HTTP.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from papishares.broker.trading212 import Trading212Client
from papishares.commands.accounts import AccountsCommands
from papishares.commands.handlers import ACTIONS_OFF, Commands
from papishares.config import Secret
from papishares.market.none import NoMarketData
from papishares.snapshot.service import Service
from papishares.store.db import Store
from papishares.worker.loop import CycleReport, Worker, combined
from tests.conftest import t212_settings_for
from tests.fakes.t212_server import FakeTrading212
from tests.fakes.telegram_server import TelegramServer
from tests.orders.test_stop_keeper import only
from tests.support import wait_for
from tests.worker.test_loop import TOKEN, base_env, papishares, query
from tests.worker.test_loop import procs as procs  # noqa: F401 - a fixture this module uses

POSITIONS_PERIOD = 1.25  # the client serves cached positions for just over 1 s
TSLA = "TSLA_US_EQ"
NAMES = ("invest", "isa")


def test_one_cycle_over_several_accounts_is_ok_only_when_every_part_is() -> None:
    both = combined({"invest": CycleReport(True, None, 3, 1), "isa": CycleReport(True, "stale", 2)})
    assert (both.ok, both.note, both.positions, both.alerts, both.lease_lost) == (True, "isa: stale", 5, 1, False)
    one_down = combined({"invest": CycleReport(False, "key rejected"), "isa": CycleReport(True, None, 2)})
    assert (one_down.ok, one_down.note, one_down.positions) == (False, "invest: key rejected", 2)
    assert set(one_down.accounts) == {"invest", "isa"}
    lost = combined({"invest": CycleReport(True, "lease lost during the cycle: not acting", lease_lost=True)})
    assert lost.lease_lost


class Account:
    def __init__(self, name: str, server: FakeTrading212, db: Path, key: str | None = None, **overrides: Any) -> None:
        self.name = name
        self.server = server
        self.settings = t212_settings_for(server, db, account=name, accounts=NAMES, worker_positions_interval=1.0,
                                          telegram_actions=True, **overrides)
        if key is not None:  # a revoked / wrong key
            self.settings = replace(self.settings, t212_api_key=Secret(key))
        self.store = Store(db, name)
        self.broker = Trading212Client(self.settings, self.store)
        self.service = Service(self.settings, self.store, self.broker, NoMarketData())

    def intents(self) -> list[dict[str, Any]]:
        return self.store.query("SELECT * FROM sell_intents WHERE account = ? ORDER BY id", (self.name,))

    def alerts(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.store.journal_entries(500, kind="alert") if r["action"] == kind]

    def close(self) -> None:
        self.broker.close()
        self.store.close()


class Rig:
    """Two accounts on one file, one worker (more can be made: `worker()`)."""

    def __init__(self, servers: tuple[FakeTrading212, FakeTrading212], db: Path, **kw: Any) -> None:
        self.db = db
        self.kw = kw
        self.accounts = [Account(n, s, db, **kw.get(n, {})) for n, s in zip(NAMES, servers, strict=True)]
        self.workers: list[Worker] = []
        self.main = self.worker()
        assert self.main.lease.try_acquire()[0]

    def worker(self, accounts: list[Account] | None = None) -> Worker:
        first, second = accounts or self.accounts
        w = Worker(first.settings, first.service, more=[(second.settings, second.service)], unknown_grace=0.0)
        self.workers.append(w)
        return w

    @property
    def invest(self) -> Account:
        return self.accounts[0]

    @property
    def isa(self) -> Account:
        return self.accounts[1]

    def cycle(self, worker: Worker | None = None, wait: bool = True) -> Any:
        if wait:
            time.sleep(POSITIONS_PERIOD)
        return (worker or self.main).cycle()

    def close(self) -> None:
        for w in self.workers:
            w.notifier.close()
        for a in self.accounts:
            a.close()


@pytest.fixture
def servers() -> Iterator[tuple[FakeTrading212, FakeTrading212]]:
    with FakeTrading212.running(key="INVEST_KEY", secret="INVEST_SECRET") as a, \
            FakeTrading212.running(key="ISA_KEY", secret="ISA_SECRET") as b:
        yield a, b
        for server in (a, b):  # each account within its own server's limits
            assert server.violations_total == 0, dict(server.violations)


@pytest.fixture
def rig(servers: tuple[FakeTrading212, FakeTrading212], tmp_path: Path) -> Iterator[Rig]:
    r = Rig(servers, tmp_path / "p.db")
    for a in r.accounts:
        a.store.set_autosell(True)
    yield r
    r.close()


def test_a_breach_in_one_account_sells_there_once_and_never_in_the_other(rig: Rig) -> None:
    rig.cycle(wait=False)
    rig.invest.server.set_price(TSLA, 200.0)  # through the stop in invest only
    report = rig.cycle()
    assert report.ok and set(report.accounts) == set(NAMES)
    assert [d.reason for d in report.accounts["invest"].decisions] == ["sell"]
    assert report.accounts["isa"].decisions == []
    assert [s["body"]["ticker"] for s in rig.invest.server.sells()] == [TSLA]
    assert rig.isa.server.sells() == []
    assert [i["status"] for i in rig.invest.intents()] == ["filled"] and rig.isa.intents() == []
    assert len(rig.invest.alerts("autosell_placed")) == 1 and rig.isa.alerts("autosell_placed") == []
    rig.cycle()
    rig.cycle()
    assert len(rig.invest.server.sells()) == 1 and rig.isa.server.sells() == []
    # the isa account's TSLA is untouched: still held, still watched
    assert rig.main.account("isa").previous is not None
    assert rig.main.account("isa").previous.position(TSLA) is not None
    assert rig.main.account("invest").previous.position(TSLA) is None
    # each account asked its own server, with its own key (the other's would get 401s)
    for a in rig.accounts:
        assert a.server.count("GET", "/equity/positions") >= 3
        assert not [r for r in a.server.requests if r[2] in (401, 429)]


def test_the_same_breach_in_both_accounts_is_two_sales_one_each(rig: Rig) -> None:
    rig.cycle(wait=False)
    for a in rig.accounts:
        a.server.set_price(TSLA, 200.0)
    rig.cycle()
    rig.cycle()
    assert len(rig.invest.server.sells()) == 1 and len(rig.isa.server.sells()) == 1
    assert [i["status"] for i in rig.invest.intents()] == ["filled"]
    assert [i["status"] for i in rig.isa.intents()] == ["filled"]


def test_autosell_off_in_one_account_leaves_the_other_selling(rig: Rig) -> None:
    rig.invest.store.set_autosell(False)
    rig.cycle(wait=False)
    for a in rig.accounts:
        a.server.set_price(TSLA, 200.0)
    rig.cycle()
    assert rig.invest.server.sells() == [] and len(rig.isa.server.sells()) == 1


@pytest.mark.parametrize("trouble", ["revoked", "5xx"])
def test_one_accounts_broker_trouble_costs_that_account_only(servers: tuple[FakeTrading212, FakeTrading212],
                                                             tmp_path: Path, trouble: str) -> None:
    kw = {"invest": {"key": "REVOKED"}} if trouble == "revoked" else {}
    r = Rig(servers, tmp_path / "p.db", **kw)
    try:
        for a in r.accounts:
            a.store.set_autosell(True)
        if trouble == "5xx":
            r.cycle(wait=False)  # both fine once; then invest's server fails every positions request
            r.invest.server.inject("GET", "/equity/positions", "status", status=503, times=100)
            r.invest.server.inject("GET", "/equity/portfolio", "status", status=503, times=100)
        else:
            r.cycle(wait=False)
        r.isa.server.set_price(TSLA, 200.0)
        r.invest.server.set_price(TSLA, 200.0)
        report = r.cycle()
        # a revoked key gives no snapshot; a 5xx gives the last good one, stale: never acted on
        assert report.accounts["invest"].ok is (trouble == "5xx") and report.accounts["isa"].ok
        assert report.note is not None and report.note.startswith("invest: ") and "isa:" not in report.note
        assert len(r.isa.server.sells()) == 1 and r.invest.server.sells() == []
        assert r.invest.intents() == [] and [i["status"] for i in r.isa.intents()] == ["filled"]
        if trouble == "revoked":  # its own alert, in its own account, once
            r.cycle()
            assert len(r.invest.alerts("auth_rejected")) == 1 and r.isa.alerts("auth_rejected") == []
        # the heartbeat says which account is in trouble
        from papishares.store.lease import read_lease
        holder = read_lease(r.invest.store)
        assert holder is not None
        assert holder.info["accounts"]["invest"]["note"] and holder.info["accounts"]["isa"]["note"] is None
    finally:
        if trouble == "revoked":
            servers[0].allow_spec_violations = True
        r.close()


def test_a_price_in_doubt_in_one_account_sells_nothing_there_while_the_other_sells(rig: Rig) -> None:
    rig.cycle(wait=False)
    rig.invest.server.set_price(TSLA, 2.30)  # ~100x down: a units mix-up, not a crash: never acted on
    rig.isa.server.set_price(TSLA, 200.0)
    report = rig.cycle()
    rig.cycle()
    assert [d.reason for d in report.accounts["isa"].decisions] == ["sell"]
    assert all(d.action != "sell" for d in report.accounts["invest"].decisions)
    assert rig.invest.server.sells() == [] and len(rig.isa.server.sells()) == 1


def test_a_bug_in_one_accounts_cycle_costs_that_account_only(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(rig.main.account("invest").service, "snapshot", broken)
    rig.cycle(wait=False)
    rig.isa.server.set_price(TSLA, 200.0)
    report = rig.cycle()
    assert not report.accounts["invest"].ok and report.accounts["isa"].ok
    assert len(rig.isa.server.sells()) == 1


def test_two_workers_and_a_restart_never_sell_twice_in_either_account(rig: Rig, tmp_path: Path) -> None:
    second = rig.worker([Account(n, a.server, rig.db) for n, a in zip(NAMES, rig.accounts, strict=True)])
    assert not second.lease.try_acquire()[0]  # one lease for every account
    rig.cycle(wait=False)
    for a in rig.accounts:
        a.server.set_price(TSLA, 200.0)
        a.server.inject("POST", "/equity/orders/market", "place_then_500")  # sent, outcome unknown
    rig.cycle()
    # the first worker stops without reconciling; the standby takes over (a restart of the other)
    rig.main.lease.release()
    assert second.lease.try_acquire()[0]
    for _ in range(3):
        rig.cycle(second)
    for a in rig.accounts:
        assert len(a.server.sells()) == 1, a.name
        assert [i["status"] for i in a.intents()] == ["filled"], a.name
    # the first worker, still running, acts no more: its lease is gone
    report = rig.cycle(rig.main)
    assert report.lease_lost or all(not r.decisions for r in report.accounts.values())
    assert all(len(a.server.sells()) == 1 for a in rig.accounts)


# -- Telegram: which account ------------------------------------------------------------------------
def commands(rig: Rig) -> AccountsCommands:
    return AccountsCommands([Commands(a.settings, a.store, a.service.last_snapshot) for a in rig.accounts])


def test_sell_of_a_ticker_in_two_accounts_asks_which_and_sells_only_there(rig: Rig) -> None:
    rig.cycle(wait=False)
    cmds = commands(rig)
    ask = cmds.handle("/sell TSLA", "1", "2")
    assert ask is not None and "invest and isa" in ask.text and ask.confirmation is None
    assert [b.text for b in ask.buttons] == ["invest", "isa"]
    picked = cmds.press(ask.buttons[1].data, "1", "2")
    assert picked.reply is not None and picked.reply.text.startswith("<b>[isa]</b>")
    assert picked.reply.confirmation is not None
    assert rig.isa.store.query("SELECT count(*) AS n FROM manual_sells")[0]["n"] == 0  # asked, not requested
    ok = next(b.data for b in picked.reply.buttons if b.data.startswith("ok:"))
    done = cmds.press(ok, "1", "2")
    assert done.edit is not None and done.edit.startswith("<b>[isa]</b>")
    assert cmds.press(ok, "1", "2").answer.startswith("Already")  # pressed twice: acts once
    rig.cycle()
    rig.cycle()
    assert len(rig.isa.server.sells()) == 1 and rig.invest.server.sells() == []
    assert [i["origin"] for i in rig.isa.intents()] != [] and rig.invest.intents() == []


def test_sell_and_autosell_naming_the_account(rig: Rig) -> None:
    rig.cycle(wait=False)
    cmds = commands(rig)
    ask = cmds.handle("/sell invest TSLA")
    assert ask is not None and ask.text.startswith("<b>[invest]</b>") and ask.confirmation is not None
    assert rig.invest.store.query("SELECT count(*) AS n FROM tg_confirmations WHERE account = 'invest'")[0]["n"] == 1
    assert rig.isa.store.query("SELECT count(*) AS n FROM tg_confirmations WHERE account = 'isa'")[0]["n"] == 0
    which = cmds.handle("/autosell off")
    assert which is not None and "invest on; isa on" in which.text and not which.buttons
    ask = cmds.handle("/autosell off isa")
    assert ask is not None and ask.confirmation is not None
    cmds.press(f"ok:{ask.confirmation}")
    assert rig.invest.store.autosell_enabled and not rig.isa.store.autosell_enabled
    nowhere = cmds.handle("/sell NOPE")
    assert nowhere is not None and "any account" in nowhere.text
    status = cmds.handle("/positions")
    assert status is not None and "<b>[invest]</b>" in status.text and "<b>[isa]</b>" in status.text


def test_a_managed_stop_moves_in_its_own_account_only(servers: tuple[FakeTrading212, FakeTrading212],
                                                      tmp_path: Path) -> None:
    stops = {"broker_stops": True, "broker_stop_interval": 0.0, "broker_stop_min_move": 0.5}
    for server in servers:
        only(server, TSLA)
    r = Rig(servers, tmp_path / "p.db", invest=stops, isa=stops)
    try:
        def stop_posts(server: FakeTrading212) -> list[dict[str, Any]]:
            return [p for p in server.order_posts if "stopPrice" in (p["body"] or {}) and p["body"]["ticker"] == TSLA]

        r.cycle(wait=False)
        assert len(stop_posts(r.invest.server)) == 1 and len(stop_posts(r.isa.server)) == 1
        isa_rows = "SELECT * FROM managed_stops WHERE account = 'isa'"
        isa_before = (list(r.isa.server.orders), r.isa.store.query(isa_rows))
        r.invest.server.set_price(TSLA, 270.0)  # the invest stop ratchets up; the isa one stays
        r.cycle()
        r.cycle()
        assert len(stop_posts(r.invest.server)) == 2 and len(stop_posts(r.isa.server)) == 1
        assert (list(r.isa.server.orders), r.isa.store.query(isa_rows)) == isa_before
        invest_rows = r.invest.store.query("SELECT order_id FROM managed_stops WHERE account = 'invest'")
        assert len(invest_rows) == 1
        assert invest_rows[0]["order_id"] in r.invest.server.orders
    finally:
        r.close()


def test_buttons_and_commands_that_name_no_account_or_a_wrong_one(rig: Rig) -> None:
    rig.cycle(wait=False)
    cmds = commands(rig)
    assert cmds.press("acct:nope:sell:TSLA").answer == "This button is not one of mine."
    assert cmds.press("acct:isa:autosell:on").answer == "This button is not one of mine."  # only position commands
    assert cmds.press("ok:unknownconf").answer == "This button is no longer valid."
    rearm = cmds.handle("/rearm isa TSLA")
    assert rearm is not None and rearm.text.startswith("<b>[isa]</b>")
    several = cmds.handle("/sell invest TSLA extra")
    assert several is not None and "ACCOUNT TICKER" in several.text and not several.buttons
    help_text = cmds.handle("/help")
    assert help_text is not None and "Accounts: invest, isa" in help_text.text
    assert cmds.handle("not a command") is None
    # a button pressed in one account's question never touches the other's confirmations
    ask = cmds.handle("/autosell off invest")
    assert ask is not None and ask.confirmation is not None
    assert cmds.press(f"no:{ask.confirmation}").edit == "<b>[invest]</b> Cancelled: nothing was done."
    assert rig.invest.store.autosell_enabled and rig.isa.store.autosell_enabled


def test_a_bug_behind_the_router_gets_a_sentence_not_a_traceback(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    rig.cycle(wait=False)
    cmds = commands(rig)

    def broken() -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(cmds.each["isa"], "snapshot", broken)
    reply = cmds.handle("/sell TSLA")
    assert reply is not None and reply.text == "/sell failed (RuntimeError); the worker log has the details."


def test_with_acting_commands_off_nothing_is_asked_in_any_account(rig: Rig) -> None:
    rig.cycle(wait=False)
    each = [Commands(replace(a.settings, telegram_actions=False), a.store, a.service.last_snapshot)
            for a in rig.accounts]
    cmds = AccountsCommands(each)
    for text in ("/sell TSLA", "/sell isa TSLA", "/autosell off isa"):
        reply = cmds.handle(text)
        assert reply is not None and reply.text == ACTIONS_OFF and not reply.buttons and reply.confirmation is None
    assert cmds.press("acct:isa:sell:TSLA").edit == ACTIONS_OFF
    assert rig.isa.store.query("SELECT count(*) AS n FROM tg_confirmations")[0]["n"] == 0


# -- `papishares worker` as a process ------------------------------------------------------------------
def named_env(server: FakeTrading212, name: str) -> dict[str, str]:
    """The server's variables under account `name` (T212_API_KEY -> T212_ISA_API_KEY, ...)."""
    return {k.replace("T212_", f"T212_{name.upper()}_", 1): v for k, v in server.env().items() if k.startswith("T212_")}


def two_account_env(servers: tuple[FakeTrading212, FakeTrading212], db: Path, **extra: str) -> dict[str, str]:
    return base_env(db, PAPISHARES_ACCOUNTS="invest,isa", PAPISHARES_BROKER="t212", PAPISHARES_MARKET_DATA="none",
                    **named_env(servers[0], "invest"), **named_env(servers[1], "isa"), **extra)


def test_the_worker_process_acts_for_every_account_and_alerts_name_it(
        servers: tuple[FakeTrading212, FakeTrading212], tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    with TelegramServer(token=TOKEN) as tg:
        env = two_account_env(servers, db, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_CHAT_ID="77",
                              TELEGRAM_API_BASE=tg.base)
        assert papishares(["autosell", "on"], env, tmp_path).returncode == 0  # every account
        first = papishares(["worker", "--once"], env, tmp_path)
        assert first.returncode == 0, first.stderr
        servers[1].set_price(TSLA, 200.0)  # a breach in the isa account only
        time.sleep(POSITIONS_PERIOD)
        for _ in range(2):
            again = papishares(["worker", "--once"], env, tmp_path)
            assert again.returncode == 0, again.stderr
        assert servers[0].sells() == [] and len(servers[1].sells()) == 1
        sold = query(db, "SELECT account FROM sell_intents WHERE status = 'filled'")
        assert [r["account"] for r in sold] == ["isa"]
        texts = tg.texts()
        assert texts and all(t.startswith(("<b>[invest]</b> ", "<b>[isa]</b> ")) for t in texts), texts
        assert any(t.startswith("<b>[isa]</b>") and "TSLA" in t for t in texts)
        assert not any(t.startswith("<b>[invest]</b>") and "Auto-sell" in t for t in texts)


def test_the_demo_worker_simulates_each_account_on_its_own(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    # A tiny risk budget puts the stops just under the high-water marks: losing positions breach.
    env = base_env(db, PAPISHARES_ACCOUNTS="invest,isa", PAPISHARES_DEMO_ALWAYS_OPEN="true", RISK_PERCENTAGE="0.01")
    assert papishares(["autosell", "on", "--account", "isa"], env, tmp_path).returncode == 0
    once = papishares(["worker", "--once"], env, tmp_path)
    assert once.returncode == 0, once.stderr
    sold = query(db, "SELECT DISTINCT account FROM sell_intents")
    assert [r["account"] for r in sold] == ["isa"]  # auto-sell is on in the isa account only
    off = query(db, "SELECT account FROM journal WHERE kind = 'autosell' AND action = 'skipped'")
    assert off and {r["account"] for r in off} == {"invest"}  # breached there too, and left alone
    seen = query(db, "SELECT DISTINCT account FROM position_state ORDER BY account")
    assert [r["account"] for r in seen] == ["invest", "isa"]


def test_telegram_sell_of_a_ticker_in_two_accounts_asks_which(
        servers: tuple[FakeTrading212, FakeTrading212], tmp_path: Path, procs: Any) -> None:  # noqa: F811
    db = tmp_path / "p.db"
    with TelegramServer(token=TOKEN) as tg:
        env = two_account_env(servers, db, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_CHAT_ID="77",
                              TELEGRAM_API_BASE=tg.base, PAPISHARES_TELEGRAM_ACTIONS="true")
        procs.worker(env)
        wait_for(lambda: len(query(db, "SELECT * FROM snapshots")) >= 2 if db.exists() else False, 30)
        tg.user_says("/sell TSLA")
        wait_for(lambda: any(tg.buttons(m) for m in tg.messages), 20)
        which_id, which = next((i, m) for i, m in enumerate(tg.messages, 1) if tg.buttons(m))  # ids count from 1
        assert "invest and isa" in which["text"]
        isa = next(b["callback_data"] for b in tg.buttons(which) if b["text"] == "isa")
        tg.press(isa, which_id)
        wait_for(lambda: any(m["text"].startswith("<b>[isa]</b>") and tg.buttons(m) for m in tg.messages), 20)
        question_id, question = next((i, m) for i, m in enumerate(tg.messages, 1)
                                     if m["text"].startswith("<b>[isa]</b>") and tg.buttons(m))
        ok = next(b["callback_data"] for b in tg.buttons(question) if b["callback_data"].startswith("ok:"))
        tg.press(ok, question_id)
        wait_for(lambda: len(servers[1].sells()) == 1, 30)
        wait_for(lambda: any(e["text"].startswith("<b>[isa]</b>") and "sold" in e["text"].lower()
                             for e in tg.edits + tg.messages), 30)
        time.sleep(2 * POSITIONS_PERIOD)  # a few more cycles: still one sale, none in the other account
        assert servers[0].sells() == [] and len(servers[1].sells()) == 1


def test_two_worker_processes_one_acts_for_both_accounts_and_a_restart_never_sells_again(
        servers: tuple[FakeTrading212, FakeTrading212], tmp_path: Path, procs: Any) -> None:
    db = tmp_path / "p.db"
    env = two_account_env(servers, db)
    assert papishares(["autosell", "on"], env, tmp_path).returncode == 0
    first, second = procs.worker(env), procs.worker(env)
    wait_for(lambda: len(query(db, "SELECT * FROM snapshots")) >= 2, 30)
    time.sleep(2 * POSITIONS_PERIOD)  # both accounts' TSLA recorded at the normal price
    for server in servers:
        server.set_price(TSLA, 200.0)
    wait_for(lambda: all(len(s.sells()) == 1 for s in servers), 30)
    holder = query(db, "SELECT owner FROM lease")[0]["owner"]
    acting = first if f":{first.pid}:" in holder else second
    acting.send_signal(signal.SIGTERM)  # a restart: the standby takes over every account
    acting.communicate(timeout=10)
    wait_for(lambda: query(db, "SELECT owner FROM lease")[0]["owner"] != holder, 30)
    time.sleep(3 * POSITIONS_PERIOD)  # a few cycles of the new holder
    assert [len(s.sells()) for s in servers] == [1, 1]
    rows = query(db, "SELECT account, status FROM sell_intents ORDER BY account")
    assert [(r["account"], r["status"]) for r in rows] == [("invest", "filled"), ("isa", "filled")]
