"""The acting commands as typed data: auto-sell, re-arm, broker stops, /sell's question.

The CLI, Telegram and the dashboard call these same functions; the CLI's words are checked here
through a real `python -m papishares` process.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from papishares.commands import autosell, brokerstops, render_cli
from papishares.commands import render_telegram as render
from papishares.commands.reading import UnknownPosition
from papishares.commands.sell import HeldByOwnOrders, SellQuestion, SellRequested, ask_sell
from papishares.config import Settings
from papishares.core.models import Order
from papishares.orders import stop_keeper
from papishares.store import intents, managed_stops
from papishares.store.db import Store
from tests.fakes.telegram_server import html_error
from tests.notify.test_rules import position, snapshot
from tests.worker.test_loop import base_env, papishares

TSLA = "TSLA_US_EQ"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "p.db")


def hold(store: Store, ticker: str = TSLA, since: float = 1.0) -> None:
    intents.hold(store, ticker, "unknown", since)


def test_autosell_switch_is_journalled_and_read_back(store: Store) -> None:
    assert autosell.state(store) == autosell.AutoSellState(False)
    assert autosell.switch(store, True) == autosell.AutoSellChanged(True)
    assert autosell.state(store).enabled and store.journal_entries(kind="autosell")[0]["action"] == "on"
    assert render_cli.autosell_word(autosell.switch(store, False)) == "off"
    assert render.text(autosell.AutoSellChanged(True)) == "Auto-sell is now <b>ON</b>."


def test_held_and_rearm(store: Store) -> None:
    hold(store, "MSFT_US_EQ", 2.0)
    hold(store, TSLA, 1.0)
    assert autosell.held(store) == (autosell.HeldPosition(TSLA, "unknown", 1.0),
                                    autosell.HeldPosition("MSFT_US_EQ", "unknown", 2.0))  # oldest first
    done = autosell.rearm(store, TSLA)
    assert done == autosell.RearmResult(TSLA, True) and render_cli.rearm_line(done) == f"{TSLA} re-armed for auto-sell"
    again = autosell.rearm(store, TSLA)
    assert not again.rearmed and render_cli.rearm_line(again) == f"nothing is held back from auto-sell for {TSLA}"
    assert [h.ticker for h in autosell.held(store)] == ["MSFT_US_EQ"]


def test_the_questions_before_acting(store: Store, tmp_path: Path) -> None:
    live = Settings(db_path=tmp_path / "p.db", broker="t212", t212_env="live")
    assert autosell.ask_switch(live, True) == autosell.AutoSellQuestion(True, True, False)
    assert autosell.ask_switch(live, False).live is False  # switching off needs no warning
    assert "LIVE account" in render.text(autosell.ask_switch(live, True))
    snap = snapshot(position())
    assert autosell.ask_rearm(store, snap, "tsla") == autosell.NothingHeld("tsla")
    hold(store)
    assert autosell.ask_rearm(store, snap, "tsla") == autosell.RearmQuestion(TSLA)  # by its short name
    assert autosell.ask_rearm(store, None, "tsla_us_eq") == autosell.RearmQuestion(TSLA)


def test_sell_question(store: Store) -> None:
    snap = snapshot(position(quantity=2.123456789, quantity_available=2.123456789))
    q = ask_sell(store, snap, "tsla")
    assert isinstance(q, SellQuestion) and q.quantity == 2.1234 and q.reserved == 0 and q.managed_stop_price is None
    assert ask_sell(store, snap, "MSFT") == UnknownPosition("MSFT", ("TSLA",))
    assert isinstance(ask_sell(store, None, "TSLA"), UnknownPosition)
    own = snapshot(position(quantity_available=0.0, manual_stop_loss_quantity=3.0, manual_stop_loss_price=200.0))
    held = ask_sell(store, own, "TSLA")
    assert isinstance(held, HeldByOwnOrders) and "your own pending sell orders" in held.message


def test_sell_question_frees_the_managed_stop_first(store: Store) -> None:
    managed_stops.record(store, TSLA, 77, 190.0, 3.0, 3.0, 1)
    stop = Order(id=77, ticker=TSLA, type="STOP", side="SELL", quantity=-3.0, stop_price=190.0, status="NEW")
    snap = replace(snapshot(position(quantity_available=0.0)), orders=(stop,))
    q = ask_sell(store, snap, TSLA)
    assert isinstance(q, SellQuestion) and q.quantity == 3.0 and q.reserved == 3.0 and q.managed_stop_price == 190.0
    assert "(3 at 190) is cancelled first" in render.text(q)


def test_sell_requested_words() -> None:
    assert render.answer(SellRequested(TSLA, "tgsell:x")) == "Sell requested."
    assert render.answer(SellRequested(TSLA, None)) == "Already requested."
    assert render.sell_outcome(TSLA, "filled", None) == f"✅ <b>/sell {TSLA}</b>: filled"
    assert render.sell_outcome("A&B", "odd", "x < y").startswith("⏸ <b>/sell A&amp;B</b>: x &lt; y")


@pytest.mark.parametrize("environment_on", [False, True])
def test_broker_stops_status_renders_as_the_stop_keeper_reports_it(store: Store, environment_on: bool) -> None:
    now = 1_800_000_000.0

    def same() -> list[str]:
        lines = render_cli.brokerstops_lines(brokerstops.status(store, environment_on, now))
        assert lines == stop_keeper.status_lines(store, environment_on, now)
        return lines

    assert same() == ["on" if environment_on else "off"]
    managed_stops.record(store, "TSLA_US_EQ", 77, 190.5, 3.0, 3.0, 1)
    managed_stops.record(store, "AAPL_US_EQ", 78, 140.0, 1.5, 1.5, 1)
    assert brokerstops.leave_out(store, "MSFT_US_EQ", "switched off by the user").changed
    store.set_json(stop_keeper.REFUSED_KEY, {"account": {"at": now - 10, "reason": "no stop orders"},
                                             "tickers": {"NVDA_US_EQ": {"at": now - 10, "reason": "not supported"},
                                                         "OLD_US_EQ": {"at": now - 90000, "reason": "long ago"}}})
    assert brokerstops.switch(store, not environment_on) == brokerstops.BrokerStopsSwitched(not environment_on)
    lines = same()
    assert lines[0] == ("off" if environment_on else "on") + " (set on the dashboard)"
    assert lines[1:3] == ["managed: AAPL_US_EQ 1.5 at 140 (order 78)", "managed: TSLA_US_EQ 3 at 190.5 (order 77)"]
    assert "left out: MSFT_US_EQ (switched off by the user)" in lines
    assert lines[-2:] == ["refused for the account: no stop orders (tried again in a day)",
                          "refused: NVDA_US_EQ: not supported (tried again in a day)"]
    s = brokerstops.status(store, environment_on, now)
    assert s.set_on_dashboard and s.environment_on is environment_on and s.on is not environment_on
    brokerstops.switch(store, None)
    assert not brokerstops.status(store, environment_on, now).set_on_dashboard


def test_positions_switched_in_and_out(store: Store) -> None:
    out = brokerstops.leave_out(store, TSLA, "because")
    assert render_cli.position_switched_line(out).startswith(f"{TSLA} left out of the stops kept at the broker")
    back = brokerstops.keep(store, TSLA)
    assert back.changed and render_cli.position_switched_line(back) == f"{TSLA} taken back into the stops kept at the broker"
    assert render_cli.position_switched_line(brokerstops.keep(store, TSLA)) == f"{TSLA} was not left out"


def test_every_acting_result_renders_valid_telegram_html(store: Store) -> None:
    p = position(short_name="A<B", name="A & B")
    results = [autosell.AutoSellQuestion(True, False, False), autosell.RearmQuestion("A<B"),
               autosell.NothingHeld("<x>"), autosell.RearmResult("A<B", True), autosell.RearmResult("A<B", False),
               autosell.AutoSellChanged(False), SellQuestion(p, 1.0, 0.0, None), HeldByOwnOrders("T", "a < b"),
               SellRequested("A<B", "k"), UnknownPosition("<x>", ("A<B",))]
    for result in results:
        assert html_error(render.text(result)) is None, result
    with pytest.raises(TypeError):
        render.text(object())


def test_the_cli_prints_the_same_results(tmp_path: Path) -> None:
    env = base_env(tmp_path / "p.db")
    assert papishares(["autosell", "on"], env, tmp_path).stdout == "on\n"
    assert papishares(["autosell", "status"], env, tmp_path).stdout == "on\n"
    missing = papishares(["autosell", "rearm", TSLA], env, tmp_path)
    assert missing.returncode == 1 and missing.stderr == f"papishares: nothing is held back from auto-sell for {TSLA}\n"
    hold(Store(tmp_path / "p.db"))
    rearmed = papishares(["autosell", "rearm", TSLA], env, tmp_path)
    assert rearmed.returncode == 0 and rearmed.stdout == f"{TSLA} re-armed for auto-sell\n"
    off = papishares(["brokerstops", "off", TSLA], env, tmp_path)
    assert off.stdout == f"{TSLA} left out of the stops kept at the broker (its stop is cancelled by the worker)\n"
    assert papishares(["brokerstops", "status"], env, tmp_path).stdout == f"off\nleft out: {TSLA} (switched off by the user)\n"
    assert papishares(["brokerstops", "on", TSLA], env, tmp_path).stdout == f"{TSLA} taken back into the stops kept at the broker\n"
    assert papishares(["brokerstops", "on", TSLA], env, tmp_path).stdout == f"{TSLA} was not left out\n"
