"""The Telegram commands: a message or a button press in, a `Reply` or `PressResult` out.

What a command reads or does is the typed command layer's (papishares.commands: status, positions,
autosell, brokerstops, sell, notifications, chart, health); its Telegram wording is
papishares.commands.render_telegram's; the bot (papishares/remote/telegram_bot.py) only carries
messages, as freqtrade's `rpc/telegram.py` renders what `rpc/rpc.py` returns. Reads come from the
snapshot the worker stored last (no broker call per command); acting commands ask for a
confirmation that expires after 60 s, claimed once in SQLite, so a button pressed twice acts once.

A confirmed /sell is only *requested* here (`request_sell`, the one function the order journal
takes over at merge): the worker that holds the lease executes it in its next cycle through
auto-sell's intent -> request -> reconcile machinery (`execute_requested_sells`), under the intent
key `tgsell:<confirmation id>`, so it is never sent twice (a second press, a restart, two workers).
"""

from __future__ import annotations

import json
import logging
import secrets
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from html import escape
from typing import Any

from papishares.commands import autosell as autosell_commands
from papishares.commands import notifications, positions
from papishares.commands import render_telegram as render
from papishares.commands.chart import Bars, Chart, chart
from papishares.commands.reading import NoSnapshot
from papishares.commands.sell import SellQuestion, SellRequested, ask_sell
from papishares.commands.status import status
from papishares.config import Settings
from papishares.core.models import PositionView, Snapshot
from papishares.notify import rules as alerts
from papishares.orders import autosell, quantity, sell_release
from papishares.store import intents, manual_sells
from papishares.store.db import Store
from papishares.store.keys import IntentKey

log = logging.getLogger(__name__)

CONFIRM_TTL = 60.0  # s a confirmation button stays valid
REQUEST_TTL = 120.0  # s a confirmed /sell may wait for the worker; older ones are dropped, never sent late
ACTIONS = ("autosell", "rearm", "sell")
ACTIONS_OFF = render.ACTIONS_OFF


@dataclass(frozen=True)
class Button:
    text: str
    data: str  # callback_data (at most 64 bytes)


@dataclass(frozen=True)
class Reply:
    text: str  # Telegram HTML
    buttons: tuple[Button, ...] = ()
    photo: bytes | None = None  # a PNG; `text` is then its caption
    confirmation: str | None = None  # the confirmation id the buttons carry


@dataclass(frozen=True)
class PressResult:
    answer: str  # the short answerCallbackQuery text
    edit: str | None  # the message's new text (buttons removed); None: leave the message
    reply: Reply | None = None  # a new message to send (the question after "which account?")


def parse(text: str) -> tuple[str, list[str]]:
    """'/sell@papibot tsla' -> ('sell', ['tsla']); not a command -> ('', [])."""
    text = (text or "").strip()
    if not text.startswith("/"):
        return "", []
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    name = words[0][1:].split("@", 1)[0].lower()
    return name, words[1:]


