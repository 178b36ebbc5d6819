"""`papishares doctor`: read-only checks of a (real) account, one sentence each, with a fix.

What a new user runs first with real keys. Each check is a small function returning a `Check`
(a name, pass/fail, a sentence a person can read, and how to fix a failure), in the manner of
Ghostfolio's rules. The same `run_checks()` feeds the CLI and the Home page's "Check my setup".

Read-only by construction: broker calls go through the service's snapshot (summary, positions,
orders, from the shared rate budget and its cache), one metadata fetch, and GET-only `probe()`s of
the history endpoints. No order endpoint is ever called: `orders:execute` is reported as not
checked, since only an order could prove it.

Exit codes (`Report.exit_code`): 0 everything asked for works, 1 something would not work, 2 a
configuration error, 3 the broker cannot be reached or rejects the key.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from papishares.broker import Broker
from papishares.config import PER_ACCOUNT, Settings, account_variable
from papishares.core import units
from papishares.core.errors import AuthError, BrokerError, MissingScope, PapisharesError, RateLimited
from papishares.core.models import Snapshot
from papishares.core.numbers import age_words
from papishares.market import schedule as market_schedule
from papishares.store.db import Store

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAIL, EXIT_CONFIG, EXIT_BROKER = 0, 1, 2, 3
HISTORY_PROBES = {  # scope -> (path, params): the smallest page of each history listing
    "history:orders": ("/equity/history/orders", {"limit": "1"}),
    "history:dividends": ("/equity/history/dividends", {"limit": "1"}),
    "history:transactions": ("/equity/history/transactions", {"limit": "1"}),
}
KEY_FIX = ("check T212_API_KEY / T212_SECRET_KEY, and T212_ENV: a live key does not work on demo "
           "(paper trading) and the reverse")
SCOPE_FIX = "enable the '{scope}' permission for this key in Trading 212 (Settings > API), or make a key with it"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None
    status: str = ""  # "pass" | "fail" | "info" (reported, not a failure) | "skip"
    fatal: int = 0  # an exit code that overrides 1 (2 configuration, 3 broker) when this fails

    def __post_init__(self) -> None:
        if not self.status:
            object.__setattr__(self, "status", "pass" if self.ok else "fail")

    def line(self) -> str:
        mark = {"pass": "ok  ", "fail": "FAIL", "info": "info", "skip": "skip"}[self.status]
        text = f"{mark}  {self.name}: {self.detail}"
        if self.fix and not self.ok:
            return f"{text} Fix: {self.fix}"
        return f"{text} ({self.fix})" if self.fix and self.status == "info" else text

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("fatal")
        return data


def info(name: str, detail: str, fix: str | None = None) -> Check:
    return Check(name, True, detail, fix, "info")


def skip(name: str, why: str) -> Check:
    return Check(name, True, f"not checked: {why}", None, "skip")


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]
    checked_at: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def exit_code(self) -> int:
        fatal = [c.fatal for c in self.checks if not c.ok and c.fatal]
        if EXIT_CONFIG in fatal:
            return EXIT_CONFIG
        if EXIT_BROKER in fatal:
            return EXIT_BROKER
        return EXIT_OK if self.ok else EXIT_FAIL

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def to_json(self) -> dict[str, Any]:
        return {"checks": [c.to_json() for c in self.checks], "ok": self.ok}

    def text(self) -> str:
        lines = [c.line() for c in self.checks]
        bad = self.failures()
        lines.append("All checks passed." if not bad else
                     f"{len(bad)} check{'s' if len(bad) > 1 else ''} failed: " + ", ".join(c.name for c in bad) + ".")
        return "\n".join(lines)


@dataclass(frozen=True)
class Sections:
    """Several accounts: one report per account, in the configured order."""

    accounts: tuple[str, ...]
    reports: tuple[Report, ...]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.reports)

    @property
    def exit_code(self) -> int:
        """The gravest of the accounts' codes: a configuration error, then the broker, then a failure."""
        codes = {r.exit_code for r in self.reports}
        return next((c for c in (EXIT_CONFIG, EXIT_BROKER, EXIT_FAIL) if c in codes), EXIT_OK)

    def to_json(self) -> dict[str, Any]:
        return {"accounts": [{"account": name, **report.to_json()}
                             for name, report in zip(self.accounts, self.reports, strict=True)], "ok": self.ok}

    def summary(self) -> str:
        """One closing line per account."""
        return "\n".join(f"{name}: {report.text().splitlines()[-1]}"
                         for name, report in zip(self.accounts, self.reports, strict=True))


