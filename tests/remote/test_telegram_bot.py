"""Telegram as a remote control, over real HTTP: the fake Bot API, the fake Trading 212, a real SQLite file.

The worker's cycle and the bot's polls are driven in-process one step at a time (the Rig of
tests/test_autosell.py), so each test says exactly when the user types, presses and the worker acts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from papishares.config import Secret
from papishares.remote.telegram_bot import OFFSET_KEY, BotApi, RemoteControl
from papishares.store.db import Store
from tests.fakes.t212_server import FakeTrading212
from tests.fakes.telegram_server import TelegramServer
from tests.orders.test_autosell import TSLA, Rig

TOKEN = "424242:REMOTE-control-token"
CHAT = 77
USER = 9


@pytest.fixture
def tg() -> Iterator[TelegramServer]:
    with TelegramServer(token=TOKEN) as server:
        yield server


class Bot(Rig):
    """A worker with Telegram configured; `poll()` runs one getUpdates round of its remote control."""

    def __init__(self, server: FakeTrading212, tg: TelegramServer, db: Path, **overrides: Any) -> None:
        values: dict[str, Any] = dict(telegram_bot_token=Secret(TOKEN), telegram_chat_id=str(CHAT),
                                      telegram_api_base=tg.base, telegram_actions=True)
        values.update(overrides)
        super().__init__(server, db, **values)
        self.tg = tg
        assert self.worker.remote is not None
        self.remote: RemoteControl = self.worker.remote
        self.remote.poll_timeout = 0

    def poll(self) -> None:
        assert self.remote.poll_once()

    def say(self, text: str, **kw: Any) -> str:
        """The user sends `text`; the bot answers; returns the bot's last message text."""
        self.tg.user_says(text, chat_id=kw.pop("chat_id", CHAT), user_id=kw.pop("user_id", USER), **kw)
        self.poll()
        return self.tg.messages[-1]["text"] if self.tg.messages else ""

    def confirm_button(self, index: int = 0) -> tuple[str, int]:
        message = self.tg.messages[-1]
        return self.tg.buttons(message)[index]["callback_data"], len(self.tg.messages)

    def press(self, data: str, message_id: int, **kw: Any) -> dict[str, Any]:
        self.tg.press(data, message_id, chat_id=kw.pop("chat_id", CHAT), user_id=kw.pop("user_id", USER))
        self.poll()
        return self.tg.answers[-1]

    def close(self) -> None:
        self.remote.api.close()
        super().close()


@pytest.fixture
def bot(t212_server: FakeTrading212, tg: TelegramServer, tmp_path: Path) -> Iterator[Bot]:
    b = Bot(t212_server, tg, tmp_path / "p.db")
    b.store.set_autosell(True)
    b.cycle(wait=False)  # a snapshot to answer from
    yield b
    b.close()


# -- the fake Bot API itself ------------------------------------------------------------------------
def test_fake_get_updates_long_polls_and_forgets_below_the_offset(tg: TelegramServer) -> None:
    api = BotApi(tg.base, Secret(TOKEN), timeout=5)
    try:
        started = time.monotonic()
        assert api.get_updates(0, timeout=1) == []
        assert time.monotonic() - started >= 0.9  # it waited for updates
        first = tg.user_says("/status")
        second = tg.user_says("/risk")
        got = api.get_updates(0, timeout=1)
        assert [u["update_id"] for u in got or []] == [first, second]
        assert [u["update_id"] for u in api.get_updates(second, timeout=0) or []] == [second]
        assert api.get_updates(second + 1, timeout=0) == [] and tg.pending_updates() == 0
        assert BotApi(tg.base, Secret("1:WRONG"), timeout=2).get_updates(0, 0) is None
    finally:
        api.close()


def test_fake_send_photo_needs_a_png(tg: TelegramServer) -> None:
    from papishares.commands.handlers import Reply

    api = BotApi(tg.base, Secret(TOKEN), timeout=5)
    try:
        assert api.send("77", Reply("<b>chart</b>", photo=b"\x89PNG\r\n\x1a\n" + b"0" * 20)) is not None
        assert tg.photos[0]["caption"] == "<b>chart</b>" and tg.photos[0]["chat_id"] == "77"
        assert api.send("77", Reply("x", photo=b"GIF89a")) is None and "IMAGE_PROCESS_FAILED" in (api.last_error or "")
        assert not api.edit("77", 999, "nothing to edit") and "not found" in (api.last_error or "")
    finally:
        api.close()


