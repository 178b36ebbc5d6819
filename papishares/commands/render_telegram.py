"""The command results as Telegram HTML (parse_mode HTML): the only place their chat wording lives."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import singledispatch
from html import escape
from typing import Any

from papishares.commands.autosell import (
    AutoSellChanged,
    AutoSellQuestion,
    NothingHeld,
    RearmQuestion,
    RearmResult,
)
from papishares.commands.chart import Chart, ChartsUnavailable, NoHistory
from papishares.commands.health import WorkerHealth
from papishares.commands.notifications import MuteChanged, NotifySettings
from papishares.commands.positions import PositionsView, RiskView
from papishares.commands.reading import DataAge, NoSnapshot, UnknownPosition
from papishares.commands.sell import HeldByOwnOrders, SellQuestion, SellRequested
from papishares.commands.status import Status
from papishares.core.numbers import age_words
from papishares.notify.rules import money, pct

NO_DATA = "No data yet: the worker has not built a snapshot. Is it running?"
ACTIONS_OFF = ("Acting commands are off. To allow /autosell, /rearm and /sell from Telegram, set "
               "<code>PAPISHARES_TELEGRAM_ACTIONS=true</code> for the worker and restart it.")
HELP = ("<b>Papishares commands</b>",
        "/status - account, P&amp;L, total risk, worker, auto-sell",
        "/positions - price, stop, distance, protection",
        "/risk - total risk and the largest risks",
        "/chart TICKER - candlesticks and MACD",
        "/mute HOURS - alerts silent for a while (/mute 0 ends it)",
        "/notify [KIND on|silent|off] - notification settings per alert kind",
        "/autosell on|off, /rearm TICKER, /sell TICKER - acting, each confirmed by a button")
SELL_ICONS = {"placed": "✅", "filled": "✅", "rejected": "❌", "unknown": "❓", "held": "❓", "expired": "⌛",
              "dry_run": "🧪", "releasing": "⏳"}


def on_off(value: bool) -> str:
    return "on" if value else "off"


def data_note(data: DataAge | None) -> str:
    """The last line of every read: how old the data is (escaped)."""
    if data is None:
        return escape(NO_DATA)
    note = (f"Data from {data.moment.astimezone(UTC):%H:%M:%S} UTC ({age_words(data.age_seconds)} ago)"
            + (" · stale" if data.stale else ""))
    return escape(note)


def worker_line(health: WorkerHealth) -> str:
    if health.heartbeat_age is None:
        return "Worker: never started"
    return (f"Worker: {'running' if health.healthy else 'NOT running'} "
            f"(heartbeat {age_words(health.heartbeat_age)} ago)")


def help_text(actions_on: bool) -> str:
    lines = list(HELP)
    if not actions_on:
        lines.append("(acting commands are off: PAPISHARES_TELEGRAM_ACTIONS=true turns them on)")
    return "\n".join(lines)


@singledispatch
def text(result: Any) -> str:
    """One command result as a chat message."""
    raise TypeError(f"no Telegram rendering for {type(result).__name__}")


@text.register
def _(result: NoSnapshot) -> str:
    return escape(NO_DATA)


@text.register
def _(result: UnknownPosition) -> str:
    held = ", ".join(result.held)
    return f"No open position for {escape(result.name)}." + (f" Held: {escape(held)}." if held else "")


@text.register
def _(s: Status) -> str:
    lines = [f"<b>Papishares</b> · {escape(s.environment)}"]
    if s.account is not None:
        a = s.account
        lines += [
            f"Account {money(a.total_value, a.currency)} · cash {money(a.cash, a.currency)}",
            f"Unrealised P&amp;L {money(a.unrealised_pnl, a.currency)}",
            f"Total risk {a.total_risk_pct:.2f}% of {a.total_risk_limit_pct:g}% limit "
            + ("⚠️ above" if a.over_limit else "✅"),
            f"Positions {a.positions} · at or below stop {a.at_or_below_stop}",
        ]
    lines += [worker_line(s.worker),
              f"Auto-sell: {'ON' if s.autosell else 'off'} · broker stops: {on_off(s.broker_stops)}",
              f"Telegram actions: {on_off(s.telegram_actions)}"]
    if s.muted_until is not None:
        lines.append(f"Alerts muted until {datetime.fromtimestamp(s.muted_until, UTC):%d %b %H:%M} UTC")
    lines.append(data_note(s.data))
    return "\n".join(lines)


@text.register
def _(view: PositionsView) -> str:
    if not view.rows:
        return "No open positions.\n" + data_note(view.data)
    rows = [f"{'TICKER':<7}{'PRICE':>9}{'STOP':>9}{'DIST':>7} PROT"]
    for r in view.rows:
        dist = f"{r.distance_to_stop_pct:.1f}%" if r.distance_to_stop_pct is not None else "-"
        rows.append(f"{r.short_name[:7]:<7}{_num(r.current_price):>9}{_num(r.stop):>9}{dist:>7} {r.protection}")
    return "<pre>" + escape("\n".join(rows)) + "</pre>\n" + data_note(view.data)


@text.register
def _(view: RiskView) -> str:
    lines = [f"<b>Total risk {view.total_risk_pct:.2f}%</b> (limit {view.total_risk_limit_pct:g}%, "
             f"{view.risk_per_position_pct:g}% per position)",
             f"Open risk from today's prices {view.open_risk_pct:.2f}%"]
    for r in view.largest:
        flag = "" if r.has_stop else " · no stop"
        lines.append(f"{escape(r.short_name)}: {money(r.risk, view.currency)} ({r.share_pct:.2f}%){flag}")
    lines.append(data_note(view.data))
    return "\n".join(lines)


@text.register
def _(result: ChartsUnavailable) -> str:
    return "Charts are not available here."


@text.register
def _(result: NoHistory) -> str:
    return f"No price history for {escape(result.position.short_name)} yet (market data: {escape(result.market_data)})."


@text.register
def _(result: Chart) -> str:
    p = result.position
    if result.png is None:
        return f"The chart of {escape(p.short_name)} could not be drawn: {escape(result.problem or '')}"
    return (f"<b>{escape(p.short_name)}</b> · price {money(p.current_price, p.currency)} · "
            f"stop {money(p.effective_stop, p.currency)} · MACD {escape(p.macd_signal or 'n/a')}")


@text.register
def _(result: MuteChanged) -> str:
    if result.until is None:
        return "🔔 Alerts ring again."
    return (f"🔕 Alerts arrive silently until {datetime.fromtimestamp(result.until, UTC):%d %b %H:%M} UTC "
            "(nothing is lost; /mute 0 ends it).")


@text.register
def _(result: NotifySettings) -> str:
    lines = ["<b>Notifications</b> (on rings, silent arrives quietly, off: Activity page only)"]
    lines += [f"{kind}: {mode}" for kind, mode in result.modes]
    return "\n".join(lines)


# -- acting: the confirmation questions and what a press did -------------------------------------------
@text.register
def _(q: AutoSellQuestion) -> str:
    word = on_off(q.enabled).upper()
    warning = ""
    if q.live:
        warning = (" This is the LIVE account: the worker sells a whole position at market when its price falls "
                   "to the calculated stop." + ("" if q.live_orders_allowed else
                                                " (PAPISHARES_ALLOW_LIVE_ORDERS is not true: it only says "
                                                "'would sell'.)"))
    return f"Switch auto-sell <b>{word}</b>?" + warning


@text.register
def _(q: RearmQuestion) -> str:
    return f"Hand <b>{escape(q.ticker)}</b> back to auto-sell?"


@text.register
def _(result: NothingHeld) -> str:
    return f"Nothing is held back from auto-sell for {escape(result.name)}."


@text.register
def _(q: SellQuestion) -> str:
    p = q.position
    first = (f" The stop Papishares keeps at the broker for these shares ({q.reserved:g} at "
             f"{q.managed_stop_price:g}) is cancelled first." if q.managed_stop_price is not None else "")
    return (f"Sell <b>{q.quantity:g} {escape(p.short_name)}</b> ({escape(p.name)}) at market now? "
            f"Last price {money(p.current_price, p.currency)}, P&amp;L {pct(p.profit_pct)}.{first} "
            "The worker checks market hours, pending sells and the live guard before sending.")


@text.register
def _(result: HeldByOwnOrders) -> str:
    return escape(result.message)


@text.register
def _(result: AutoSellChanged) -> str:
    return f"Auto-sell is now <b>{on_off(result.enabled).upper()}</b>."


@text.register
def _(result: RearmResult) -> str:
    if result.rearmed:
        return f"{escape(result.ticker)} is handed back to auto-sell."
    return f"Nothing was held back for {escape(result.ticker)} any more."


@text.register
def _(result: SellRequested) -> str:
    return (f"⏳ Sell of {escape(result.ticker)} requested: the worker sends it in its next cycle if every check "
            "passes. The outcome follows here.")


def button_label(question: AutoSellQuestion | RearmQuestion | SellQuestion) -> str:
    if isinstance(question, AutoSellQuestion):
        return f"Yes, auto-sell {on_off(question.enabled)}"
    if isinstance(question, RearmQuestion):
        return f"Yes, re-arm {question.ticker}"
    return f"Yes, sell {question.position.short_name}"


def answer(result: AutoSellChanged | RearmResult | SellRequested) -> str:
    """The short answer to a button press (answerCallbackQuery)."""
    if isinstance(result, AutoSellChanged):
        return f"Auto-sell {on_off(result.enabled)}."
    if isinstance(result, RearmResult):
        return "Re-armed." if result.rearmed else "Nothing held."
    return "Sell requested." if result.requested else "Already requested."


def sell_outcome(ticker: str, status: str, note: str | None) -> str:
    """What became of a confirmed /sell."""
    return f"{SELL_ICONS.get(status, '⏸')} <b>/sell {escape(ticker)}</b>: {escape(note or status)}"


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}" if abs(value) < 100000 else f"{value:,.0f}"
