"""The backtests' shell: trades and bars from the product's own sources, results as JSON.

Bars come from the configured market data (demo offline) with the bar cache's unit repair
(pence/pounds mix-ups, bad ticks), uncached because a backtest wants years, not the live 260 bars.
Only completed bars count: a bar dated today (UTC) is left out.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from papishares.backtest import entries as entries_bt
from papishares.backtest import exits as exits_bt
from papishares.config import Settings
from papishares.core import stop_modes
from papishares.core.errors import MarketDataError, PapisharesError
from papishares.core.models import Bars, SymbolRequest

WARMUP_BARS = 300  # MACD converges over 250+ bars; ATR 20 and Donchian 55 need fewer
DEFAULT_YEARS = 3
DEFAULT_CAPITAL = 10_000.0
DAY = 86400.0
MATCH_BEFORE_S = 2 * DAY  # as the history's initial-risk join


def _service(settings: Settings) -> Any:
    from papishares.app.build import build

    return build(settings).service


def completed(bars: Bars, today: date) -> Bars:
    """The bars dated before today (UTC): completed bars only."""
    keep = pd.DatetimeIndex(bars.close.index).date < today if not bars.close.empty else []

    def cut(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[keep] if not frame.empty else frame

    return replace(bars, open=cut(bars.open), high=cut(bars.high), low=cut(bars.low), close=cut(bars.close),
                   volume=cut(bars.volume) if len(bars.volume) == len(bars.close) else bars.volume)


def load_bars(service: Any, requests: Sequence[SymbolRequest], min_bars: int, now: float) -> tuple[Bars, dict[str, str]]:
    """(completed bars, why each requested symbol has none): nothing is dropped silently."""
    from papishares.market.bar_units import repair_bars

    source = getattr(service.market, "source", service.market)  # past the live cache and its 260 bars
    try:
        bars = source.daily_bars(list(requests), min_bars)
    except (MarketDataError, PapisharesError) as err:
        return Bars.empty(getattr(source, "name", "none")), {r.symbol: f"market data unavailable: {err}" for r in requests}
    bars, _ = repair_bars(bars)
    bars = completed(bars, datetime.fromtimestamp(now, UTC).date())
    missing = {}
    for r in requests:
        if r.symbol not in bars.close.columns or bars.close[r.symbol].dropna().empty:
            missing[r.symbol] = bars.status.get(r.symbol) or "no bars from the market data"
    return bars, missing


def _bdays(start: date, end: date) -> int:
    return int(np.busday_count(start, end)) + 1


# -- exits --------------------------------------------------------------------------------------
def history_specs(service: Any) -> tuple[list[exits_bt.TradeSpec], list[dict[str, Any]]]:
    """The history's closed trades as specs (symbol, initial stop as recorded), and those that cannot be."""
    from papishares.history.book import trades as history_trades
    from papishares.store import history as history_store

    closed = history_trades(service.store)
    risks = history_store.initial_risks(service.store)  # this account's only
    ctx = service.context([t.ticker for t in closed])
    mapper = service.symbol_mapper(ctx)
    specs, skipped = [], []
    for t in closed:
        opened = datetime.fromtimestamp(t.opened_at, UTC).strftime("%Y-%m-%d")
        near = [r for r in risks if r["ticker"] == t.ticker and r.get("stop") is not None
                and t.opened_at - MATCH_BEFORE_S <= float(r["opened_at"]) <= t.closed_at]
        choice = mapper.resolve(t.ticker, ctx.instruments.get(t.ticker))
        if not choice.symbol:
            skipped.append({"symbol": t.ticker, "entry_date": opened, "reason": choice.reason})
            continue
        if not near:
            skipped.append({"symbol": choice.symbol, "entry_date": opened, "reason": "no initial stop was recorded"})
            continue
        stop = float(min(near, key=lambda r: abs(float(r["opened_at"]) - t.opened_at))["stop"])
        actual = {"exit_date": datetime.fromtimestamp(t.closed_at, UTC).strftime("%Y-%m-%d"),
                  "exit_price": t.exit_price, "r_multiple": t.r_multiple, "realised_pnl": t.realised_pnl,
                  "exit_reason": t.exit_reason, "holding_days": round(t.holding_seconds / DAY, 2)}
        specs.append(exits_bt.TradeSpec(choice.symbol, pd.Timestamp(opened), t.entry_price, stop, t.quantity,
                                        t.currency, t.ticker, actual))
    return specs, skipped


def _csv_currency(symbol: str) -> str:
    from papishares.entries.universe import guess_currency

    return guess_currency(symbol)


def exits_json(settings: Settings, trades_file: str | None = None, modes: Sequence[str] | None = None,
               *, service: Any = None, now: float | None = None) -> dict[str, Any]:
    """`backtest exits --json`."""
    now = time.time() if now is None else now
    modes = [stop_modes.check_mode(m) for m in (modes or stop_modes.MODES)]
    service = service or _service(settings)
    if trades_file:
        specs, skipped = exits_bt.read_trades_csv(trades_file), list[Any]()
    else:
        specs, skipped = history_specs(service)
    requests = list({s.symbol: SymbolRequest(s.ticker or s.symbol, s.symbol, s.currency or _csv_currency(s.symbol))
                     for s in specs}.values())
    prepared: dict[str, pd.DataFrame] = {}
    missing: dict[str, str] = {}
    if requests:
        oldest = min(s.entry_date for s in specs).date()
        today = datetime.fromtimestamp(now, UTC).date()
        bars, missing = load_bars(service, requests, _bdays(oldest, today) + WARMUP_BARS, now)
        if not bars.close.empty:
            wide = stop_modes.prepare_wide(bars.open, bars.high, bars.low, bars.close)
            prepared = {s: stop_modes.one_symbol(wide, s) for s in bars.symbols}
    trades, unusable = exits_bt.replay_trades(specs, prepared, modes)
    for item in unusable:
        item["reason"] = missing.get(item["symbol"], item["reason"])
    summary = exits_bt.mode_summary(trades, modes)
    actual = exits_bt.actual_summary(trades)
    return {"trades": trades, "modes": summary, "actual": actual, "skipped": skipped + unusable,
            "source": "file" if trades_file else "history", "market_data": settings.market_data}