# -- answering -----------------------------------------------------------------------------------
def test_answers_status_in_the_configured_chat_and_keeps_the_offset_across_restarts(
        bot: Bot, t212_server: FakeTrading212, tmp_path: Path) -> None:
    text = bot.say("/status")
    assert "Total risk" in text and "Auto-sell: ON" in text and "Worker: running" in text
    assert bot.tg.messages[-1]["chat_id"] == str(CHAT)
    offset = int(bot.store.get(OFFSET_KEY) or 0)
    assert offset == bot.tg.next_update_id + 1
    bot.poll()  # nothing new: nothing answered again
    assert len(bot.tg.messages) == 1
    # A restart: a new worker process on the same file. The fake server still holds the update
    # (as Telegram does until an offset confirms it); the stored offset keeps it from a second answer.
    bot.tg.updates.append({"update_id": offset - 1, "message": {"text": "/status", "chat": {"id": CHAT},
                                                                 "from": {"id": USER}}})
    bot.worker.lease.release()
    again = Bot(t212_server, bot.tg, tmp_path / "p.db")
    try:
        again.remote.poll_timeout = 0
        again.poll()
        assert len(bot.tg.messages) == 1
        assert bot.tg.polls[-1]["offset"] == offset
    finally:
        again.close()


def test_other_chats_and_users_are_ignored_and_journalled(t212_server: FakeTrading212, tg: TelegramServer,
                                                          tmp_path: Path) -> None:
    b = Bot(t212_server, tg, tmp_path / "p.db", telegram_allowed_users=frozenset({USER}))
    try:
        b.cycle(wait=False)
        b.say("/status", chat_id=666)
        b.say("/status", chat_id=CHAT, user_id=1234)  # the right group, a member not on the list
        assert tg.messages == []
        ignored = [r for r in b.store.journal_entries(kind="telegram") if r["action"] == "ignored"]
        assert len(ignored) == 2 and "chat 666" in ignored[1]["message"] and "user 1234" in ignored[0]["message"]
        assert "Total risk" in b.say("/status")
    finally:
        b.close()


def test_bad_input_gets_a_sentence(bot: Bot) -> None:
    assert "Unknown command /frobnicate" in bot.say("/frobnicate")
    assert "No open position for ZZZ" in bot.say("/sell ZZZ")
    assert "Send /mute HOURS" in bot.say("/mute forever")
    assert "Traceback" not in " ".join(bot.tg.texts())


# -- acting ----------------------------------------------------------------------------------------
def test_sell_is_confirmed_sent_once_and_reported(bot: Bot) -> None:
    bot.store.set_autosell(False)  # /sell is the user's decision: it needs no auto-sell flag (and no breach)
    assert "Sell <b>3 TSLA</b>" in bot.say("/sell TSLA")
    data, message_id = bot.confirm_button()
    assert bot.press(data, message_id)["text"] == "Sell requested."
    assert "requested" in bot.tg.edits[-1]["text"]
    assert bot.server.sells() == []  # the poller never sends: the worker's cycle does
    bot.press(data, message_id)  # pressed again before the worker acted
    assert bot.tg.answers[-1]["text"] == "Already confirmed."
    bot.cycle()
    bot.cycle()
    assert [s["body"] for s in bot.server.sells()] == [{"ticker": TSLA, "quantity": -3, "extendedHours": False}]
    bot.poll()
    assert bot.tg.edits[-1]["message_id"] == message_id and "Market sell of 3 placed" in bot.tg.edits[-1]["text"]
    assert [i["key"] for i in bot.intents()] == [f"tgsell:{data[3:]}"]
    assert any("Your /sell placed" in t for t in bot.tg.texts())  # the alert says whose sale it was