def config_failure(message: str) -> Report:
    """The report for settings that do not even load (exit 2)."""
    return Report((Check("configuration", False, message, "correct that variable in the environment or .env",
                         fatal=EXIT_CONFIG),))


# -- the checks ----------------------------------------------------------------------------------------
def check_configuration(settings: Settings) -> Check:
    problems = []
    if bool(settings.telegram_bot_token) != bool(settings.telegram_chat_id):
        problems.append("TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID must be set together")
    if problems:
        return Check("configuration", False, "; ".join(problems) + ".",
                     "set both variables (or neither) in the environment or .env", fatal=EXIT_CONFIG)
    if settings.environment == "demo-sim":
        where = ("the built-in demo broker (no T212_API_KEY)" if not settings.t212_api_key
                 else "the built-in demo broker (PAPISHARES_BROKER=demo, the key is not used)")
        return Check("configuration", True, f"{where}; set T212_API_KEY (and T212_SECRET_KEY) to check a real "
                     f"account. Database {settings.db_path}, market data {settings.market_data}.")
    auth = "key and secret (HTTP Basic)" if settings.t212_secret_key else "key only (legacy header)"
    env = "live (real money)" if settings.is_live else "demo (paper trading)"
    live = ("; live orders allowed (PAPISHARES_ALLOW_LIVE_ORDERS=true)" if settings.is_live and settings.allow_live_orders
            else "; no live order is ever sent (PAPISHARES_ALLOW_LIVE_ORDERS is not true)" if settings.is_live else "")
    return Check("configuration", True, f"Trading 212 {env} at {settings.t212_api_base}, {auth}{live}. "
                 f"Database {settings.db_path}, market data {settings.market_data}.")


@dataclass
class Probe:
    """What the broker part of the run found; shared by the checks that read it."""

    snapshot: Snapshot | None = None
    auth_error: AuthError | None = None
    broker_error: BrokerError | None = None
    missing: dict[str, str] = field(default_factory=dict)  # scope -> the broker's sentence
    metadata_error: str | None = None  # the one metadata fetch failed (not for a scope)
    started: float = 0.0


def take_snapshot(service: Any) -> Probe:
    """The one snapshot (summary, positions, orders, instruments, exchanges, bars) the checks read.

    A missing scope makes the snapshot fail as a whole: then each of its three endpoints is asked
    once on its own (within the shared budget, mostly from its cache) to name every scope missing.
    """
    probe = Probe(started=time.time())
    _fetch_metadata(service, probe)
    try:
        snap = service.snapshot()
    except MissingScope as err:
        probe.missing[err.scope] = str(err)
        broker = service.broker
        for read in (broker.account_summary, broker.positions, broker.orders):
            try:
                read()
            except MissingScope as more:
                probe.missing[more.scope] = str(more)
            except BrokerError:
                pass
        return probe
    except AuthError as err:
        probe.auth_error = err
        return probe
    except BrokerError as err:
        probe.broker_error = err
        return probe
    if snap.stale:
        probe.broker_error = BrokerError(snap.broker_note or "the broker did not answer")
    else:
        probe.snapshot = snap
    return probe


def check_authentication(settings: Settings, probe: Probe) -> Check:
    name = "authentication"
    if probe.auth_error is not None:
        return Check(name, False, str(probe.auth_error), KEY_FIX, fatal=EXIT_BROKER)
    if probe.broker_error is not None:
        return Check(name, False, f"the broker cannot be reached: {probe.broker_error}",
                     "check the network and T212_API_BASE; try again in a minute", fatal=EXIT_BROKER)
    if probe.snapshot is None:  # only scopes missing: the key itself was accepted
        return Check(name, True, f"the key is accepted by Trading 212 ({settings.environment}), "
                     "but it lacks permissions (below).")
    acc = probe.snapshot.account
    where = {"demo-sim": "the built-in demo broker", "t212-demo": "Trading 212 demo (paper trading)",
             "t212-live": "Trading 212 live"}.get(probe.snapshot.environment, probe.snapshot.environment)
    return Check(name, True, f"{where} answered: account in {acc.currency}, value {acc.total_value:,.2f} "
                 f"{acc.currency}, {len(probe.snapshot.positions)} positions.")


