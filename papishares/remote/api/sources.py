"""Where the API's data comes from: the dashboard's own caches in this same server process.

`papishares.ui.data.load_snapshot` is the one snapshot every browser session shares (SNAPSHOT_TTL), so
any number of API clients cost the broker what one dashboard does; entries come from the Entries
page's cached scan. Everything else is a read of the store the CLI reads (trades, journal, worker
health, the auto-sell flag). Each function runs in a worker thread (blocking SQLite).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from papishares.commands import api_queries
from papishares.commands import autosell as autosell_commands
from papishares.commands.health import worker_health
from papishares.config import Settings, load_accounts
from papishares.core.models import Snapshot
from papishares.remote.api import several
from papishares.store.db import Store
from papishares.ui import data
from papishares.ui.combined import Combined

NO_SNAPSHOT = "No portfolio snapshot yet: the broker has not answered since the database was created."


class Unavailable(Exception):
    """The data cannot be given (no snapshot at all, an unreadable store): a 503 with this sentence."""


def accounts() -> tuple[Settings, ...]:
    """Every configured account, read at each request as each dashboard page run does (a changed `.env`
    takes effect). ConfigError."""
    return load_accounts()


def settings() -> Settings:
    """The settings every account shares (token, sign-in, database): the first account's. ConfigError."""
    return accounts()[0]


def store(s: Settings) -> Store:
    return data.service(s).store


def signin_configured(s: Settings) -> bool:
    from papishares.ui.auth import oidc_providers

    return bool(s.dashboard_password) or oidc_providers() is not None


@dataclass(frozen=True)
class Shared:
    snapshot: Snapshot
    problem: str | None
    age_seconds: float | None
    whole: dict[str, Any]  # the snapshot JSON, rendered once per snapshot for every client


_RENDERED: dict[tuple[Any, ...], dict[str, Any]] = {}
RENDERED_MAX = 16  # configurations x accounts kept rendered
_RENDERED_LOCK = threading.Lock()


def shared_snapshot(s: Settings) -> Shared:
    """The dashboard's cached snapshot: fresh, or the last good one with the reason it is stale."""
    loaded = data.load_snapshot(s)
    snap = loaded.snapshot
    if snap is None:
        raise Unavailable(loaded.problem or NO_SNAPSHOT)
    # The cache hands each caller its own copy, so the copy's identity cannot key the rendering.
    key = (data.settings_key(s), snap.generated_at, snap.data_time, snap.stale, snap.broker_note)
    with _RENDERED_LOCK:
        whole = _RENDERED.get(key)
    if whole is None:
        whole = api_queries.rendered(snap)
        with _RENDERED_LOCK:
            # Each account's newest snapshot only: older ones are never asked for again.
            for old in [k for k in _RENDERED if k[0] == key[0]]:
                del _RENDERED[old]
            while len(_RENDERED) >= RENDERED_MAX:
                del _RENDERED[next(iter(_RENDERED))]
            _RENDERED[key] = whole
    return Shared(snap, loaded.problem, loaded.age_seconds, whole)


def _named(payload: dict[str, Any], s: Settings, named: bool) -> dict[str, Any]:
    """`account_name` on an answer asked for one account by name (`?account=N`)."""
    return {**payload, "account_name": s.account_name} if named else payload


def snapshot(s: Settings, named: bool = False) -> dict[str, Any]:
    shared = shared_snapshot(s)
    return _named(api_queries.snapshot_payload(shared.snapshot, shared.problem, shared.age_seconds, shared.whole),
                  s, named)


def positions(s: Settings, named: bool = False) -> dict[str, Any]:
    shared = shared_snapshot(s)
    return _named(api_queries.positions_payload(shared.snapshot, store(s).autosell_enabled, shared.problem,
                                                shared.age_seconds, shared.whole), s, named)


def _each(accs: tuple[Settings, ...]) -> tuple[list[tuple[Settings, Shared]], dict[str, str]]:
    """Each account's shared snapshot; the accounts without any snapshot yet and why. Unavailable only
    when no account has one."""
    found: list[tuple[Settings, Shared]] = []
    missing: dict[str, str] = {}
    for a in accs:
        try:
            found.append((a, shared_snapshot(a)))
        except Unavailable as err:
            missing[a.account_name] = str(err)
    if not found:
        raise Unavailable(" ".join(f"{name}: {why}" for name, why in missing.items()))
    return found, missing


def snapshot_all(accs: tuple[Settings, ...]) -> dict[str, Any]:
    """`snapshot --json` with several accounts: each account's snapshot and the combined totals."""
    found, missing = _each(accs)
    bodies = [_named(api_queries.snapshot_payload(sh.snapshot, sh.problem, sh.age_seconds, sh.whole), a, True)
              for a, sh in found]
    return several.snapshot_all(max(b["generated_at"] for b in bodies), bodies, _book(found), missing)