def test_sell_survives_a_restart_between_press_and_execution_without_repeating(
        bot: Bot, t212_server: FakeTrading212, tmp_path: Path) -> None:
    bot.say("/sell TSLA")
    data, message_id = bot.confirm_button()
    bot.press(data, message_id)
    bot.worker.lease.release()  # the first worker stops before its next cycle
    second = Bot(t212_server, bot.tg, tmp_path / "p.db")
    try:
        second.cycle()
        second.cycle()
        assert len(t212_server.sells()) == 1
        second.store.execute("UPDATE manual_sells SET status = 'requested'")  # even if the request came back
        second.cycle()
        assert len(t212_server.sells()) == 1  # its intent key exists: followed, never resent
    finally:
        second.close()


def test_a_worker_without_the_lease_never_sends(bot: Bot, t212_server: FakeTrading212, tmp_path: Path) -> None:
    bot.say("/sell TSLA")
    data, message_id = bot.confirm_button()
    bot.press(data, message_id)
    other = Bot(t212_server, bot.tg, tmp_path / "p.db", take_lease=False)  # a second worker; the first still holds the lease
    try:
        assert not other.worker.lease.holds()
        other.worker.cycle()
        assert t212_server.sells() == []
        bot.cycle()
        assert len(t212_server.sells()) == 1
    finally:
        other.close()


def test_a_sell_and_auto_sell_in_one_cycle_send_one_order(bot: Bot) -> None:
    # The user sends /sell while the price falls through the stop: auto-sell sells first in the cycle;
    # the /sell must not send a second sale on the same snapshot, taken before the first one.
    bot.say("/sell TSLA")
    bot.press(*bot.confirm_button())
    bot.server.set_price(TSLA, 200.0)  # at or below the calculated stop (about 206)
    bot.cycle()
    assert len(bot.server.sells()) == 1
    bot.cycle()  # fresh data: the position is gone, so nothing more is sent
    bot.poll()
    assert len(bot.server.sells()) == 1 and TSLA not in bot.server.positions
    assert "no open position" in bot.tg.edits[-1]["text"]


def test_two_sells_confirmed_before_one_cycle_send_one_order(bot: Bot) -> None:
    bot.store.set_autosell(False)
    for _ in range(2):  # two /sell commands, each confirmed: two requests
        bot.say("/sell TSLA")
        bot.press(*bot.confirm_button())
    bot.cycle()
    bot.cycle()
    assert [s["body"]["quantity"] for s in bot.server.sells()] == [-3]


def sold_by_phone(server: FakeTrading212, tg: TelegramServer, db: Path, **overrides: Any) -> str:
    """A fresh worker; the user sends /sell TSLA and confirms; one cycle; the chat's last edit."""
    b = Bot(server, tg, db, **overrides)
    try:
        b.cycle(wait=False)
        b.say("/sell TSLA")
        b.press(*b.confirm_button())
        b.cycle()
        b.poll()
        return tg.edits[-1]["text"]
    finally:
        b.close()


def test_sell_goes_through_the_same_checks_as_auto_sell(t212_server: FakeTrading212, tg: TelegramServer,
                                                       tmp_path: Path) -> None:
    # Issue 10 changed the pending-sell rule for every sale alike: the user's own pending sells keep the
    # shares they reserve, and only when they reserve every share is nothing sold.
    order = t212_server.add_order(TSLA, "LIMIT", -3, limit_price=400.0)  # every TSLA share reserved
    assert "reserve every share" in sold_by_phone(t212_server, tg, tmp_path / "p.db")
    assert t212_server.sells() == [] and order in t212_server.orders


def test_sell_leaves_shares_under_a_partial_pending_sell_to_it(t212_server: FakeTrading212, tg: TelegramServer,
                                                               tmp_path: Path) -> None:
    t212_server.add_order(TSLA, "LIMIT", -1, limit_price=400.0)  # one share of three reserved by the user
    assert "Market sell of 2 placed" in sold_by_phone(t212_server, tg, tmp_path / "p.db")
    assert [s["body"]["quantity"] for s in t212_server.sells()] == [-2]