def _fetched(broker: Broker, kind: str, since: float) -> str:
    at = broker.data_time(kind)
    if at is None:
        return "answered"
    if at >= since - 0.5:
        return "answered now"
    return f"answered from the shared cache ({age_words(time.time() - at)} old)"


def check_scopes(service: Any, probe: Probe) -> list[Check]:
    broker = service.broker
    if service.environment == "demo-sim":
        return [skip("API scopes", "the built-in demo broker has no API key")]
    if probe.auth_error is not None or probe.broker_error is not None:
        return [skip("API scopes", "the broker did not accept the key or cannot be reached")]
    checks = []
    reads = {"account": ("GET /equity/account/summary", "summary"), "portfolio": ("GET /equity/positions", "positions"),
             "orders:read": ("GET /equity/orders", "orders")}
    for scope, (endpoint, kind) in reads.items():
        if scope in probe.missing:
            checks.append(Check(f"scope {scope}", False, probe.missing[scope], SCOPE_FIX.format(scope=scope)))
        elif probe.snapshot is None:
            checks.append(skip(f"scope {scope}", "another scope is missing"))
        else:
            checks.append(Check(f"scope {scope}", True, f"{endpoint} {_fetched(broker, kind, probe.started)}."))
    checks.append(_metadata_scope(broker, probe))
    checks.append(info("scope orders:execute", "not checked without an order (doctor never sends one); "
                       "auto-sell and managed stops need it: make sure the key has it.",
                       SCOPE_FIX.format(scope="orders:execute")))
    for scope, (path, params) in HISTORY_PROBES.items():
        checks.append(_history_scope(broker, scope, path, params))
    return checks


def _fetch_metadata(service: Any, probe: Probe) -> None:
    """The one metadata fetch, before the snapshot (which then reads the stored exchanges): the
    exchanges (1 per 30 s at Trading 212), or what is stored when the budget has no slot now."""
    if service.environment == "demo-sim":
        return
    try:
        service.broker.exchanges(refresh=True)
    except MissingScope as err:
        probe.missing[err.scope] = str(err)
    except AuthError:
        pass  # the snapshot right after says it for the whole key
    except BrokerError as err:
        probe.metadata_error = str(err)


def _metadata_scope(broker: Broker, probe: Probe) -> Check:
    name = "scope metadata"
    if "metadata" in probe.missing:
        return Check(name, False, probe.missing["metadata"], SCOPE_FIX.format(scope="metadata"))
    if probe.metadata_error is not None:
        return Check(name, False, f"the exchanges could not be fetched: {probe.metadata_error}",
                     "try again in a minute")
    return Check(name, True, f"GET /equity/metadata/exchanges {_fetched(broker, 'exchanges', probe.started)}.")


def _history_scope(broker: Broker, scope: str, path: str, params: dict[str, str]) -> Check:
    name = f"scope {scope}"
    try:
        found = broker.probe(path, params)
    except MissingScope as err:
        return Check(name, False, str(err), SCOPE_FIX.format(scope=scope))
    except RateLimited:  # another process (the worker's history sync) spent this minute's budget
        return skip(name, f"the rate budget for GET {path} is spent just now; run the doctor again in a minute")
    except BrokerError as err:
        return Check(name, False, f"GET {path} failed: {err}", "try again in a minute")
    if not found:
        return info(name, f"GET {path} is not served by this API base (404): history is not available here.")
    return Check(name, True, f"GET {path} answered now (history import and trade statistics will work).")


