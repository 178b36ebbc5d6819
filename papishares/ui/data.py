"""The dashboard's only door to data: the cached Service, the cached Snapshot, and store actions.

This is the ONLY module of the dashboard that uses Streamlit caching:
- `st.cache_resource` keeps one Service (broker client, market data, SQLite store) per distinct
  configuration, so tests and sessions with different env never share a broker by mistake;
- `st.cache_data(ttl=SNAPSHOT_TTL)` shares one snapshot between every session of the process,
  so N open browser tabs auto-refreshing cost the broker what one does. The broker client below
  also serves the stored response inside each endpoint's rate period (shared with the worker
  through SQLite), so no refresh pattern can overspend the account's rate budget.

Every function here returns data or a sentence; none lets an exception reach a page.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from papishares.app.build import build
from papishares.commands import autosell
from papishares.commands.health import WorkerHealth, worker_health
from papishares.config import ConfigError, Settings, load_accounts, load_settings
from papishares.core.errors import AuthError, BrokerError, PapisharesError
from papishares.core.models import Snapshot
from papishares.core.numbers import age_words  # noqa: F401 - re-exported for pages
from papishares.snapshot.service import Service, apply_overrides, set_risk_override, set_stop_mode_override
from papishares.ui.combined import Combined, combine

log = logging.getLogger(__name__)

SNAPSHOT_TTL = 10  # s: sessions share one snapshot this long; the broker client adds its own periods
BARS_TTL = 120  # s: daily bars change slowly; the bar cache lives in SQLite anyway
CONTEXT_TTL = 600  # s: instruments/exchanges metadata (1 request / 50 s at Trading 212)

AUTH_HELP = ("Check T212_API_KEY, T212_SECRET_KEY and T212_ENV: a live key does not work on the demo "
             "(paper) environment and the reverse, and the key needs the account, metadata, "
             "orders:read and portfolio scopes.")


@dataclass(frozen=True)
class Loaded:
    """What a page gets: the snapshot to show (maybe old), and what went wrong, in words."""

    snapshot: Snapshot | None
    problem: str | None = None
    kind: str | None = None  # None | "auth" | "broker" | "unexpected"
    loaded_at: float = field(default_factory=time.time)

    @property
    def age_seconds(self) -> float | None:
        snap = self.snapshot
        if snap is None:
            return None
        moment = snap.data_time or snap.generated_at
        return max(0.0, time.time() - moment.timestamp())


def settings_key(settings: Settings) -> str:
    """A stable key for one configuration; secrets enter only as a hash, never as text."""
    parts = sorted(settings.effective().items())
    secrets = [s.reveal() if s else "" for s in (settings.t212_api_key, settings.t212_secret_key,
                                                  settings.telegram_bot_token)]
    raw = repr(parts) + "|" + "|".join(secrets)
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def current_settings() -> Settings:
    """Settings from the environment and `.env`, read at every page run. Raises ConfigError."""
    return load_settings()


def current_accounts() -> tuple[Settings, ...]:
    """Every configured account, in PAPISHARES_ACCOUNTS order (one without it), read at every page run.
    Raises ConfigError."""
    return load_accounts()


@st.cache_resource(show_spinner=False, max_entries=16)
def _service(key: str, _settings: Settings) -> Service:
    return build(_settings).service  # with several accounts, open_store hands the earlier rows to the first


def service(settings: Settings) -> Service:
    return _service(settings_key(settings), settings)




def _last_good(svc: Service | None) -> Snapshot | None:
    if svc is None:
        return None
    try:
        return svc.last_snapshot()
    except Exception:  # an unreadable store must not hide the banner that explains the real problem
        log.warning("last snapshot unreadable", exc_info=True)
        return None


@st.cache_data(ttl=SNAPSHOT_TTL, show_spinner=False, max_entries=16)
def _snapshot(key: str, _settings: Settings) -> Loaded:
    svc: Service | None = None
    try:
        svc = service(_settings)
        return Loaded(svc.snapshot())
    except AuthError as err:
        return Loaded(_last_good(svc), f"Trading 212 rejected the API key: {err} {AUTH_HELP}", "auth")
    except BrokerError as err:
        return Loaded(_last_good(svc), f"The broker cannot be reached: {err}", "broker")
    except ConfigError as err:
        return Loaded(None, str(err), "config")
    except PapisharesError as err:
        return Loaded(_last_good(svc), str(err), "broker")
    except Exception as err:  # the last net: a sentence for the user, the details in the log
        log.exception("snapshot failed")
        return Loaded(_last_good(svc), f"Unexpected error while loading data ({type(err).__name__}); "
                      "the dashboard log has the details.", "unexpected")


def load_snapshot(settings: Settings) -> Loaded:
    """The shared snapshot (at most SNAPSHOT_TTL old) or the last good one with the reason why."""
    try:
        return _snapshot(settings_key(settings), settings)
    except Exception as err:  # e.g. an unpicklable value in the cache layer
        log.exception("snapshot cache failed")
        return Loaded(None, f"Unexpected error while loading data ({type(err).__name__}).", "unexpected")


@dataclass(frozen=True)
class AllLoaded:
    """"All accounts": each account's snapshot (as `load_snapshot` gives it) and the book combined."""

    accounts: tuple[Settings, ...]
    loaded: tuple[Loaded, ...]
    combined: Combined

    def lines(self) -> list[tuple[str, Loaded]]:
        return [(a.account_name, lo) for a, lo in zip(self.accounts, self.loaded, strict=True)]

    @property
    def first(self) -> Loaded:
        """The first account with data (its snapshot gives the sidebar's time), else the first one."""
        return next((lo for lo in self.loaded if lo.snapshot is not None), self.loaded[0])

    @property
    def oldest(self) -> Loaded:
        """The account whose data is oldest (the sidebar's "Data from" for the whole book)."""
        shown = [lo for lo in self.loaded if lo.snapshot is not None]
        return max(shown, key=lambda lo: lo.age_seconds or 0.0) if shown else self.loaded[0]