def test_no_sale_while_the_market_is_closed(t212_server: FakeTrading212, tg: TelegramServer, tmp_path: Path) -> None:
    t212_server.set_market_open(51, False)
    assert "exchange is closed" in sold_by_phone(t212_server, tg, tmp_path / "p.db")
    assert t212_server.sells() == []


def test_a_confirmed_sell_the_worker_cannot_reach_in_time_is_dropped(bot: Bot) -> None:
    bot.say("/sell TSLA")
    bot.press(*bot.confirm_button())
    bot.store.execute("UPDATE manual_sells SET created_at = created_at - 600")
    bot.cycle()
    bot.poll()
    assert bot.server.sells() == [] and "did not get to it" in bot.tg.edits[-1]["text"]


def test_live_sell_needs_allow_live_orders(t212_server: FakeTrading212, tg: TelegramServer, tmp_path: Path) -> None:
    assert "PAPISHARES_ALLOW_LIVE_ORDERS" in sold_by_phone(t212_server, tg, tmp_path / "p.db", t212_env="live")
    assert t212_server.sells() == []


def test_autosell_off_from_the_phone(bot: Bot) -> None:
    assert bot.store.autosell_enabled
    bot.say("/autosell off")
    data, message_id = bot.confirm_button()
    assert bot.press(data, message_id)["text"] == "Auto-sell off."
    assert not bot.store.autosell_enabled and "Auto-sell is now <b>OFF</b>" in bot.tg.edits[-1]["text"]


def test_actions_off_says_how_to_turn_them_on(t212_server: FakeTrading212, tg: TelegramServer,
                                              tmp_path: Path) -> None:
    b = Bot(t212_server, tg, tmp_path / "p.db", telegram_actions=False)
    try:
        b.cycle(wait=False)
        assert "PAPISHARES_TELEGRAM_ACTIONS=true" in b.say("/sell TSLA")
        assert not tg.buttons(tg.messages[-1])
    finally:
        b.close()


def test_the_poller_thread_answers_while_the_worker_runs_and_stops_quickly(bot: Bot) -> None:
    bot.remote.poll_timeout = 2
    bot.remote.start()
    try:
        bot.tg.user_says("/help")
        deadline = time.monotonic() + 10
        while not bot.tg.messages and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "Papishares commands" in bot.tg.texts()[-1]
    finally:
        started = time.monotonic()
        bot.remote.stop(wait=3.0)
        assert time.monotonic() - started < 3.0


def test_silent_and_off_alert_kinds(bot: Bot) -> None:
    from papishares.notify import prefs
    from papishares.notify.rules import AlertEvent

    prefs.set_mode(bot.store, "macd_crossover", "off")
    prefs.set_mode(bot.store, "risk_above", "silent")
    notifier = bot.worker.notifier
    notifier.emit(AlertEvent("macd_crossover", "<b>macd</b>", None, "k1"))
    notifier.emit(AlertEvent("risk_above", "<b>risk</b>", None, "k2"))
    notifier.emit(AlertEvent("stop_breached", "<b>stop</b>", None, "k3"))
    notifier.flush()
    sent = {m["text"]: m.get("disable_notification", False) for m in bot.tg.messages}
    assert sent == {"<b>risk</b>": True, "<b>stop</b>": False}
    assert "macd" in [r["message"] for r in Store(bot.store.path).journal_entries(kind="alert")]


def test_a_real_worker_process_answers_commands_and_stops_within_5_s(t212_server: FakeTrading212,
                                                                      tg: TelegramServer, tmp_path: Path) -> None:
    from tests.support import start_worker, stop_worker, wait_for

    env = t212_server.env(str(tmp_path / "p.db"))
    env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_CHAT_ID=str(CHAT), TELEGRAM_API_BASE=tg.base)
    proc = start_worker(env, str(tmp_path))
    store = Store(tmp_path / "p.db")
    try:
        wait_for(lambda: tg.polls, timeout=60)  # the remote control is polling
        wait_for(lambda: store.query("SELECT 1 FROM snapshots"), timeout=60)
        tg.user_says("/positions")
        wait_for(lambda: tg.messages, timeout=20)
        assert "TSLA" in tg.texts()[-1] and "<pre>" in tg.texts()[-1]
    finally:
        started = time.monotonic()
        err = stop_worker(proc)
        stopped_in = time.monotonic() - started
        store.close()
    assert proc.returncode == 0 and stopped_in < 5.0, (stopped_in, err[-1000:])
    assert TOKEN not in err


