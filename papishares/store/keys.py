"""Every key stored in the `kv` table and every once-only alert key, named once.

`kv` holds small state shared by every process through the database. A key is either one fixed
name (`Key`) or a family of names built from a pattern and a part (`KeyFamily`, e.g. one per
symbol). Each key says whether it belongs to one account (an auto-sell flag, an account's
refused-stop notes) or to the whole installation (the Telegram offset, the bar cache's notes):
the store keeps an account's keys under that account and shared keys under `SHARED`.

The stored strings predate this module and stay as they are, so nothing stored is lost.
"""

from __future__ import annotations

from enum import StrEnum

SHARED = ""  # the `account` of rows that belong to no one account


class Key(StrEnum):
    """The fixed `kv` keys."""

    AUTOSELL = "autosell"  # 'on' / 'off'
    AUTOSELL_SEEN = "autosell.seen"  # {ticker: {"price", "at", "suspect"}}: the lease holder's last look
    PRECISION = "autosell.precision"  # {ticker: decimals} an instrument accepts (the name predates it)
    BROKER_STOPS_OVERRIDE = "override.broker_stops"  # 'on' / 'off' from the Settings page
    BROKER_STOPS_REFUSED = "brokerstops.refused"  # {"account": {...} | null, "tickers": {t: {...}}}
    RISK_PERCENTAGE_OVERRIDE = "override.risk_percentage"
    TOTAL_RISK_PERCENTAGE_OVERRIDE = "override.total_risk_percentage"
    STOP_MODE_OVERRIDE = "override.stop_mode"  # a mode of config.STOP_MODES from the Settings page
    TAX_SUMMARY = "history.tax_summary"
    REPORT_PENDING = "history.report_pending"
    DEMO_HISTORY_SEEDED = "history.demo_seeded"
    PASSWORD_FAILURES = "dashboard.password_failures"  # {"count": n, "last": t}
    NOTIFY_MODES = "notify.modes"
    NOTIFY_MUTE_UNTIL = "notify.mute_until"
    TELEGRAM_OFFSET = "telegram.offset"
    WORKER_STANDBY = "worker.standby"
    SOLE_ACCOUNT = "store.sole_account"  # the name the file's only account had when last opened


class KeyFamily(StrEnum):
    """`kv` keys built from a pattern and one part (`of`)."""

    PROBLEMS = "t212.problems.{}"  # per broker answer kind: the items the parser set aside
    OUTBOX_PARTS_SENT = "outbox.parts_sent.{}"  # per outbox row: parts of a long message delivered
    TELEGRAM_MIGRATED = "telegram.migrated.{}"  # per old chat id: the chat it became
    FX_RATE = "fx:{}"  # per currency pair: the last rate seen
    BARS_UNITS_NOTE = "bars.units_note:{}"  # per symbol: bars repaired for units
    YAHOO_CURRENCY_CHECKED = "yahoo.currency_checked_at:{}"  # per symbol

    def of(self, part: object) -> str:
        return self.value.format(part)


_SHARED_KEYS = frozenset({Key.PRECISION, Key.PASSWORD_FAILURES, Key.NOTIFY_MODES, Key.NOTIFY_MUTE_UNTIL,
                          Key.TELEGRAM_OFFSET, Key.WORKER_STANDBY})
_SHARED_FAMILIES = (KeyFamily.OUTBOX_PARTS_SENT, KeyFamily.TELEGRAM_MIGRATED, KeyFamily.FX_RATE,
                    KeyFamily.BARS_UNITS_NOTE, KeyFamily.YAHOO_CURRENCY_CHECKED)


def is_shared(key: str) -> bool:
    """True for a key of the whole installation, False for one of an account."""
    if key in _SHARED_KEYS:
        return True
    return any(key.startswith(family.value.split("{}")[0]) for family in _SHARED_FAMILIES)


class AlertKey(StrEnum):
    """Once-only keys (`alert_keys`): an event alerted (or acted on) once until its key is cleared."""

    RISK_ABOVE = "risk:above"
    AUTH_REJECTED = "auth:rejected"


class AlertFamily(StrEnum):
    """Families of once-only keys, by prefix."""

    STOP = "stop:"  # stop:TICKER, a breach alerted
    MACD = "macd:"  # macd:SYMBOL:DATE:DIRECTION
    UNITS = "units:"  # units:TICKER
    AUTOSELL = "autosell:"  # autosell:DECISION:REASON
    BROKER_STOP = "brokerstop:"
    TELEGRAM_MIGRATED = "telegram-migrated:"  # telegram-migrated:OLD:NEW

    def of(self, *parts: object) -> str:
        return self.value + ":".join(str(p) for p in parts)


class IntentKey:
    """The keys of order requests (`sell_intents.key`): one key is one request, ever, so each is built
    from what makes the request unique, and only here."""

    @staticmethod
    def breach_sale(ticker: str, opened_at: float | None, breach_count: int) -> str:
        """Auto-sell: one sale per breach of one holding (the position's opening and its breach count)."""
        return f"{ticker}:{(opened_at or 0.0):.3f}:{breach_count}"

    @staticmethod
    def stop_place(ticker: str, at: float) -> str:
        return f"stop:{ticker}:place:{at:.6f}"

    @staticmethod
    def stop_cancel(ticker: str, order_id: int | None, at: float) -> str:
        return f"stop:{ticker}:cancel:{order_id}:{at:.6f}"

    @staticmethod
    def telegram_sell(confirmation: str) -> str:
        """A Telegram /sell: one request per confirmation button."""
        return f"tgsell:{confirmation}"

    @staticmethod
    def release(key: str) -> str:
        """The cancel of a managed stop that frees the shares of the /sell under `key`."""
        return f"{key}:release"


PRUNABLE_ALERTS = (AlertFamily.MACD, AlertFamily.AUTOSELL, AlertFamily.BROKER_STOP)  # events that cannot recur