def rates(first: Settings, snapshots: list[Snapshot]) -> dict[str, float]:
    """The first account's currency per unit of each other account's currency, as the CLI finds them
    (the demo's table; else the rates market data last gave, then the fixed table). Empty when the
    accounts share a currency (the usual case) or no rate is known: such accounts are then left out."""
    from papishares.entries.fx import resolve
    from papishares.snapshot.combined import currencies

    if not snapshots or not currencies(snapshots):
        return {}
    try:
        return dict(resolve(currencies(snapshots), snapshots[0].account.currency, store=service(first).store,
                            demo=first.broker == "demo").rates)
    except Exception:  # a rate is a nicety: the account is named as left out instead
        log.warning("exchange rates unavailable", exc_info=True)
        return {}


def combine_loaded(accounts: tuple[Settings, ...], loaded: tuple[Loaded, ...]) -> Combined:
    """The combined totals of these accounts' snapshots (in the first account's currency)."""
    snaps = [lo.snapshot for lo in loaded if lo.snapshot is not None]
    threshold = snaps[0].total_risk_threshold_pct if snaps else accounts[0].total_risk_percentage
    return combine([(a.account_name, lo.snapshot, lo.problem) for a, lo in zip(accounts, loaded, strict=True)],
                   threshold, rates(accounts[0], snaps))


def load_all(accounts: tuple[Settings, ...]) -> AllLoaded:
    """Every account's shared snapshot and the combined totals (in the first account's currency)."""
    loaded = tuple(load_snapshot(a) for a in accounts)
    return AllLoaded(accounts, loaded, combine_loaded(accounts, loaded))


def refresh() -> None:
    """Forget the shared snapshot so the next run asks the service again (the broker client still
    answers from its stored responses inside each endpoint's rate period)."""
    _snapshot.clear()
    _bars.clear()


def clear_all() -> None:
    """Drop every dashboard cache (tests, and after a demo reset)."""
    _snapshot.clear()
    _bars.clear()
    _currencies.clear()
    _service.clear()


# -- charts ---------------------------------------------------------------------------------------
@st.cache_data(ttl=BARS_TTL, show_spinner=False, max_entries=64)
def _bars(key: str, ticker: str, generated_at: float, _settings: Settings, _snap: Snapshot) -> pd.DataFrame:
    return service(_settings).bars_for(ticker, _snap)


def bars_for(settings: Settings, ticker: str, snapshot: Snapshot) -> tuple[pd.DataFrame, str | None]:
    """Daily OHLCV for one held ticker from the bar cache, and a sentence when there are none."""
    try:
        frame = _bars(settings_key(settings), ticker, snapshot.generated_at.timestamp(), settings, snapshot)
    except Exception as err:
        log.warning("bars for %s failed", ticker, exc_info=True)
        return pd.DataFrame(), f"No price history for {ticker} ({type(err).__name__})."
    if frame is None or frame.empty:
        return pd.DataFrame(), (f"No price history for {ticker} yet (market data: {snapshot.market_data}). "
                                "Check its Yahoo symbol on the Settings page.")
    return frame, None


@st.cache_data(ttl=CONTEXT_TTL, show_spinner=False, max_entries=16)
def _currencies(key: str, _settings: Settings) -> dict[str, str]:
    ctx = service(_settings).context()
    return {t: i.currency for t, i in ctx.instruments.items()}