# -- /sell of shares a managed stop at the broker reserves -------------------------------------------
def stops_at_broker(server: FakeTrading212) -> list[dict[str, Any]]:
    return [o for o in server.orders.values() if o["ticker"] == TSLA and o["type"] == "STOP" and o["quantity"] < 0]


def market_sells(server: FakeTrading212) -> list[float]:
    return [p["body"]["quantity"] for p in server.sells() if p["path"].endswith("/market")]


def guarded_bot(server: FakeTrading212, tg: TelegramServer, db: Path) -> Bot:
    """Broker stops on: after two cycles a managed stop covers every TSLA share."""
    from tests.orders.test_stop_keeper import only

    only(server, TSLA)
    b = Bot(server, tg, db, broker_stops=True, broker_stop_interval=0.0)
    b.cycle(wait=False)
    b.cycle()  # the snapshot the commands read shows the managed stop
    assert len(stops_at_broker(server)) == 1 and server.available(TSLA) == 0
    return b


@pytest.fixture
def guarded(t212_server: FakeTrading212, tg: TelegramServer, tmp_path: Path) -> Iterator[Bot]:
    b = guarded_bot(t212_server, tg, tmp_path / "p.db")
    yield b
    b.close()


def ask_and_confirm(b: Bot) -> tuple[str, int]:
    question = b.say("/sell TSLA")
    assert "Sell <b>3 TSLA</b>" in question and "cancelled first" in question
    data, message_id = b.confirm_button()
    assert b.press(data, message_id)["text"] == "Sell requested."
    return data, message_id


def test_sell_under_a_managed_stop_cancels_it_then_sells_once(guarded: Bot) -> None:
    b = guarded
    data, message_id = ask_and_confirm(b)
    b.press(data, message_id)
    assert b.tg.answers[-1]["text"] == "Already confirmed."  # a double press acts once
    b.cycle()  # the stop is cancelled through the order journal; nothing sold yet
    assert stops_at_broker(b.server) == [] and market_sells(b.server) == []
    cancel = [i for i in b.intents() if i["kind"] == "stop_cancel"]
    assert [(i["key"], i["status"]) for i in cancel] == [(f"tgsell:{data[3:]}:release", "cancelled")]
    b.poll()
    assert "is cancelled: selling at market" in b.tg.edits[-1]["text"]
    b.cycle()  # the next fresh cycle: the released shares are sold, the stop is not placed again
    assert market_sells(b.server) == [-3]
    for _ in range(2):
        b.cycle()
    assert market_sells(b.server) == [-3] and TSLA not in b.server.positions
    assert len([p for p in b.server.order_posts if p["path"].endswith("/stop")]) == 1
    b.poll()
    assert "Market sell of 3 placed" in b.tg.edits[-1]["text"] and b.tg.edits[-1]["message_id"] == message_id
    assert "Traceback" not in " ".join(b.tg.texts())


def test_sell_under_a_managed_stop_survives_a_restart_and_a_second_worker(
        guarded: Bot, t212_server: FakeTrading212, tmp_path: Path) -> None:
    ask_and_confirm(guarded)
    other = Bot(t212_server, guarded.tg, tmp_path / "p.db", take_lease=False, broker_stops=True)
    try:
        time.sleep(1.3)
        other.worker.cycle()  # without the lease: neither the cancel nor the sale is recorded
        assert len(stops_at_broker(t212_server)) == 1 and t212_server.count("DELETE", "/equity/orders/1") == 0
    finally:
        other.close()
    guarded.cycle()  # cancelled
    guarded.worker.lease.release()  # the worker stops between the cancel and the sale
    second = Bot(t212_server, guarded.tg, tmp_path / "p.db", broker_stops=True, broker_stop_interval=0.0)
    try:
        for _ in range(3):
            second.cycle()
        assert market_sells(t212_server) == [-3] and t212_server.count("DELETE", "/equity/orders/1") == 1
        second.store.execute("UPDATE manual_sells SET status = 'releasing'")  # even if the request came back
        second.cycle()
        assert market_sells(t212_server) == [-3]
    finally:
        second.close()


