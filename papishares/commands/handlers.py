"""The command layer: what a remote control may ask and do, as data and sentences.

Telegram (papishares/remote/telegram_bot.py) is a thin adapter over it, as freqtrade's `rpc/`
layer serves its front ends: `Commands.handle("/status")` returns a `Reply` (HTML text, buttons,
maybe a PNG); a button press goes to `Commands.press(...)`. Reads come from the snapshot the worker
stored last (no broker call per command); acting commands ask for a confirmation that expires after
60 s, claimed once in SQLite, so a button pressed twice acts once.

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
from datetime import UTC, datetime
from html import escape
from typing import Any

from papishares.config import Settings
from papishares.core.models import PositionView, Snapshot
from papishares.core.numbers import age_words
from papishares.notify import prefs
from papishares.notify import rules as alerts
from papishares.notify.rules import money, pct
from papishares.orders import autosell, quantity, sell_release
from papishares.store.db import Store
from papishares.store.lease import read_lease
from papishares.store.quantities import learned_precision

log = logging.getLogger(__name__)

CONFIRM_TTL = 60.0  # s a confirmation button stays valid
REQUEST_TTL = 120.0  # s a confirmed /sell may wait for the worker; older ones are dropped, never sent late
ACTIONS = ("autosell", "rearm", "sell")
FINAL_SELL_STATES = ("placed", "filled", "rejected", "skipped", "dry_run", "expired", "gone", "held")
ACTIONS_OFF = ("Acting commands are off. To allow /autosell, /rearm and /sell from Telegram, set "
               "<code>PAPISHARES_TELEGRAM_ACTIONS=true</code> for the worker and restart it.")

Bars = Callable[[str, Snapshot], Any]  # (ticker, snapshot) -> OHLCV DataFrame


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


def find_position(snapshot: Snapshot | None, name: str) -> PositionView | None:
    """A held position by Trading 212 ticker or short name, case-insensitively."""
    if snapshot is None:
        return None
    wanted = name.strip().upper()
    for p in snapshot.positions:
        if p.ticker.upper() == wanted:
            return p
    return next((p for p in snapshot.positions if (p.short_name or "").upper() == wanted), None)


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
    def _snap(self) -> tuple[Snapshot | None, str]:
        snap = self.snapshot()
        if snap is None:
            return None, "No data yet: the worker has not built a snapshot. Is it running?"
        moment = snap.data_time or snap.generated_at
        age = age_words(max(0.0, self.clock() - moment.timestamp()))
        note = f"Data from {moment.astimezone(UTC):%H:%M:%S} UTC ({age} ago)" + (" · stale" if snap.stale else "")
        return snap, note

    def _worker_line(self) -> str:
        holder = read_lease(self.store)
        if holder is None or holder.heartbeat_at is None:
            return "Worker: never started"
        age = max(0.0, self.clock() - holder.heartbeat_at)
        fresh = age <= self.settings.heartbeat_max_age
        return f"Worker: {'running' if fresh else 'NOT running'} (heartbeat {age_words(age)} ago)"

    def status(self, args: list[str] | None = None) -> Reply:
        snap, note = self._snap()
        lines = [f"<b>Papishares</b> · {escape(self.settings.environment)}"]
        if snap is not None:
            acc = snap.account
            below = sum(1 for p in snap.positions if p.stop_breached)
            over = snap.total_risk_pct > snap.total_risk_threshold_pct
            lines += [
                f"Account {money(acc.total_value, acc.currency)} · cash {money(acc.cash, acc.currency)}",
                f"Unrealised P&amp;L {money(acc.unrealised_pnl, acc.currency)}",
                f"Total risk {snap.total_risk_pct:.2f}% of {snap.total_risk_threshold_pct:g}% limit "
                + ("⚠️ above" if over else "✅"),
                f"Positions {len(snap.positions)} · at or below stop {below}",
            ]
        broker_stops = str(getattr(self.settings, "broker_stops", "off") or "off")  # h4's setting, when merged
        lines += [self._worker_line(),
                  f"Auto-sell: {'ON' if self.store.autosell_enabled else 'off'} · broker stops: {escape(broker_stops)}",
                  f"Telegram actions: {'on' if self.settings.telegram_actions else 'off'}"]
        until = prefs.muted_until(self.store, self.clock())
        if until is not None:
            lines.append(f"Alerts muted until {datetime.fromtimestamp(until, UTC):%d %b %H:%M} UTC")
        lines.append(escape(note))
        return Reply("\n".join(lines))

    def positions(self, args: list[str] | None = None) -> Reply:
        snap, note = self._snap()
        if snap is None:
            return Reply(escape(note))
        if not snap.positions:
            return Reply("No open positions.\n" + escape(note))
        rows = [f"{'TICKER':<7}{'PRICE':>9}{'STOP':>9}{'DIST':>7} PROT"]
        for p in sorted(snap.positions, key=lambda v: v.distance_to_stop_pct if v.distance_to_stop_pct
                        is not None else 1e9):
            stop = p.effective_stop
            dist = f"{p.distance_to_stop_pct:.1f}%" if p.distance_to_stop_pct is not None else "-"
            protection = getattr(p, "protection", None) or ("alert" if stop is not None else "none")
            rows.append(f"{(p.short_name or p.ticker)[:7]:<7}{_num(p.current_price):>9}{_num(stop):>9}"
                        f"{dist:>7} {protection}")
        return Reply("<pre>" + escape("\n".join(rows)) + "</pre>\n" + escape(note))

    def risk(self, args: list[str] | None = None) -> Reply:
        snap, note = self._snap()
        if snap is None:
            return Reply(escape(note))
        ccy = snap.account.currency
        lines = [f"<b>Total risk {snap.total_risk_pct:.2f}%</b> (limit {snap.total_risk_threshold_pct:g}%, "
                 f"{snap.risk_percentage:g}% per position)",
                 f"Open risk from today's prices {snap.open_risk_pct:.2f}%"]
        for p in sorted(snap.positions, key=lambda v: v.risk, reverse=True)[:10]:
            share = p.risk / snap.account.total_value * 100 if snap.account.total_value else 0.0
            flag = " · no stop" if p.effective_stop is None else ""
            lines.append(f"{escape(p.short_name or p.ticker)}: {money(p.risk, ccy)} ({share:.2f}%){flag}")
        lines.append(escape(note))
        return Reply("\n".join(lines))

    def chart(self, args: list[str]) -> Reply:
        if not args:
            return Reply("Which position? Send /chart TICKER, e.g. /chart AAPL.")
        snap, note = self._snap()
        p = find_position(snap, args[0])
        if snap is None or p is None:
            return self._unknown(args[0], snap)
        if self.bars is None:
            return Reply("Charts are not available here.")
        frame = self.bars(p.ticker, snap)
        if frame is None or len(frame) == 0:
            return Reply(f"No price history for {escape(p.short_name)} yet (market data: "
                         f"{escape(snap.market_data)}).")
        from papishares.charts.png import chart_png  # plotly + kaleido: loaded only when asked

        png, problem = chart_png(frame, p)
        if png is None:
            return Reply(f"The chart of {escape(p.short_name)} could not be drawn: {escape(problem or '')}")
        caption = (f"<b>{escape(p.short_name)}</b> · price {money(p.current_price, p.currency)} · "
                   f"stop {money(p.effective_stop, p.currency)} · MACD {escape(p.macd_signal or 'n/a')}")
        return Reply(caption, photo=png)

    def help(self, args: list[str] | None = None) -> Reply:
        lines = ["<b>Papishares commands</b>",
                 "/status - account, P&amp;L, total risk, worker, auto-sell",
                 "/positions - price, stop, distance, protection",
                 "/risk - total risk and the largest risks",
                 "/chart TICKER - candlesticks and MACD",
                 "/mute HOURS - alerts silent for a while (/mute 0 ends it)",
                 "/notify [KIND on|silent|off] - notification settings per alert kind",
                 "/autosell on|off, /rearm TICKER, /sell TICKER - acting, each confirmed by a button"]
        if not self.settings.telegram_actions:
            lines.append("(acting commands are off: PAPISHARES_TELEGRAM_ACTIONS=true turns them on)")
        return Reply("\n".join(lines))

    # -- notification settings ----------------------------------------------------------------------
    def mute(self, args: list[str]) -> Reply:
        word = args[0].lower() if args else ""
        hours = 0.0 if word in ("off", "0") else _float(word)
        if hours is None or hours < 0:
            return Reply("Send /mute HOURS (e.g. /mute 2), or /mute 0 to let alerts ring again.")
        until = prefs.mute(self.store, hours, self.clock())
        if until is None:
            return Reply("🔔 Alerts ring again.")
        return Reply(f"🔕 Alerts arrive silently until {datetime.fromtimestamp(until, UTC):%d %b %H:%M} UTC "
                     "(nothing is lost; /mute 0 ends it).")

    def notify(self, args: list[str]) -> Reply:
        if len(args) == 2 and args[0].lower() in prefs.KINDS and args[1].lower() in prefs.MODES:
            prefs.set_mode(self.store, args[0].lower(), args[1].lower())
        elif args:
            return Reply("Send /notify KIND on|silent|off, e.g. /notify macd_crossover silent. Kinds: "
                         + ", ".join(prefs.KINDS) + ".")
        lines = ["<b>Notifications</b> (on rings, silent arrives quietly, off: Activity page only)"]
        lines += [f"{kind}: {mode}" for kind, mode in prefs.modes(self.store).items()]
        return Reply("\n".join(lines))

    # -- acting: confirmations ----------------------------------------------------------------------
    def _unknown(self, name: str, snap: Snapshot | None) -> Reply:
        held = ", ".join(sorted(p.short_name or p.ticker for p in snap.positions)) if snap else ""
        return Reply(f"No open position for {escape(name)}." + (f" Held: {escape(held)}." if held else ""))

    def ask(self, action: str, args: list[str], chat_id: str, user_id: str) -> Reply:
        """The confirmation question for an acting command (or why it cannot be asked)."""
        ticker: str | None = None
        if action == "autosell":
            if len(args) != 1 or args[0].lower() not in ("on", "off"):
                return Reply("Send /autosell on or /autosell off.")
            ticker = args[0].lower()  # stored in the ticker column: the wanted state
            live = self.settings.is_live and ticker == "on"
            question = (f"Switch auto-sell <b>{ticker.upper()}</b>?" + (
                " This is the LIVE account: the worker sells a whole position at market when its price falls "
                "to the calculated stop." + ("" if self.settings.allow_live_orders else
                                             " (PAPISHARES_ALLOW_LIVE_ORDERS is not true: it only says "
                                             "'would sell'.)") if live else ""))
            label = f"Yes, auto-sell {ticker}"
        else:
            if len(args) != 1:
                return Reply(f"Send /{action} TICKER, e.g. /{action} AAPL.")
            if action == "rearm":
                held = {h["ticker"] for h in autosell.held_tickers(self.store)}
                snap = self.snapshot()
                p = find_position(snap, args[0])
                ticker = p.ticker if p else args[0].upper()
                if ticker not in held:
                    return Reply(f"Nothing is held back from auto-sell for {escape(args[0])}.")
                question, label = f"Hand <b>{escape(ticker)}</b> back to auto-sell?", f"Yes, re-arm {ticker}"
            else:
                snap = self.snapshot()
                p = find_position(snap, args[0])
                if p is None:
                    return self._unknown(args[0], snap)
                ticker = p.ticker
                managed = sell_release.managed_stop(self.store, snap, ticker) if snap else None
                reserved = managed.quantity if managed is not None else 0.0
                qty = quantity.sell_quantity(p.quantity_available + reserved, learned_precision(self.store, ticker))
                if qty <= 0 and p.manual_stop_loss_quantity > 0:  # the user's own orders: never cancelled for them
                    return Reply(escape(sell_release.own_orders_text(p)))
                first = (f" The stop Papishares keeps at the broker for these shares ({reserved:g} at "
                         f"{managed.stop_price:g}) is cancelled first." if managed is not None else "")
                question = (f"Sell <b>{qty:g} {escape(p.short_name)}</b> ({escape(p.name)}) at market now? "
                            f"Last price {money(p.current_price, p.currency)}, P&amp;L {pct(p.profit_pct)}.{first} "
                            "The worker checks market hours, pending sells and the live guard before sending.")
                label = f"Yes, sell {p.short_name}"
        conf = secrets.token_urlsafe(9)
        now = self.clock()
        self.store.execute("DELETE FROM tg_confirmations WHERE created_at < ?", (now - 86400,))  # old buttons
        self.store.execute(
            "INSERT INTO tg_confirmations (id, action, ticker, chat_id, user_id, created_at, expires_at, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')", (conf, action, ticker, chat_id, user_id, now, now + CONFIRM_TTL))
        return Reply(question + f"\n<i>This button expires in {CONFIRM_TTL:.0f} s.</i>",
                     (Button(label, f"ok:{conf}"), Button("Cancel", f"no:{conf}")), confirmation=conf)

    def attach_message(self, conf: str, message_id: int) -> None:
        self.store.execute("UPDATE tg_confirmations SET message_id = ? WHERE id = ?", (message_id, conf))

    def press(self, data: str, chat_id: str = "", user_id: str = "") -> PressResult:
        """A button press: claim the confirmation once, then act. Stale and unknown buttons get a sentence."""
        verb, _, conf = (data or "").partition(":")
        if verb not in ("ok", "no") or not conf:
            return PressResult("This button is not one of mine.", None)
        now = self.clock()
        with self.store.transaction() as conn:
            row = conn.execute("SELECT action, ticker, status, expires_at, chat_id, message_id FROM tg_confirmations "
                               "WHERE id = ?", (conf,)).fetchone()
            if row is None:
                return PressResult("This button is no longer valid.", None)
            action, ticker, status, expires_at, conf_chat, message_id = row
            if status != "pending":
                return PressResult(f"Already {status}.", None)
            if conf_chat and chat_id and str(conf_chat) != str(chat_id):
                return PressResult("This button belongs to another chat.", None)
            if verb == "ok" and now > float(expires_at):
                conn.execute("UPDATE tg_confirmations SET status = 'expired' WHERE id = ?", (conf,))
                return PressResult("Expired.", f"⌛ Expired after {CONFIRM_TTL:.0f} s: nothing was done. "
                                   "Send the command again.")
            conn.execute("UPDATE tg_confirmations SET status = ? WHERE id = ?",
                         ("confirmed" if verb == "ok" else "cancelled", conf))
        if verb == "no":
            return PressResult("Cancelled.", "Cancelled: nothing was done.")
        if not self.settings.telegram_actions:  # switched off between question and press (a restart)
            return PressResult("Actions are off.", ACTIONS_OFF)
        self.store.journal("telegram", ticker if action != "autosell" else None, f"confirmed_{action}",
                           f"Telegram user {user_id} confirmed /{action} {ticker or ''}".strip())
        return self._act(action, ticker or "", conf, str(chat_id), message_id)

    def _act(self, action: str, ticker: str, conf: str, chat_id: str, message_id: int | None) -> PressResult:
        if action == "autosell":
            self.store.set_autosell(ticker == "on")
            return PressResult(f"Auto-sell {ticker}.", f"Auto-sell is now <b>{ticker.upper()}</b>.")
        if action == "rearm":
            if autosell.rearm(self.store, ticker):
                return PressResult("Re-armed.", f"{escape(ticker)} is handed back to auto-sell.")
            return PressResult("Nothing held.", f"Nothing was held back for {escape(ticker)} any more.")
        key = request_sell(self.store, ticker, conf, chat_id, message_id, self.clock())
        if key is None:
            return PressResult("Already requested.", None)
        return PressResult("Sell requested.", f"⏳ Sell of {escape(ticker)} requested: the worker sends it in its "
                           "next cycle if every check passes. The outcome follows here.")


# -- /sell: requested by the adapter, executed by the lease holder ----------------------------------
def sell_key(conf: str) -> str:
    return f"tgsell:{conf}"


def request_sell(store: Store, ticker: str, conf: str, chat_id: str = "", message_id: int | None = None,
                 now: float | None = None) -> str | None:
    """Queue the user's own sale of `ticker` under the confirmation's key. None when already queued.

    The ONE entry for a Telegram sale: the lead re-points it to the order journal at merge.
    """
    now = time.time() if now is None else now
    key = sell_key(conf)
    rows = store.execute(
        "INSERT OR IGNORE INTO manual_sells (key, ticker, chat_id, message_id, status, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, 'requested', ?, ?) RETURNING key", (key, ticker, chat_id, message_id, now, now))
    if not rows:
        return None
    store.journal("telegram", ticker, "sell_requested", f"Sale of {ticker} requested from Telegram", {"key": key})
    return key


def _settle(store: Store, key: str, status: str, note: str, now: float) -> None:
    store.execute("UPDATE manual_sells SET status = ?, note = ?, updated_at = ?, reported = 0 WHERE key = ?",
                  (status, note, now, key))


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
    for row in store.query("SELECT * FROM manual_sells WHERE status IN ('requested', 'releasing', 'unknown') "
                           "ORDER BY created_at"):
        key, ticker = row["key"], row["ticker"]
        intent = store.query("SELECT status, detail FROM sell_intents WHERE key = ?", (key,))
        if intent:  # already sent (maybe before a restart): follow its outcome, never send again
            _follow(store, row, intent[0], now)
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
        intent = store.query("SELECT status, detail FROM sell_intents WHERE key = ?", (key,))
        if intent:
            _follow(store, row, intent[0], now)
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
    return store.query("SELECT * FROM manual_sells WHERE reported = 0 AND status != 'requested' ORDER BY updated_at")


def mark_reported(store: Store, key: str) -> None:
    store.execute("UPDATE manual_sells SET reported = 1 WHERE key = ?", (key,))


def sell_outcome_text(row: dict[str, Any]) -> str:
    icon = {"placed": "✅", "filled": "✅", "rejected": "❌", "unknown": "❓", "held": "❓", "expired": "⌛",
            "dry_run": "🧪", "releasing": "⏳"}.get(row["status"], "⏸")
    return f"{icon} <b>/sell {escape(row['ticker'])}</b>: {escape(row['note'] or row['status'])}"


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}" if abs(value) < 100000 else f"{value:,.0f}"


def _float(word: str) -> float | None:
    try:
        value = float(word)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None