class Commands:
    def __init__(self, settings: Settings, store: Store, snapshot: Callable[[], Snapshot | None],
                 bars: Bars | None = None, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.store = store
        self.snapshot = snapshot
        self.bars = bars
        self.clock = clock

    # -- the entry point --------------------------------------------------------------------------
    def handle(self, text: str, chat_id: str = "", user_id: str = "") -> Reply | None:
        """The reply to one message; None when the message is not a command (ignored)."""
        name, args = parse(text)
        if not name:
            return None
        if name in ACTIONS and not self.settings.telegram_actions:
            return Reply(ACTIONS_OFF)
        handler: Callable[[list[str]], Reply | None] | None = {"status": self.status, "positions": self.positions, "risk": self.risk, "help": self.help,
                   "start": self.help, "chart": self.chart, "mute": self.mute, "notify": self.notify}.get(name)
        if name in ACTIONS:
            def ask(words: list[str]) -> Reply:
                return self.ask(name, words, chat_id, user_id)

            handler = ask
        if handler is None:
            return Reply(f"Unknown command /{escape(name)}. " + "Send /help for the list.")
        try:
            return handler(args)
        except Exception as err:  # noqa: BLE001 - a bug in one command never reaches the chat as a traceback
            log.exception("command /%s failed", name)
            return Reply(f"/{escape(name)} failed ({escape(type(err).__name__)}); the worker log has the details.")

    # -- read-only --------------------------------------------------------------------------------
    def status(self, args: list[str] | None = None) -> Reply:
        return Reply(render.text(status(self.settings, self.store, self.snapshot(), self.clock())))

    def positions(self, args: list[str] | None = None) -> Reply:
        snap = self.snapshot()
        if snap is None:
            return Reply(render.text(NoSnapshot()))
        return Reply(render.text(positions.positions_view(snap, self.clock())))

    def risk(self, args: list[str] | None = None) -> Reply:
        snap = self.snapshot()
        if snap is None:
            return Reply(render.text(NoSnapshot()))
        return Reply(render.text(positions.risk_view(snap, self.clock())))

    def chart(self, args: list[str]) -> Reply:
        if not args:
            return Reply("Which position? Send /chart TICKER, e.g. /chart AAPL.")
        result = chart(self.snapshot(), args[0], self.bars)
        return Reply(render.text(result), photo=result.png if isinstance(result, Chart) else None)

    def help(self, args: list[str] | None = None) -> Reply:
        return Reply(render.help_text(self.settings.telegram_actions))

    # -- notification settings ----------------------------------------------------------------------
    def mute(self, args: list[str]) -> Reply:
        word = args[0].lower() if args else ""
        hours = 0.0 if word in ("off", "0") else _float(word)
        if hours is None or hours < 0:
            return Reply("Send /mute HOURS (e.g. /mute 2), or /mute 0 to let alerts ring again.")
        return Reply(render.text(notifications.mute(self.store, hours, self.clock())))

    def notify(self, args: list[str]) -> Reply:
        if args and not (len(args) == 2 and notifications.is_mode(args[0], args[1])):
            return Reply("Send /notify KIND on|silent|off, e.g. /notify macd_crossover silent. Kinds: "
                         + ", ".join(notifications.KINDS) + ".")
        kind, mode = (args[0], args[1]) if args else (None, None)
        return Reply(render.text(notifications.notify_settings(self.store, kind, mode)))

    # -- acting: confirmations ----------------------------------------------------------------------
    def ask(self, action: str, args: list[str], chat_id: str, user_id: str) -> Reply:
        """The confirmation question for an acting command (or why it cannot be asked)."""
        question: Any
        if action == "autosell":
            if len(args) != 1 or args[0].lower() not in ("on", "off"):
                return Reply("Send /autosell on or /autosell off.")
            question = autosell_commands.ask_switch(self.settings, args[0].lower() == "on")
            ticker = args[0].lower()  # stored in the ticker column: the wanted state
        else:
            if len(args) != 1:
                return Reply(f"Send /{action} TICKER, e.g. /{action} AAPL.")
            if action == "rearm":
                question = autosell_commands.ask_rearm(self.store, self.snapshot(), args[0])
                if not isinstance(question, autosell_commands.RearmQuestion):
                    return Reply(render.text(question))
                ticker = question.ticker
            else:
                question = ask_sell(self.store, self.snapshot(), args[0])
                if not isinstance(question, SellQuestion):
                    return Reply(render.text(question))
                ticker = question.position.ticker
        conf = secrets.token_urlsafe(9)
        now = self.clock()
        manual_sells.add_confirmation(self.store, conf, action, ticker, chat_id, user_id, now, now + CONFIRM_TTL)
        return Reply(render.text(question) + f"\n<i>This button expires in {CONFIRM_TTL:.0f} s.</i>",
                     (Button(render.button_label(question), f"ok:{conf}"), Button("Cancel", f"no:{conf}")),
                     confirmation=conf)

    def attach_message(self, conf: str, message_id: int) -> None:
        manual_sells.attach_message(self.store, conf, message_id)

    def sell_stores(self) -> list[tuple[str | None, Store]]:
        """Where this chat's /sell requests live, and the account to name in their reports (None: one)."""
        return [(None, self.store)]

    def press(self, data: str, chat_id: str = "", user_id: str = "") -> PressResult:
        """A button press: claim the confirmation once, then act. Stale and unknown buttons get a sentence."""
        verb, _, conf = (data or "").partition(":")
        if verb not in ("ok", "no") or not conf:
            return PressResult("This button is not one of mine.", None)
        now = self.clock()
        with self.store.transaction():
            row = manual_sells.confirmation(self.store, conf)
            if row is None:
                return PressResult("This button is no longer valid.", None)
            action, ticker, status, expires_at, conf_chat, message_id = row
            if status != "pending":
                return PressResult(f"Already {status}.", None)
            if conf_chat and chat_id and str(conf_chat) != str(chat_id):
                return PressResult("This button belongs to another chat.", None)
            if verb == "ok" and now > float(expires_at):
                manual_sells.set_confirmation_status(self.store, conf, "expired")
                return PressResult("Expired.", f"⌛ Expired after {CONFIRM_TTL:.0f} s: nothing was done. "
                                   "Send the command again.")
            manual_sells.set_confirmation_status(self.store, conf, "confirmed" if verb == "ok" else "cancelled")
        if verb == "no":
            return PressResult("Cancelled.", "Cancelled: nothing was done.")
        if not self.settings.telegram_actions:  # switched off between question and press (a restart)
            return PressResult("Actions are off.", ACTIONS_OFF)
        self.store.journal("telegram", ticker if action != "autosell" else None, f"confirmed_{action}",
                           f"Telegram user {user_id} confirmed /{action} {ticker or ''}".strip())
        return self._act(action, ticker or "", conf, str(chat_id), message_id)

    def _act(self, action: str, ticker: str, conf: str, chat_id: str, message_id: int | None) -> PressResult:
        result: autosell_commands.AutoSellChanged | autosell_commands.RearmResult | SellRequested
        if action == "autosell":
            result = autosell_commands.switch(self.store, ticker == "on")
        elif action == "rearm":
            result = autosell_commands.rearm(self.store, ticker)
        else:
            result = SellRequested(ticker, request_sell(self.store, ticker, conf, chat_id, message_id, self.clock()))
            if not result.requested:
                return PressResult(render.answer(result), None)
        return PressResult(render.answer(result), render.text(result))


# -- /sell: requested by the adapter, executed by the lease holder ----------------------------------
def sell_key(conf: str) -> str:
    return IntentKey.telegram_sell(conf)


def request_sell(store: Store, ticker: str, conf: str, chat_id: str = "", message_id: int | None = None,
                 now: float | None = None) -> str | None:
    """Queue the user's own sale of `ticker` under the confirmation's key. None when already queued.

    The ONE entry for a Telegram sale: the lead re-points it to the order journal at merge.
    """
    now = time.time() if now is None else now
    key = sell_key(conf)
    if not manual_sells.request(store, key, ticker, chat_id, message_id, now):
        return None
    store.journal("telegram", ticker, "sell_requested", f"Sale of {ticker} requested from Telegram", {"key": key})
    return key


def _settle(store: Store, key: str, status: str, note: str, now: float) -> None:
    manual_sells.settle(store, key, status, note, now)


def _relabel(emit: autosell.Emit) -> autosell.Emit:
    """Alerts of the user's own sale say so (auto-sell's texts would claim auto-sell did it)."""
    def relabelled(event: alerts.AlertEvent) -> Any:
        return emit(replace(event, text=event.text.replace("Auto-sell", "Your /sell")))
    return relabelled


def execute_requested_sells(store: Store, seller: autosell.AutoSeller, snapshot: Snapshot, fresh: bool,
                            unconfirmed: frozenset[str] = frozenset(), now: float | None = None,
                            keeper: Any = None, data_since: Callable[[float], bool] | None = None
                            ) -> list[autosell.Decision]:
    """In the worker, after reconciliation: send each confirmed /sell once, with auto-sell's checks.

    A request the worker could not act on within REQUEST_TTL is dropped (never sent late). Requests
    whose sale had an unknown outcome follow its reconciliation. Shares a managed stop at the broker
    reserves are released first through `keeper` (papishares.orders.sell_release), the sale following on
    the next fresh cycle.
    """
    now = time.time() if now is None else now
    data_since = data_since or (lambda _t: fresh)
    decisions: list[autosell.Decision] = []
    for row in manual_sells.open_requests(store):
        key, ticker = row["key"], row["ticker"]
        intent = intents.by_key(store, key)
        if intent:  # already sent (maybe before a restart): follow its outcome, never send again
            _follow(store, row, intent, now)
            continue
        release = sell_release.release_intent(store, key)
        if now - float(row["created_at"]) > REQUEST_TTL:
            again = " The stop at the broker is placed again." if release and release["status"] == "cancelled" else ""
            _settle(store, key, "expired", f"Not sold: the worker did not get to it within {REQUEST_TTL:.0f} s "
                    "(was it stopped?). Send /sell again." + again, now)
            continue
        if snapshot.stale or not fresh:
            continue  # wait for a fresh price (REQUEST_TTL bounds the wait)
        if release is not None:
            step, status, note = sell_release.follow(store, release, snapshot, data_since)
            if step == sell_release.DONE:
                store.journal("telegram", ticker, "sell_" + status, note, {"key": key})
                _settle(store, key, status, note, now)
            if step != sell_release.SELL:
                continue
        p = snapshot.position(ticker)
        if p is None:
            _settle(store, key, "gone", f"Not sold: no open position for {ticker} any more.", now)
            continue
        ctx = seller.context(snapshot, fresh, unconfirmed)
        managed = sell_release.managed_stop(store, snapshot, ticker) if release is None else None
        reserved = managed.quantity if managed is not None else 0.0  # the managed stop's shares are ours to free
        qty = quantity.sell_quantity(p.quantity_available + reserved, ctx.precision.get(ticker))
        d = autosell.checked(p, key, ctx, qty, f"price {p.current_price:g}, your /sell", "Selling")
        decisions.append(d)
        if d.action == "skip" and d.reason in ("reconciling", "stale", "suspect_price", "sent_since_data"):
            continue  # may clear within seconds: look again next cycle
        if d.action != "sell":
            message = sell_release.own_orders_text(p) if d.reason == "pending_sell" else d.message
            store.journal("telegram", ticker, "sell_" + d.reason, message, {"key": key})
            _settle(store, key, "dry_run" if d.action == "dry_run" else "skipped", message, now)
            continue
        if managed is not None:
            _release(store, keeper, p, managed, key, now)
            continue
        replace(seller, emit=_relabel(seller.emit)).execute(p, d, snapshot.account.currency, require_flag=False)
        intent = intents.by_key(store, key)
        if intent:
            _follow(store, row, intent, now)
        # no intent: not ours (lease lost) or deferred (rate limit): the request stays for the next cycle
    return decisions


def _release(store: Store, keeper: Any, p: PositionView, managed: Any, key: str, now: float) -> None:
    """The first step of a /sell whose shares a managed stop reserves: cancel that stop (journalled)."""
    if keeper is None:  # only a worker's stop keeper may cancel a managed stop
        _settle(store, key, "skipped", "Not sold: a stop Papishares keeps at the broker holds the shares.", now)
        return
    started = sell_release.start(keeper, p, managed, key)
    if started is not None:  # None: not recorded (lease lost, ticker busy): the request stays for the next cycle
        store.journal("telegram", p.ticker, "sell_releasing", started[1], {"key": key})
        _settle(store, key, *started, now)


def _follow(store: Store, row: dict[str, Any], intent: dict[str, Any], now: float) -> None:
    """Mirror the sale's intent (placed, filled, rejected, unknown, held) into the request, once per change."""
    status = {"intent": "unknown", "rearmed": "held"}.get(intent["status"], intent["status"])
    if status == row["status"]:
        return
    note = (json.loads(intent["detail"] or "{}").get("note") or "").strip()
    if status == "unknown":
        note = "Sent, outcome not known yet: checking the broker's orders and positions" + (
            f" ({note})." if note else ".")
    elif status == "held":
        note = (f"Outcome unknown: {note or 'no pending sell order and the position is unchanged'}. Check "
                f"Trading 212; {row['ticker']} is left to you (/rearm {row['ticker']} hands it back to auto-sell).")
    _settle(store, row["key"], status, note, now)


def unreported_sells(store: Store) -> list[dict[str, Any]]:
    """Sell requests whose latest state the chat has not been told yet."""
    return manual_sells.unreported(store)


def mark_reported(store: Store, key: str) -> None:
    manual_sells.mark_reported(store, key)


def _float(word: str) -> float | None:
    try:
        value = float(word)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None