def check_rate_headers(service: Any) -> Check:
    """x-ratelimit-* on the answers this run fetched, and none stricter than the limits we keep to."""
    name = "rate-limit headers"
    broker = service.broker
    seen: dict[str, dict[str, str]] = broker.rate_headers
    if service.environment == "demo-sim":
        return skip(name, "the built-in demo broker has no rate limits")
    if not seen:
        return info(name, "no answer was fetched in this run (all from the shared cache, or none arrived); "
                    "Papishares keeps to the documented limits either way.")
    from papishares.broker.ratebudget import limit_for

    stricter, described = [], []
    for key, headers in sorted(seen.items()):
        try:
            count, period = int(headers["x-ratelimit-limit"]), float(headers["x-ratelimit-period"])
        except (KeyError, ValueError):
            described.append(f"{key}: incomplete ({', '.join(sorted(headers))})")
            continue
        ours = limit_for(key)
        described.append(f"{key} {count}/{period:g} s")
        if count / period < ours.count / ours.period - 1e-9:
            stricter.append(f"{key}: Trading 212 allows {count} per {period:g} s, Papishares assumes "
                            f"{ours.count} per {ours.period:g} s")
    if stricter:
        return Check(name, False, "; ".join(stricter) + ".",
                     "report it (papishares/broker/ratebudget.py LIMITS); until fixed, 429s are waited out")
    return Check(name, True, "present and within the limits Papishares keeps to: " + "; ".join(described) + ".")


def check_market_data(settings: Settings, probe: Probe) -> Check:
    name = "market data"
    snap = probe.snapshot
    if snap is None:
        return skip(name, "no snapshot")
    if settings.market_data == "none":
        return info(name, "off (PAPISHARES_MARKET_DATA=none): no MACD/SMA; stops and alerts work without it.")
    if not snap.positions:
        return info(name, "no open positions to map.")
    def why(p: Any) -> str:  # the service's own sentence, when it gave one
        note = getattr(p, "market_data_note", None)
        return f" ({note})" if note else ""

    no_symbol = [p.ticker + why(p) for p in snap.positions if not p.yahoo_symbol]
    no_bars = [f"{p.ticker} ({p.yahoo_symbol})" for p in snap.positions if p.yahoo_symbol and not p.last_bar_date]
    if no_symbol or no_bars:
        parts = []
        if no_symbol:
            parts.append("no market-data symbol for " + ", ".join(no_symbol))
        if no_bars:
            parts.append("no daily bars for " + ", ".join(no_bars))
        note = f" ({snap.market_data_note})" if snap.market_data_note else ""
        return Check(name, False, "; ".join(parts) + note + ".",
                     "set the Yahoo symbol for these tickers on the Settings page (symbol overrides)")
    return Check(name, True, f"all {len(snap.positions)} positions mapped to a symbol with daily bars "
                 f"({snap.market_data}).")


def check_units(service: Any, probe: Probe) -> Check:
    """Broker price vs average price, and vs the last daily close: about 100x apart is pence/pounds."""
    name = "price units"
    snap = probe.snapshot
    if snap is None:
        return skip(name, "no snapshot")
    bad = []
    for p in snap.positions:
        if getattr(p, "units_note", None):  # the service's rule (average and last recorded price)
            bad.append(f"{p.ticker}: {p.units_note}")
            continue
        if units.units_mismatch(p.current_price, p.average_price):
            bad.append(f"{p.ticker}: " + units.units_note(p.current_price, p.average_price, "average price",
                                                          p.currency))
            continue
        close = _last_close(service, p.ticker, snap)
        if close is not None and units.units_mismatch(close, p.current_price):
            bad.append(f"{p.ticker}: the daily bars ({p.yahoo_symbol}) close at {close:g}, "
                       f"{units.ratio(close, p.current_price):.0f}x the broker price {p.current_price:g} {p.currency}")
    if bad:
        return Check(name, False, "; ".join(bad) + ".",
                     "check the ticker's symbol override on the Settings page (a .L line quotes in pence); "
                     "no stop is computed and nothing is sold on it until the units agree")
    return Check(name, True, f"broker prices, average prices and daily bars agree in units for "
                 f"{len(snap.positions)} positions.")


