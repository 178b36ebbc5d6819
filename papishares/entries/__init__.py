"""Entries: a Turtle breakout scanner with risk-based position sizing.

    result = scan_entries(settings, service=service)  # universe -> ONE batched bars call -> signals -> sizing
    result.table                                      # one row per symbol scanned, sized
    entries_json(settings, service)                   # INTERFACE.md's entries JSON (`entries --json`)

The pieces: `universe` (who is scanned), `scanner` (pure signals), `fx` (rates into the account
currency), `sizing` (pure share counts), `feed` (the external feed in the seed's JSON shape).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from papishares.config import Settings
from papishares.core.errors import AuthError, BrokerError, MarketDataError, PapisharesError
from papishares.core.models import Account, Bars, Exchange, Instrument, Snapshot, SymbolRequest
from papishares.entries import fx as fx_rates
from papishares.entries import scanner, sizing
from papishares.entries.feed import Feed, load_feed
from papishares.entries.universe import Member, build_universe, read_watchlist_file, stored_watchlist
from papishares.market import schedule
from papishares.snapshot.service import Service, apply_overrides

log = logging.getLogger(__name__)

CONTRACT_FIELDS = ["symbol", "name", "system", "close", "breakout_level", "atr", "atr_pct", "shares",
                   "initial_stop", "cost", "risk_amount"]
EXTRA_FIELDS = ["currency", "t212_ticker", "tradable", "held", "sources", "last_date", "change_3m_pct",
                "distance_pct", "bars_ago", "fx", "cost_account", "risk_pct", "total_risk_after_pct",
                "over_total_risk"]


@dataclass(frozen=True)
class EntriesResult:
    generated_at: datetime
    table: pd.DataFrame  # one row per scanned symbol (index: symbol), scanner + sizing + member columns
    account: Account | None
    total_risk_pct: float | None
    market_data: str
    notes: list[str] = field(default_factory=list)
    requests: int = 0  # symbols asked for in the one batched market-data call
    fractional: bool = False

    @property
    def candidates(self) -> pd.DataFrame:
        """Breakouts, plus the watched and held symbols whatever their signal, best first."""
        t = self.table
        if t.empty:
            return t
        keep = t["system"].notna() | t["watched"].astype(bool)
        out = t[keep].copy()
        out["_rank"] = out["system"].fillna(0).astype(float)
        out = out.sort_values(["_rank", "change_3m_pct"], ascending=[False, False], na_position="last")
        return out.drop(columns="_rank")


def _account_from(snapshot: Snapshot | None) -> tuple[Account | None, float | None]:
    if snapshot is None:
        return None, None
    return snapshot.account, snapshot.total_risk_pct


def _snapshot(service: Service, notes: list[str]) -> Snapshot | None:
    try:
        snap = service.snapshot()
        if snap.stale and snap.broker_note:
            notes.append(f"Account data may be old: {snap.broker_note}")
        return snap
    except AuthError as err:
        notes.append(f"Trading 212 rejected the API key ({err}): candidates are not sized.")
    except BrokerError as err:
        notes.append(f"The broker cannot be reached ({err}): candidates are not sized.")
    try:
        return service.last_snapshot()
    except Exception:  # an unreadable store only costs the sizing
        return None


def _drop_last(bars: Bars, members: dict[str, Member], instruments: dict[str, Instrument],
               exchanges: list[Exchange], now: datetime) -> dict[str, bool]:
    """Symbols whose last bar is not complete yet; without T212 metadata for a symbol its exchange
    hours are unknown, so today's bar is left out until the UTC day ends (completed bars only)."""
    def instrument(symbol: str) -> Instrument | None:
        member = members.get(symbol)
        return instruments.get(member.t212_ticker) if member and member.t212_ticker else None

    return schedule.incomplete_last_bars(bars.close, {str(c): instrument(str(c)) for c in bars.close.columns},
                                         exchanges, now)