# -- entries ------------------------------------------------------------------------------------
def _account(service: Any) -> tuple[str, float]:
    snap = None
    try:
        snap = service.last_snapshot() or service.snapshot()
    except Exception:  # no account: the defaults below are said in the JSON
        snap = None
    if snap is None or not snap.account or not (snap.account.total_value or 0) > 0:
        return "GBP", DEFAULT_CAPITAL
    return snap.account.currency, float(snap.account.total_value)


def universe(settings: Settings, service: Any, symbols: Sequence[str] | None) -> tuple[list[SymbolRequest], list[str]]:
    """The symbols asked for, or the Entries page's universe; each in its Trading 212 quote currency."""
    from papishares.entries.universe import build_universe, read_watchlist_file, stored_watchlist

    ctx = service.context()
    if symbols:
        indices: tuple[str, ...] = ()
        watch, positions = [s.strip().upper() for s in symbols if s.strip()], ()
    else:
        indices = settings.entries_indices
        watch = list(dict.fromkeys(read_watchlist_file(settings.watchlist_path) + stored_watchlist(service.store)))
        last = service.last_snapshot()
        positions = last.positions if last else ()
    members, notes = build_universe(indices, watch, positions, ctx.instruments, service.store.symbol_overrides(),
                                    ctx.exchanges)
    return [m.request() for m in members], notes


def entries_json(settings: Settings, symbols: Sequence[str] | None = None, start: date | None = None,
                 end: date | None = None, mode: str = "risk", *, capital: float | None = None,
                 service: Any = None, now: float | None = None) -> dict[str, Any]:
    """`backtest entries --json`."""
    from papishares.entries import fx as fx_rates
    from papishares.snapshot.service import apply_overrides

    now = time.time() if now is None else now
    mode = stop_modes.check_mode(mode)
    service = service or _service(settings)
    settings = apply_overrides(settings, service.store)
    today = datetime.fromtimestamp(now, UTC).date()
    end = min(end or today, today)
    start = start or end - timedelta(days=365 * DEFAULT_YEARS)
    if start >= end:
        raise PapisharesError("backtest entries: --from must be before --to")
    requests, notes = universe(settings, service, symbols)
    currency, value = _account(service)
    capital = capital or value
    bars, missing = load_bars(service, requests, _bdays(start, today) + WARMUP_BARS, now)
    bars = _until(bars, end)
    currencies = {r.symbol: r.quote_currency for r in requests if r.symbol not in missing}
    rates = fx_rates.resolve(set(currencies.values()), currency, store=service.store,
                             demo=settings.market_data == "demo", now=now)
    notes += rates.notes
    fx = {s: r for s, c in currencies.items() if (r := rates.rate(c)) is not None}
    out = entries_bt.run(bars, mode, capital=capital, risk_pct=settings.risk_percentage, fx=fx,
                         currencies=currencies, account_currency=currency, start=start)
    result, summary = out["result"], out["summary"]
    equity = result.equity
    peak = np.maximum.accumulate(np.concatenate([[capital], equity.to_numpy(dtype=float)]))[1:]
    return {
        "summary": {**{k: _round(v) for k, v in summary.items()}, "mode": mode, "from": start.isoformat(),
                    "to": end.isoformat(), "capital": capital, "currency": currency,
                    "final_equity": _round(float(equity.iloc[-1]) if len(equity) else capital),
                    "skipped_for_cash": result.skipped, "symbols": len(requests),
                    "risk_percentage": settings.risk_percentage},
        "trades": [_trade_json(t) for t in result.trades.to_dict("records")],
        "equity": [{"date": d.strftime("%Y-%m-%d"), "equity": round(float(v), 2),
                    "drawdown_pct": round(float((v / p - 1) * 100), 4)}
                   for d, v, p in zip(equity.index, equity.to_numpy(), peak, strict=True)],
        "symbols_without_bars": [{"symbol": s, "reason": why} for s, why in sorted(missing.items())],
        "notes": notes, "market_data": settings.market_data,
    }


def _until(bars: Bars, end: date) -> Bars:
    keep = pd.DatetimeIndex(bars.close.index).date <= end if not bars.close.empty else []
    if bars.close.empty:
        return bars
    return replace(bars, open=bars.open[keep], high=bars.high[keep], low=bars.low[keep], close=bars.close[keep])


def _round(value: Any, digits: int = 4) -> Any:
    if isinstance(value, float | np.floating):
        return round(float(value), digits) if math.isfinite(value) else None
    return value


def _trade_json(t: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in t.items():
        if isinstance(v, pd.Timestamp):
            out[k] = v.strftime("%Y-%m-%d")
        elif k == "system" and v is not None and not (isinstance(v, float) and math.isnan(v)):
            out[k] = int(v)
        else:
            out[k] = _round(v, 6)
    return out


def dumps(data: object) -> str:
    return json.dumps(data, default=str)
