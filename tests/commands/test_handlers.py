"""The command layer: replies as data and sentences, confirmations claimed once, /sell queued once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from papishares.commands import handlers as commands
from papishares.commands.handlers import Commands, parse
from papishares.config import Settings
from papishares.core.models import Snapshot
from papishares.notify import prefs
from papishares.orders import autosell
from papishares.store import intents
from papishares.store.db import Store
from tests.fakes.telegram_server import html_error
from tests.notify.test_rules import position, snapshot

AAPL = position("AAPL_US_EQ", short_name="AAPL", name="Apple & Co", current_price=155.8, stop_loss_price=149.2,
                effective_stop=149.2, distance_to_stop_pct=4.2, risk=30.0)
TSLA = position(distance_to_stop_pct=10.4, risk=80.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make(tmp_path: Path, clock: Clock, snap: Snapshot | None = None, **settings: Any) -> Commands:
    store = Store(tmp_path / "p.db")
    shown = snap if snap is not None else snapshot(AAPL, TSLA)
    return Commands(Settings(db_path=tmp_path / "p.db", **settings), store, lambda: shown, clock=clock)


def test_parse() -> None:
    assert parse("/sell@papibot tsla") == ("sell", ["tsla"])
    assert parse("  /STATUS ") == ("status", [])
    assert parse("hello") == ("", [])
    assert parse('/sell "unclosed') == ("sell", ['"unclosed'])


def test_read_only_replies_are_valid_telegram_html(tmp_path: Path, clock: Clock) -> None:
    cmds = make(tmp_path, clock)
    for text in ("/status", "/positions", "/risk", "/help", "/notify", "/nonsense", "/chart", "/chart XYZ"):
        reply = cmds.handle(text)
        assert reply is not None and reply.text and html_error(reply.text) is None, (text, reply)
    status = cmds.handle("/status").text  # type: ignore[union-attr]
    assert "Total risk 3.00% of 7% limit" in status and "Auto-sell: off" in status and "Worker: never started" in status
    table = cmds.handle("/positions").text  # type: ignore[union-attr]
    assert table.index("AAPL") < table.index("TSLA")  # nearest to its stop first
    assert "155.80" in table and "149.20" in table and "4.2%" in table
    assert "Unknown command /nonsense" in cmds.handle("/nonsense").text  # type: ignore[union-attr]
    assert "No open position for XYZ" in cmds.handle("/chart XYZ").text  # type: ignore[union-attr]
    assert cmds.handle("just chatting") is None


def test_protection_is_shown_when_the_snapshot_has_it(tmp_path: Path, clock: Clock) -> None:
    class WithProtection:  # h4 adds `protection` to PositionView; the table reads it when present
        def __init__(self, p: Any, protection: str) -> None:
            self._p, self.protection = p, protection

        def __getattr__(self, name: str) -> Any:
            return getattr(self._p, name)

    snap = snapshot(AAPL)
    snap = Snapshot(**{**snap.__dict__, "positions": (WithProtection(AAPL, "broker"),)})  # type: ignore[arg-type]
    table = make(tmp_path, clock, snap).handle("/positions").text  # type: ignore[union-attr]
    assert "4.2% broker</pre>" in table


def test_no_snapshot_yet(tmp_path: Path, clock: Clock) -> None:
    cmds = Commands(Settings(db_path=tmp_path / "p.db"), Store(tmp_path / "p.db"), lambda: None, clock=clock)
    assert "No data yet" in cmds.handle("/positions").text  # type: ignore[union-attr]
    assert "No data yet" in cmds.handle("/status").text  # type: ignore[union-attr]


def test_acting_commands_need_the_setting(tmp_path: Path, clock: Clock) -> None:
    cmds = make(tmp_path, clock)
    for text in ("/autosell on", "/rearm TSLA", "/sell TSLA"):
        reply = cmds.handle(text)
        assert reply is not None and "PAPISHARES_TELEGRAM_ACTIONS=true" in reply.text and not reply.buttons
    assert cmds.store.query("SELECT * FROM tg_confirmations") == []


def test_autosell_on_asks_then_acts_once(tmp_path: Path, clock: Clock) -> None:
    cmds = make(tmp_path, clock, telegram_actions=True)
    reply = cmds.handle("/autosell on", "77", "9")
    assert reply is not None and [b.data[:3] for b in reply.buttons] == ["ok:", "no:"]
    assert not cmds.store.autosell_enabled  # nothing before the press
    ok = reply.buttons[0].data
    first = cmds.press(ok, "77", "9")
    assert first.answer == "Auto-sell on." and cmds.store.autosell_enabled
    cmds.store.set_autosell(False)
    again = cmds.press(ok, "77", "9")  # the same button pressed twice acts once
    assert again.answer == "Already confirmed." and again.edit is None and not cmds.store.autosell_enabled


def test_buttons_expire_after_60_s_and_cancel_does_nothing(tmp_path: Path, clock: Clock) -> None:
    cmds = make(tmp_path, clock, telegram_actions=True)
    reply = cmds.handle("/autosell on", "77", "9")
    assert reply is not None
    clock.now += 61
    late = cmds.press(reply.buttons[0].data, "77", "9")
    assert late.answer == "Expired." and "Send the command again" in (late.edit or "")
    assert not cmds.store.autosell_enabled
    second = cmds.handle("/autosell on", "77", "9")
    assert second is not None
    assert cmds.press(second.buttons[1].data, "77", "9").edit == "Cancelled: nothing was done."
    assert cmds.press(second.buttons[0].data, "77", "9").answer == "Already cancelled."
    assert not cmds.store.autosell_enabled
    assert cmds.press("ok:doesnotexist").answer == "This button is no longer valid."
    assert cmds.press("garbage").answer == "This button is not one of mine."


def test_a_button_from_another_chat_does_nothing(tmp_path: Path, clock: Clock) -> None:
    cmds = make(tmp_path, clock, telegram_actions=True)
    reply = cmds.handle("/autosell on", "77", "9")
    assert reply is not None
    assert cmds.press(reply.buttons[0].data, "78", "9").answer == "This button belongs to another chat."
    assert not cmds.store.autosell_enabled


def test_bad_acting_commands_get_a_sentence(tmp_path: Path, clock: Clock) -> None:
    cmds = make(tmp_path, clock, telegram_actions=True)
    assert "Send /autosell on or /autosell off" in cmds.handle("/autosell maybe").text  # type: ignore[union-attr]
    assert "No open position for NOPE" in cmds.handle("/sell NOPE").text  # type: ignore[union-attr]
    assert "Send /sell TICKER" in cmds.handle("/sell").text  # type: ignore[union-attr]
    assert "Nothing is held back" in cmds.handle("/rearm TSLA").text  # type: ignore[union-attr]


def test_rearm_through_a_button(tmp_path: Path, clock: Clock) -> None:
    cmds = make(tmp_path, clock, telegram_actions=True)
    intents.hold(cmds.store, "TSLA_US_EQ", "unknown", 1)
    reply = cmds.handle("/rearm tsla", "77", "9")
    assert reply is not None and reply.buttons
    assert cmds.press(reply.buttons[0].data, "77", "9").answer == "Re-armed."
    assert autosell.held_tickers(cmds.store) == []


def test_sell_is_queued_once_under_the_confirmation_key(tmp_path: Path, clock: Clock) -> None:
    cmds = make(tmp_path, clock, telegram_actions=True)
    reply = cmds.handle("/sell tsla", "77", "9")
    assert reply is not None and reply.confirmation and "Sell <b>3 TSLA</b>" in reply.text
    assert html_error(reply.text) is None
    pressed = cmds.press(reply.buttons[0].data, "77", "9")
    assert pressed.answer == "Sell requested."
    rows = cmds.store.query("SELECT key, ticker, status FROM manual_sells")
    assert rows == [{"key": f"tgsell:{reply.confirmation}", "ticker": "TSLA_US_EQ", "status": "requested"}]
    assert cmds.press(reply.buttons[0].data, "77", "9").answer == "Already confirmed."
    assert commands.request_sell(cmds.store, "TSLA_US_EQ", reply.confirmation) is None  # the key is taken
    assert len(cmds.store.query("SELECT * FROM manual_sells")) == 1


def test_sell_offers_the_truncated_available_quantity(tmp_path: Path, clock: Clock) -> None:
    snap = snapshot(position(quantity=2.123456789, quantity_available=2.123456789))
    reply = make(tmp_path, clock, snap, telegram_actions=True).handle("/sell TSLA_US_EQ")
    assert reply is not None and "Sell <b>2.1234 TSLA</b>" in reply.text


def test_mute_and_notification_settings(tmp_path: Path, clock: Clock) -> None:
    cmds = make(tmp_path, clock)
    assert "Send /mute HOURS" in cmds.handle("/mute soon").text  # type: ignore[union-attr]
    assert "silently until" in cmds.handle("/mute 2").text  # type: ignore[union-attr]
    assert prefs.delivery(cmds.store, "stop_breached", clock.now) == "silent"
    assert prefs.delivery(cmds.store, "stop_breached", clock.now + 7300) == "on"
    assert "ring again" in cmds.handle("/mute 0").text  # type: ignore[union-attr]
    assert prefs.delivery(cmds.store, "stop_breached", clock.now) == "on"
    assert "macd_crossover: off" in cmds.handle("/notify macd_crossover off").text  # type: ignore[union-attr]
    assert prefs.delivery(cmds.store, "macd_crossover", clock.now) == "off"
    assert "Send /notify KIND" in cmds.handle("/notify macd loud").text  # type: ignore[union-attr]


def test_chart_is_a_png_rendered_by_plotly(tmp_path: Path, clock: Clock) -> None:
    from papishares.demo.market import DemoMarketData  # synthetic daily bars, no network

    pytest.importorskip("kaleido")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("/usr/bin/chromium is missing (make browser installs it)")
    from papishares.core.models import SymbolRequest

    frames = DemoMarketData(seed=1).daily_bars([SymbolRequest("AAPL_US_EQ", "AAPL", "USD")]).for_symbol("AAPL")
    store = Store(tmp_path / "p.db")
    cmds = Commands(Settings(db_path=tmp_path / "p.db"), store, lambda: snapshot(AAPL, TSLA),
                    bars=lambda ticker, snap: frames, clock=clock)
    reply = cmds.handle("/chart aapl")
    assert reply is not None and reply.photo is not None, reply
    assert reply.photo.startswith(b"\x89PNG\r\n\x1a\n") and len(reply.photo) > 20_000
    assert "AAPL" in reply.text and html_error(reply.text) is None
    empty = Commands(Settings(db_path=tmp_path / "p.db"), store, lambda: snapshot(AAPL),
                     bars=lambda ticker, snap: frames.iloc[0:0], clock=clock).handle("/chart AAPL")
    assert empty is not None and empty.photo is None and "No price history" in empty.text



def test_a_failing_command_answers_a_sentence_not_a_traceback(tmp_path: Path, clock: Clock) -> None:
    def broken() -> Snapshot:
        raise RuntimeError("database is locked")

    cmds = Commands(Settings(db_path=tmp_path / "p.db", telegram_actions=True), Store(tmp_path / "p.db"), broken,
                    clock=clock)
    for text in ("/status", "/sell TSLA"):
        reply = cmds.handle(text)
        assert reply is not None and "failed (RuntimeError)" in reply.text and "Traceback" not in reply.text