def scan_entries(settings: Settings, *, service: Service, snapshot: Snapshot | None = None,
                 fractional: bool = False, indices: tuple[str, ...] | None = None,
                 now: float | None = None) -> EntriesResult:
    """Scan the universe and size every candidate. Never raises for data problems: `notes` says."""
    settings = apply_overrides(settings, service.store)  # risk limits saved from the dashboard
    now = time.time() if now is None else now
    moment = datetime.fromtimestamp(now, UTC)
    notes: list[str] = []
    snap = snapshot if snapshot is not None else _snapshot(service, notes)
    account, total_risk = _account_from(snap)

    ctx = service.context()
    watchlist = list(dict.fromkeys(read_watchlist_file(settings.watchlist_path) + stored_watchlist(service.store)))
    members, universe_notes = build_universe(
        indices if indices is not None else settings.entries_indices, watchlist,
        snap.positions if snap else (), ctx.instruments, service.store.symbol_overrides(), ctx.exchanges,
    )
    notes += universe_notes
    by_symbol = {m.symbol: m for m in members}

    demo_fx = settings.market_data == "demo"
    requests: list[SymbolRequest] = [m.request() for m in members]
    if account is not None and not demo_fx:
        requests += fx_rates.pair_requests({m.quote_currency for m in members}, account.currency)
    bars = Bars.empty(service.market.name)
    if requests:
        try:
            bars = service.market.daily_bars(requests)  # ONE batched call for the whole universe
        except (MarketDataError, PapisharesError) as err:
            notes.append(f"Market data unavailable: {err}")
    source_notes = sorted({s for sym, s in bars.status.items() if sym in by_symbol and s})
    if source_notes:
        notes.append(f"{len(source_notes)} symbol(s) without usable bars, e.g. {source_notes[0]}")

    member_cols = pd.DataFrame(
        {
            "name": [m.name for m in members],
            "currency": [m.quote_currency for m in members],
            "t212_ticker": [m.t212_ticker for m in members],
            "tradable": [m.tradable for m in members],
            "held": [m.held for m in members],
            "watched": [m.watched for m in members],
            "sources": [", ".join(m.sources) for m in members],
        },
        index=pd.Index([m.symbol for m in members], name="symbol"),
    )
    scanned_bars = _only(bars, list(by_symbol))
    table = scanner.scan(scanned_bars, _drop_last(scanned_bars, by_symbol, ctx.instruments, ctx.exchanges, moment))
    table = member_cols.join(table, how="inner")

    if account is not None:
        rates = fx_rates.resolve(table["currency"].unique(), account.currency, bars=bars, store=service.store,
                                 demo=demo_fx, now=now)
        notes += rates.notes
        fx_col = pd.Series([rates.rate(c) for c in table["currency"]], index=table.index, dtype=float)
        sized = sizing.size_frame(table, fx_col, account.total_value, settings.risk_percentage, total_risk,
                                  settings.total_risk_percentage, fractional=fractional)
    else:
        empty = pd.Series(np.nan, index=table.index, dtype=float)
        sized = sizing.size_frame(table, empty, None, settings.risk_percentage, None,
                                  settings.total_risk_percentage, fractional=fractional)
    table = table.join(sized)
    return EntriesResult(moment, table, account, total_risk, service.market.name, notes,
                         requests=len(requests), fractional=fractional)


def _only(bars: Bars, symbols: list[str]) -> Bars:
    """The bars of the universe's symbols (FX pairs fetched in the same call are left out)."""
    cols = [s for s in symbols if s in bars.close.columns]
    if not cols:
        return Bars.empty(bars.source)

    def pick(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.reindex(columns=cols)

    return Bars(pick(bars.open), pick(bars.high), pick(bars.low), pick(bars.close), pick(bars.volume),
                dict(bars.fetched_at), dict(bars.status), bars.source)


# -- JSON -----------------------------------------------------------------------------------------
def _clean(value: Any, digits: int = 4) -> Any:
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return round(f, digits) if math.isfinite(f) else None
    return value


def candidate_json(symbol: str, row: pd.Series, fractional: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"symbol": symbol}
    for key in CONTRACT_FIELDS[1:] + EXTRA_FIELDS:
        out[key] = _clean(row.get(key))
    if out["system"] is not None:
        out["system"] = int(out["system"])
    if out["shares"] is not None and not fractional:
        out["shares"] = int(out["shares"])
    if out["bars_ago"] is not None:
        out["bars_ago"] = int(out["bars_ago"])
    return out


def result_json(result: EntriesResult, feed: Feed | None = None,
                risk_percentage: float | None = None) -> dict[str, Any]:
    acc = result.account
    data: dict[str, Any] = {
        "generated_at": result.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "candidates": [candidate_json(str(s), row, result.fractional) for s, row in result.candidates.iterrows()],
        "account": None if acc is None else {"currency": acc.currency, "total_value": acc.total_value},
        "risk_percentage": risk_percentage,
        "total_risk_pct": _clean(result.total_risk_pct),
        "market_data": result.market_data,
        "scanned": int(len(result.table)),
        "notes": result.notes,
    }
    if feed is not None and feed.configured:
        data["feed"] = {
            "source": feed.source, "generated_on": feed.generated_on, "note": feed.note,
            "entries": [{k: _clean(v) for k, v in r.items()} for r in feed.rows.to_dict("records")],
        }
    return data


def entries_json(settings: Settings, service: Service, fractional: bool = False) -> dict[str, Any]:
    """INTERFACE.md's entries JSON for `python -m papishares entries --json [--fractional]`."""
    return result_json(scan_entries(settings, service=service, fractional=fractional), load_feed(settings),
                       settings.risk_percentage)