def test_a_cancel_that_does_not_go_through_sells_nothing_and_says_so(guarded: Bot) -> None:
    b = guarded
    b.server.inject("DELETE", "/equity/orders/{id}", "status", status=502)  # not cancelled, outcome unknown
    ask_and_confirm(b)
    for _ in range(3):
        b.cycle()
    b.poll()
    assert market_sells(b.server) == [] and len(stops_at_broker(b.server)) == 1  # the stop still protects
    assert "could not be cancelled" in b.tg.edits[-1]["text"] and "Nothing more was sent" in b.tg.edits[-1]["text"]
    b.cycle()
    assert market_sells(b.server) == [] and b.server.count("DELETE", "/equity/orders/1") == 1


def test_a_stop_that_filled_meanwhile_is_reported_and_nothing_more_is_sent(guarded: Bot) -> None:
    b = guarded
    [order] = stops_at_broker(b.server)
    b.server.inject("DELETE", "/equity/orders/{id}", "error", status=404, error_type="entity-not-found",
                    detail="Order not found")
    ask_and_confirm(b)
    b.cycle()  # the cancel is refused: the stop was filling at that moment
    b.server.set_price(TSLA, order["stopPrice"] - 1.0)  # ... and it filled at the broker
    for _ in range(2):
        b.cycle()
    b.poll()
    assert market_sells(b.server) == [] and TSLA not in b.server.positions
    assert "filled meanwhile" in b.tg.edits[-1]["text"] and "Nothing more was sent" in b.tg.edits[-1]["text"]


def test_a_refused_cancel_while_the_quantity_is_null_is_decided_on_good_data(guarded: Bot) -> None:
    from tests.orders.test_stop_keeper import null_quantity_next

    b = guarded
    b.server.inject("DELETE", "/equity/orders/{id}", "error", status=404, error_type="entity-not-found",
                    detail="Order not found")
    ask_and_confirm(b)
    b.cycle()  # the cancel is refused: filled meanwhile, or not? Only the position can tell
    null_quantity_next(b)
    assert b.cycle().ok  # was a TypeError out of the cycle
    assert b.store.query("SELECT status FROM manual_sells")[0]["status"] == "releasing"
    b.cycle()
    b.poll()
    assert "could not be cancelled" in b.tg.edits[-1]["text"] and market_sells(b.server) == []


def test_no_cancel_while_the_market_is_closed(t212_server: FakeTrading212, tg: TelegramServer,
                                             tmp_path: Path) -> None:
    t212_server.set_market_open(51, False)
    b = guarded_bot(t212_server, tg, tmp_path / "p.db")
    try:
        ask_and_confirm(b)
        b.cycle()
        b.poll()
        assert "exchange is closed" in b.tg.edits[-1]["text"]
        assert len(stops_at_broker(t212_server)) == 1 and t212_server.count("DELETE", "/equity/orders/1") == 0
    finally:
        b.close()


def test_the_users_own_stop_holding_every_share_is_never_cancelled(t212_server: FakeTrading212,
                                                                   tg: TelegramServer, tmp_path: Path) -> None:
    from tests.orders.test_stop_keeper import only

    only(t212_server, TSLA)
    order = t212_server.add_order(TSLA, "STOP", -3, stop_price=200.0)
    b = Bot(t212_server, tg, tmp_path / "p.db", broker_stops=True)
    try:
        b.cycle(wait=False)
        reply = b.say("/sell TSLA")
        assert "your own pending sell orders (your stop at 200 for 3) reserve every share of TSLA" in reply
        assert "does not cancel your orders" in reply and b.tg.buttons(b.tg.messages[-1]) == []
        b.cycle()
        assert order in t212_server.orders and t212_server.count("DELETE", "/equity/orders/1") == 0
        assert t212_server.sells() == []  # no sale, and no managed stop either: the user's holds every share
    finally:
        b.close()
