"""Pure alert rules: (previous snapshot, current snapshot, dedup keys) -> alert events.

No clock, no network, no database: the worker stores the keys (table `alert_keys`) and sends the
texts. Each event carries the key that makes it once-only; `clear` lists keys whose condition
ended (a price back above its stop, total risk back under the threshold), so it can alert again.

Texts are Telegram HTML made for a phone screen: what happened first, then ticker, name, price,
stop and P&L. Every name is escaped, so an "S&P 500" fund cannot break a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape, unescape

from papishares.core import money as money_words
from papishares.core.models import PositionView, Snapshot
from papishares.store.keys import AlertFamily


@dataclass(frozen=True)
class AlertEvent:
    kind: str  # stop_breached | macd_crossover | risk_above | units_mismatch | autosell_* | auth_rejected | test
    text: str  # Telegram HTML
    ticker: str | None = None
    key: str | None = None  # dedup key; None: not deduplicated (the caller decided it happens once)

    @property
    def plain(self) -> str:
        """The text without HTML, for the journal (Activity page)."""
        return strip_html(self.text)


@dataclass(frozen=True)
class AlertPlan:
    events: tuple[AlertEvent, ...] = ()
    clear: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rules:
    """Which alert kinds are off; the total-risk threshold comes from the snapshot itself."""

    kinds_off: frozenset[str] = field(default_factory=frozenset)


def strip_html(text: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", text))


# -- number formats made for a phone -----------------------------------------------------------------
def money(value: float | None, currency: str) -> str:
    return "n/a" if value is None else escape(money_words.amount(value, currency))


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}%"


def position_lines(p: PositionView, account_currency: str | None = None) -> list[str]:
    """Ticker, name, price, stop and P&L of one position, escaped for HTML."""
    pnl = pct(p.profit_pct)
    if p.unrealised_pnl is not None and account_currency:
        pnl += f" ({money(p.unrealised_pnl, account_currency)})"
    stop = p.stop_loss_price if p.stop_loss_price is not None else p.effective_stop
    return [
        f"<b>{escape(p.short_name or p.ticker)}</b> · {escape(p.name)}",
        f"Price {money(p.current_price, p.currency)} · stop {money(stop, p.currency)}",
        f"P&amp;L {pnl} · qty {p.quantity:g}",
    ]


def for_account(text: str, account: str | None) -> str:
    """A message of account `account` (None: the only account, unchanged) names it first.

    >>> for_account("<b>Stop breached</b>", "isa")
    '<b>[isa]</b> <b>Stop breached</b>'
    >>> for_account("x", None)
    'x'
    """
    return text if account is None else f"<b>[{escape(account)}]</b> {text}"


def _message(headline: str, lines: Iterable[str], footer: str | None = None) -> str:
    parts = [headline, *lines]
    if footer:
        parts.append(footer)
    return "\n".join(parts)


# -- the rules ------------------------------------------------------------------------------------------
def stop_key(ticker: str) -> str:
    return AlertFamily.STOP.of(ticker)


def macd_key(p: PositionView) -> str:
    return AlertFamily.MACD.of(p.yahoo_symbol or p.ticker, p.last_bar_date, p.macd_crossover)


def units_key(ticker: str) -> str:
    return AlertFamily.UNITS.of(ticker)


RISK_KEY = "risk:above"
AUTH_KEY = "auth:rejected"


def evaluate(previous: Snapshot | None, current: Snapshot, keys: set[str], autosell_on: bool = False,
             rules: Rules = Rules()) -> AlertPlan:
    """Alerts due for `current`, given the dedup keys already stored.

    A stale snapshot (old data shown after a broker failure) raises nothing and clears nothing.
    """
    if current.stale:
        return AlertPlan()
    events: list[AlertEvent] = []
    clear: list[str] = []
    account_ccy = current.account.currency
    held = {p.ticker for p in current.positions}

    for p in current.positions:
        key = stop_key(p.ticker)
        if p.stop_breached and p.stop_loss_price is not None:
            # A >50% jump waits one cycle for confirmation before it may alert (a bad tick is no breach).
            if key not in keys and not p.price_suspect:
                follow = ("Auto-sell is on: it sells while the market is open." if autosell_on
                          else "Auto-sell is off: decide whether to sell.")
                events.append(AlertEvent("stop_breached", _message(
                    f"🔻 <b>Stop breached: {escape(p.short_name)}</b>",
                    position_lines(p, account_ccy), follow), p.ticker, key))
        elif key in keys and p.stop_loss_price is not None and p.current_price > p.stop_loss_price:
            clear.append(key)

        if p.macd_crossover in ("BULLISH", "BEARISH") and p.last_bar_date:
            mkey = macd_key(p)
            if mkey not in keys:
                arrow = "📈" if p.macd_crossover == "BULLISH" else "📉"
                events.append(AlertEvent("macd_crossover", _message(
                    f"{arrow} <b>MACD {p.macd_crossover.lower()} crossover: {escape(p.short_name)}</b>",
                    position_lines(p, account_ccy), f"On the daily bar of {escape(p.last_bar_date)}."),
                    p.ticker, mkey))

    events.extend(_units_events(current, keys, clear))

    # Positions gone since the previous snapshot: a reopened position may alert afresh.
    gone = {k for k in keys if k.startswith(("stop:", "units:")) and k.split(":", 1)[1] not in held}
    if previous is not None:
        gone |= {stop_key(p.ticker) for p in previous.positions if p.ticker not in held} & keys
    clear.extend(sorted(gone))

    threshold = current.total_risk_threshold_pct
    if current.total_risk_pct > threshold:
        if RISK_KEY not in keys:
            events.append(AlertEvent("risk_above", _message(
                f"⚠️ <b>Total risk {current.total_risk_pct:.2f}% is above {threshold:g}%</b>",
                [f"Account {money(current.account.total_value, account_ccy)} · "
                 f"{len(current.positions)} positions"],
                "Tighten stops or reduce positions."), None, RISK_KEY))
    elif RISK_KEY in keys:
        clear.append(RISK_KEY)

    if AUTH_KEY in keys:
        clear.append(AUTH_KEY)  # a fresh snapshot means the key works again
    events = [e for e in events if e.kind not in rules.kinds_off]
    return AlertPlan(tuple(events), tuple(dict.fromkeys(clear)))


def _units_events(current: Snapshot, keys: set[str], clear: list[str]) -> list[AlertEvent]:
    """ONE alert per position whose price and average/last price disagree ~100x (pence/pounds),
    until they agree again (then the key is cleared and a later mix-up alerts anew)."""
    events = []
    for p in current.positions:
        key = units_key(p.ticker)
        if p.units_note and key not in keys:
            events.append(AlertEvent("units_mismatch", _message(
                f"⚠️ <b>Prices in doubt: {escape(p.short_name or p.ticker)}</b>",
                position_lines(p, current.account.currency),
                escape(p.units_note[:1].upper() + p.units_note[1:]) + "."), p.ticker, key))
        elif not p.units_note and key in keys:
            clear.append(key)
    return events


# -- events made by the worker and auto-sell (not rules over snapshots) ---------------------------------
def auth_rejected(message: str) -> AlertEvent:
    return AlertEvent("auth_rejected", _message(
        "🔑 <b>Trading 212 rejected the API key</b>", [escape(message)],
        "Alerts and auto-sell are paused until the key works."), None, AUTH_KEY)


def autosell_event(kind: str, p: PositionView, what: str, account_currency: str | None = None,
                   key: str | None = None) -> AlertEvent:
    """kind: autosell_placed | autosell_rejected | autosell_skipped | autosell_unknown | autosell_dry_run."""
    headline = {
        "autosell_placed": "✅ <b>Auto-sell placed: {}</b>",
        "autosell_rejected": "❌ <b>Auto-sell rejected: {}</b>",
        "autosell_skipped": "⏸ <b>Auto-sell skipped: {}</b>",
        "autosell_unknown": "❓ <b>Auto-sell outcome unknown: {}</b>",
        "autosell_dry_run": "🧪 <b>Would sell (dry run): {}</b>",
    }.get(kind, "<b>Auto-sell: {}</b>").format(escape(p.short_name or p.ticker))
    return AlertEvent(kind, _message(headline, position_lines(p, account_currency), escape(what)), p.ticker, key)


def sample_event(environment: str) -> AlertEvent:
    return AlertEvent("test", _message("🔔 <b>Papishares test alert</b>",
                                       [f"Environment {escape(environment)}"], "Alerts reach this chat."))