def _last_close(service: Any, ticker: str, snap: Snapshot) -> float | None:
    try:
        bars = service.bars_for(ticker, snap)
    except Exception:  # noqa: BLE001 - no bars is no evidence; the market-data check reports it
        return None
    if bars is None or bars.empty or "Close" not in bars:
        return None
    closes = bars["Close"].dropna()
    return float(closes.iloc[-1]) if not closes.empty else None


def check_data_quality(probe: Probe) -> Check:
    """Items of the broker's answers that were unusable: each costs its own item, and is named."""
    name = "broker data"
    snap = probe.snapshot
    if snap is None:
        return skip(name, "no snapshot")
    marked = [f"{p.ticker}: {p.data_note}" for p in snap.positions if getattr(p, "data_note", None)]
    notes = [n for n in getattr(snap, "data_notes", ()) or () if not any(n in m for m in marked)]
    if marked:
        return Check(name, False, "never sold on until Trading 212 sends usable data: " + "; ".join(marked) + ".",
                     "check these positions in the Trading 212 app; nothing to change here")
    if notes:
        return info(name, "items skipped from the broker's answers: " + "; ".join(notes) + ".")
    return Check(name, True, "every position, order and instrument in the broker's answers was usable.")


def check_schedules(service: Any, probe: Probe) -> Check:
    name = "exchange schedules"
    snap = probe.snapshot
    if snap is None:
        return skip(name, "no snapshot")
    ctx = service.context()
    now = datetime.now(UTC)
    unknown, open_, closed = [], [], []
    for p in snap.positions:
        inst = ctx.instruments.get(p.ticker)
        if inst is None or market_schedule.schedule_events(inst, ctx.exchanges) is None \
                or not market_schedule.hours_known(inst, ctx.exchanges, now):
            unknown.append(p.ticker)
        elif market_schedule.is_open(inst, ctx.exchanges, now):
            open_.append(p.short_name)
        else:
            closed.append(p.short_name)
    if unknown:
        return Check(name, False, f"no Trading 212 working schedule covers {', '.join(unknown)}: auto-sell treats "
                     "their markets as closed (it never sells without known hours).",
                     "wait for the next metadata refresh (every 3 h); if it stays, the instrument is not "
                     "listed in /equity/metadata/instruments for this account")
    return Check(name, True, f"{len(ctx.exchanges)} exchanges; every held instrument has its hours "
                 f"(open now: {', '.join(open_) or 'none'}; closed: {', '.join(closed) or 'none'}).")


def check_telegram(settings: Settings, store: Store, send_test: bool) -> Check:
    name = "telegram"
    if not settings.telegram_enabled:
        return info(name, "not configured: alerts go to the journal (Activity page) only.",
                    "set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID for alerts on your phone")
    from papishares.notify.telegram import TelegramClient

    client = TelegramClient.from_settings(settings, store)
    assert client is not None
    try:
        me = client.get_me()
        if not me.ok:
            return Check(name, False, f"getMe failed: {me.error}.", "check TELEGRAM_BOT_TOKEN (from @BotFather) "
                         "and TELEGRAM_API_BASE")
        bot = (me.info or {}).get("username") or "the bot"
        moved = _migration_note(settings, client.chat_id)
        if not send_test:
            chat = client.get_chat()
            if not chat.ok:
                return Check(name, False, f"bot @{bot} works, but the chat: {chat.error}.",
                             _chat_fix(chat.migrate_to))
            return Check(name, True, f"bot @{bot} can reach chat {client.chat_id}{moved}; run with --telegram "
                         "to send a test message.")
        from papishares.notify.rules import sample_event

        sent = client.send(sample_event(settings.environment).text)
        if not sent.ok:
            return Check(name, False, f"bot @{bot} works, but the test message failed: {sent.error}.",
                         _chat_fix(sent.migrate_to))
        return Check(name, True, f"test message delivered by @{bot} to chat {client.chat_id}{moved}.")
    finally:
        client.close()


def _migration_note(settings: Settings, chat_id: str) -> str:
    if chat_id != settings.telegram_chat_id:
        return (f" (the group became a supergroup: alerts go to {chat_id}; set TELEGRAM_CHAT_ID={chat_id} "
                "in .env)")
    return ""