def _book(found: list[tuple[Settings, Shared]]) -> Combined:
    """The combined totals, as the dashboard's "All accounts" and the CLI add them."""
    accs = tuple(a for a, _ in found)
    return data.combine_loaded(accs, tuple(data.Loaded(sh.snapshot, sh.problem) for _, sh in found))


def positions_all(accs: tuple[Settings, ...]) -> dict[str, Any]:
    """`/positions` of every account: each position with its `account_name`, the combined total risk."""
    found, missing = _each(accs)
    payloads = [(a.account_name, positions(a)) for a, _ in found]
    return several.positions_all(payloads, _book(found), missing)


def orders(s: Settings) -> list[dict[str, Any]]:
    shared = shared_snapshot(s)
    snap = shared.snapshot
    held = {p.ticker for p in snap.positions}
    unknown = any(o.ticker not in held for o in snap.orders)
    names = _instrument_names(data.settings_key(s), s) if unknown else {}
    return api_queries.orders_payload(snap, data.papishares_orders(s), names, data.quote_currencies(s, snap))


@st.cache_data(ttl=data.CONTEXT_TTL, show_spinner=False, max_entries=16)
def _instrument_names(key: str, _settings: Settings) -> Mapping[str, str]:
    """Names of instruments not held (an order on one), from the metadata the dashboard caches alike."""
    try:
        ctx = data.service(_settings).context()
    except Exception:  # names are a nicety: the ticker stands in
        return {}
    return {t: i.name for t, i in ctx.instruments.items()}


def entries(s: Settings) -> dict[str, Any]:
    """`entries --json`, from the Entries page's cached scan."""
    from papishares.entries import result_json
    from papishares.ui import entries_data

    loaded = data.load_snapshot(s)
    result, problem = entries_data.load_entries(s, loaded.snapshot, False)
    if result is None:
        raise Unavailable(problem or "The entries scan failed.")
    return api_queries.json_safe(result_json(result, entries_data.feed(s), s.risk_percentage))


def orders_all(accs: tuple[Settings, ...]) -> list[dict[str, Any]]:
    found, _ = _each(accs)
    return several.named_rows([(a.account_name, orders(a)) for a, _ in found])


def trades(s: Settings) -> dict[str, Any]:
    from papishares.history.book import trades_json

    return api_queries.json_safe(trades_json(store(s)))


def trades_all(accs: tuple[Settings, ...]) -> dict[str, Any]:
    """Every account's closed trades (each with its `account`) and the summary over all of them."""
    from papishares.history.book import trades as closed
    from papishares.history.trades import summary

    parts = [(a.account_name, closed(store(a))) for a in accs]
    every = [t for _, found in parts for t in found]
    return api_queries.json_safe(several.trades_all([(n, [t.to_json() for t in found]) for n, found in parts],
                                                    summary(every)))


def journal(s: Settings, limit: int) -> dict[str, Any]:
    return api_queries.journal_payload(store(s).journal_entries(limit=limit))


def journal_all(accs: tuple[Settings, ...], limit: int) -> dict[str, Any]:
    return several.journal_all([(a.account_name, store(a).journal_entries(limit=limit)) for a in accs], limit)


def worker(s: Settings) -> dict[str, Any]:
    """`papishares health`'s JSON (the one worker-health computation)."""
    return api_queries.json_safe(worker_health(store(s), s).to_json())


def autosell(s: Settings) -> bool:
    return autosell_commands.state(store(s)).enabled


def set_autosell(s: Settings, wanted: bool | None) -> bool:
    """Set the flag (None: toggle) through the command the dashboard's toggle and `autosell on|off` use."""
    st_ = store(s)
    enabled = (not autosell_commands.state(st_).enabled) if wanted is None else wanted
    return autosell_commands.switch(st_, enabled).enabled


def set_autosell_all(accs: tuple[Settings, ...], wanted: bool | None) -> dict[str, Any]:
    """Every account's flag, as `autosell on|off` without `--account`; toggling turns every account off
    when all are on, else every account on. Answers the flag of each account and `auto_sell`: all on."""
    if wanted is None:
        wanted = not all(autosell(a) for a in accs)
    flags = {a.account_name: autosell_commands.switch(store(a), wanted).enabled for a in accs}
    return {"auto_sell": all(flags.values()), "accounts": flags}


def ready(s: Settings) -> str | None:
    """None when the database opens and answers; else why not, in a sentence."""
    try:
        store(s).schema_version()
    except Exception as err:
        return f"The database {s.db_path} cannot be opened ({type(err).__name__})."
    return None