def quote_currencies(settings: Settings, snapshot: Snapshot | None) -> dict[str, str]:
    """Ticker -> quote currency: the held positions first, then the instruments metadata (cached)."""
    held = {p.ticker: p.currency for p in snapshot.positions} if snapshot else {}
    wanted = {o.ticker for o in snapshot.orders} if snapshot else set()
    if wanted <= set(held):
        return held
    try:
        return {**_currencies(settings_key(settings), settings), **held}
    except Exception:
        log.warning("instrument metadata unavailable", exc_info=True)
        return held


# -- store actions (flags, journal, held positions, overrides) ------------------------------------
def autosell_enabled(settings: Settings) -> bool:
    return autosell.state(service(settings).store).enabled


def set_autosell(settings: Settings, enabled: bool) -> None:
    autosell.switch(service(settings).store, enabled)


def journal(settings: Settings, limit: int = 200, kind: str | None = None) -> pd.DataFrame:
    rows = service(settings).store.journal_entries(limit=limit, kind=kind)
    frame = pd.DataFrame(rows, columns=["id", "ts", "kind", "ticker", "action", "message", "data"])
    frame["time"] = pd.to_datetime(frame["ts"], unit="s", utc=True)
    return frame


def journal_kinds(settings: Settings) -> list[str]:
    return service(settings).store.journal_kinds()


def held_positions(settings: Settings) -> list[dict[str, Any]]:
    """Positions held back from auto-sell (a sale whose outcome stayed unknown)."""
    return [asdict(h) for h in autosell.held(service(settings).store)]


def rearm(settings: Settings, ticker: str) -> bool:
    return autosell.rearm(service(settings).store, ticker).rearmed


def papishares_orders(settings: Settings) -> frozenset[int]:
    """Pending-order ids Papishares manages (its broker stops, its queued sells), from the journal."""
    from papishares.orders.journal import papishares_order_ids

    try:
        return papishares_order_ids(service(settings).store)
    except Exception:  # an unreadable store must not hide the orders themselves
        log.warning("order journal unreadable", exc_info=True)
        return frozenset()


def symbol_overrides(settings: Settings) -> dict[str, str]:
    return service(settings).store.symbol_overrides()


def set_symbol_override(settings: Settings, ticker: str, symbol: str | None) -> None:
    service(settings).store.set_symbol_override(ticker, symbol)
    refresh()  # the next snapshot asks market data for the new symbol


def risk_settings(settings: Settings) -> Settings:
    """The settings with the risk limits and the stop mode in force (saved from the Settings page,
    else the environment's)."""
    return apply_overrides(settings, service(settings).store)


def set_risk_limits(settings: Settings, risk: float | None, total: float | None,
                    stop_mode: str | None) -> str:
    """Save the Settings page's risk limits and stop mode for every process; all None: drop them."""
    store = service(settings).store
    set_risk_override(store, "risk_percentage", risk)
    set_risk_override(store, "total_risk_percentage", total)
    set_stop_mode_override(store, stop_mode)
    refresh()  # the next snapshot computes stops with the new budget and mode
    if risk is None and total is None and stop_mode is None:
        return "Risk limits and stop mode back to the environment's values."
    return "Saved for the dashboard and the worker."


def send_test_alert(settings: Settings) -> str:
    from papishares.notify import send_test_alert as send

    return str(send(settings, service(settings).store))


def reset_demo(settings: Settings) -> str:
    broker = service(settings).broker
    if settings.environment != "demo-sim" or not broker.reset():
        return "Only the built-in demo account can be reset."
    clear_all()
    return "Demo account reset."


def telegram_notice(settings: Settings) -> str | None:
    """The sentence asking to update TELEGRAM_CHAT_ID after a supergroup upgrade, else None."""
    if not settings.telegram_enabled:
        return None
    from papishares.notify.migration import notice

    try:
        return notice(service(settings).store, settings.telegram_chat_id)
    except Exception:  # a banner must never break a page
        log.warning("telegram notice unavailable", exc_info=True)
        return None


def worker_status(settings: Settings) -> WorkerHealth:
    """The worker's health as `papishares health` reports it."""
    return worker_health(service(settings).store, settings)


def guarded(what: str, fn: Any, *args: Any, default: Any = None) -> tuple[Any, str | None]:
    """Run a store action; return (result, None) or (default, one sentence) - never raise."""
    try:
        return fn(*args), None
    except ConfigError as err:
        return default, str(err)
    except PapisharesError as err:
        return default, f"{what} failed: {err}"
    except ImportError:
        return default, f"{what} is not available in this version."
    except Exception as err:
        log.exception("%s failed", what)
        return default, f"{what} failed ({type(err).__name__}); the dashboard log has the details."