def _chat_fix(migrate_to: str | None) -> str:
    if migrate_to:
        return f"the group became a supergroup: set TELEGRAM_CHAT_ID={migrate_to}"
    return "add the bot to the chat (or send it /start), and check TELEGRAM_CHAT_ID"


def check_worker(settings: Settings, store: Store) -> Check:
    from papishares.commands.health import worker_health

    health = worker_health(store, settings)
    name = "worker"
    flag = "on" if health.autosell else "off"
    if health.healthy:
        return Check(name, True, f"running, heartbeat {age_words(health.heartbeat_age)} ago, auto-sell {flag}"
                     + (" (dry run)" if health.dry_run else "") + ".")
    start = "start it with `papishares worker` (or `make run`) for alerts and auto-sell"
    if health.heartbeat_age is None:
        return info(name, f"not started yet on this database (auto-sell {flag}).", start)
    warn = " Auto-sell is ON but nothing acts on it." if health.autosell else ""
    return info(name, f"not running: last heartbeat {age_words(health.heartbeat_age)} ago.{warn}", start)


def check_tax(settings: Settings) -> Check:
    name = "uk capital gains"
    if settings.account_type == "isa":
        return Check(name, True, "a Stocks ISA (PAPISHARES_ACCOUNT_TYPE=isa): gains are tax-free, nothing to compute.")
    from papishares.history import tax

    version = tax.tool_version()
    if version is None:
        return info(name, "cgt-calc is not installed: the History page cannot compute the capital gains.",
                    "make run builds .venv-cgt when Python 3.12+ is on the machine, or set PAPISHARES_CGT_CALC")
    return Check(name, True, f"{version} ready (History page, `papishares history tax`).")


# -- the run -----------------------------------------------------------------------------------------------
def run_checks(settings: Settings, service: Any = None, *, send_test: bool = False,
               progress: Callable[[Check], None] | None = None) -> Report:
    """Every check, in order. Never raises for broker or Telegram trouble; never sends an order."""
    checks: list[Check] = []

    def add(*new: Check) -> None:
        for c in new:
            c = in_account_words(c, settings)
            checks.append(c)
            if progress is not None:
                progress(c)

    add(check_configuration(settings))
    if checks[0].fatal and not checks[0].ok:
        return Report(tuple(checks))
    if service is None:
        from papishares.app.build import build

        service = build(settings).service
    store: Store = service.store
    probe = take_snapshot(service)
    add(check_authentication(settings, probe), *check_scopes(service, probe))
    add(_guarded("rate-limit headers", lambda: check_rate_headers(service)),
        _guarded("market data", lambda: check_market_data(settings, probe)),
        _guarded("price units", lambda: check_units(service, probe)),
        _guarded("broker data", lambda: check_data_quality(probe)),
        _guarded("exchange schedules", lambda: check_schedules(service, probe)),
        _guarded("telegram", lambda: check_telegram(settings, store, send_test)),
        _guarded("worker", lambda: check_worker(settings, store)),
        _guarded("uk capital gains", lambda: check_tax(settings)))
    return Report(tuple(checks))


def in_account_words(check: Check, settings: Settings) -> Check:
    """With several accounts a check names the account's own variables (T212_ISA_API_KEY, not T212_API_KEY)."""
    if not settings.several:
        return check

    def named(text: str | None) -> str | None:
        if text is None:
            return None
        return re.sub(r"\b(" + "|".join(PER_ACCOUNT) + r")\b",
                      lambda m: account_variable(settings.account_name, m.group(1)), text)

    return replace(check, detail=named(check.detail) or "", fix=named(check.fix))


def _guarded(name: str, fn: Callable[[], Check]) -> Check:
    """A check that hits something unexpected fails with a sentence, never a traceback."""
    try:
        return fn()
    except PapisharesError as err:
        return Check(name, False, str(err), "try again in a minute")
    except Exception as err:  # noqa: BLE001 - the doctor must finish its report
        log.debug("check %s failed", name, exc_info=True)
        return Check(name, False, f"unexpected error ({type(err).__name__}).",
                     "run with PAPISHARES_LOG_LEVEL=DEBUG for details")
