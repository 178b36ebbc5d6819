"""The one place a Snapshot is built: broker + market data + store + risk + indicators.

Every front end (dashboard, CLI, worker) calls `Service.snapshot()`. Broker calls per snapshot do not
grow with the number of positions: summary, positions and orders (each possibly served from the
shared cache inside its rate period), instruments and exchanges from SQLite, and one batched
market-data call for all symbols.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from papishares.broker import Broker
from papishares.broker.t212_parse import problems_of
from papishares.config import ConfigError, Settings
from papishares.core import data_quality, indicators, risk, stop_modes, units
from papishares.core.errors import AuthError, BrokerError
from papishares.core.models import (
    Account,
    Bars,
    BrokerPosition,
    Exchange,
    Instrument,
    Order,
    PositionView,
    Snapshot,
    SymbolRequest,
)
from papishares.core.numbers import age_words, finite
from papishares.history.recorder import record_snapshot
from papishares.market import MarketData
from papishares.market import schedule as market_schedule
from papishares.market.symbols import SymbolChoice, SymbolMapper
from papishares.orders import stop_keeper, stop_plan
from papishares.store import snapshots as snapshot_store
from papishares.store.db import PriceRecord, Store
from papishares.store.keys import Key
from papishares.store.lease import heartbeat_age, is_fresh, read_lease

log = logging.getLogger(__name__)

SCALE_TOLERANCE = 3.0  # bars whose last close is >3x away from the broker price are in the wrong scale


@dataclass(frozen=True)
class MarketContext:
    """What the service knows about instruments and their exchanges at snapshot time."""

    instruments: dict[str, Instrument]
    exchanges: list[Exchange]
    problems: tuple[str, ...] = ()  # metadata items skipped or marked (exchanges, held instruments)

    def instrument(self, p: BrokerPosition) -> Instrument:
        """The instrument, or a stand-in without a schedule (market hours then fall back to weekdays)."""
        return self.instruments.get(p.ticker) or Instrument(p.ticker, p.name, p.ticker.split("_")[0], p.currency)


RISK_OVERRIDES = {"risk_percentage": "RISK_PERCENTAGE", "total_risk_percentage": "TOTAL_RISK_PERCENTAGE"}
OVERRIDE_KEYS = {"risk_percentage": Key.RISK_PERCENTAGE_OVERRIDE,
                 "total_risk_percentage": Key.TOTAL_RISK_PERCENTAGE_OVERRIDE}


def apply_overrides(settings: Settings, store: Store) -> Settings:
    """The settings with the risk limits saved from the dashboard (shared by every process on the
    database) in place of the environment's; the environment's stand where nothing is saved."""
    changes: dict[str, Any] = {}
    for name in RISK_OVERRIDES:
        value = finite(store.get(OVERRIDE_KEYS[name]))
        if value is not None and 0 < value <= 100:
            changes[name] = value
    return replace(settings, **changes) if changes else settings


def set_risk_override(store: Store, name: str, value: float | None) -> None:
    """Save (or with None, drop) a risk limit for every process using this database."""
    if name not in RISK_OVERRIDES:
        raise KeyError(name)
    if value is None:
        store.delete(OVERRIDE_KEYS[name])
        store.journal("settings", None, "reset", f"{RISK_OVERRIDES[name]} back to the environment's value")
        return
    if not (finite(value) is not None and 0 < value <= 100):
        raise ConfigError(RISK_OVERRIDES[name], "a number above 0 and at most 100", str(value))
    store.set(OVERRIDE_KEYS[name], repr(float(value)))
    store.journal("settings", None, "changed", f"{RISK_OVERRIDES[name]} set to {value:g}% from the dashboard")


def _nan(x: float | None) -> float:
    return float("nan") if x is None else x


def _round(x: object, digits: int = 4) -> float | None:
    value = finite(x)
    return None if value is None else round(value, digits)




class Service:
    def __init__(self, settings: Settings, store: Store, broker: Broker, market: MarketData,
                 clock: Callable[[], float] = time.time) -> None:
        self.base_settings = settings  # from the environment; risk limits may be overridden in the store
        self.settings = apply_overrides(settings, store)
        self.store = store
        self.broker = broker
        self.market = market
        self.clock = clock

    @property
    def environment(self) -> str:
        return self.broker.environment

    # -- reference data ---------------------------------------------------------------------------
    def context(self, tickers: Sequence[str] = ()) -> MarketContext:
        """Instruments and exchanges, from the SQLite cache; refreshed when an unknown ticker appears."""
        try:
            instruments = self.broker.instruments()
            if any(t not in instruments for t in tickers):
                instruments = self.broker.instruments(refresh=True)
        except BrokerError as err:
            log.warning("instruments unavailable: %s", err)
            instruments = {}
        try:
            exchanges = self.broker.exchanges()
        except BrokerError as err:
            log.warning("exchanges unavailable: %s", err)
            exchanges = []
        held = set(tickers)
        # Problems of instruments nobody holds are no news for this account: only held ones are said.
        problems = tuple(x.text for x in problems_of(instruments) if x.ticker is None or x.ticker in held)
        problems += tuple(x.text for x in problems_of(exchanges))
        return MarketContext(instruments, exchanges, problems)

    def symbol_mapper(self, ctx: MarketContext) -> SymbolMapper:
        return SymbolMapper(ctx.exchanges, self.store.symbol_overrides())

    def symbol_choices(self, positions: Sequence[BrokerPosition], ctx: MarketContext) -> dict[str, SymbolChoice]:
        """Each position's Yahoo symbol by its instrument's exchange, or why it has none."""
        mapper = self.symbol_mapper(ctx)
        return {p.ticker: mapper.resolve(p.ticker, ctx.instruments.get(p.ticker)) for p in positions}

    @staticmethod
    def _requests(positions: Sequence[BrokerPosition], choices: dict[str, SymbolChoice]) -> list[SymbolRequest]:
        """One market-data request per position with a symbol (none for a position without one)."""
        return [SymbolRequest(p.ticker, c.symbol, p.currency, c.exchange)
                for p in positions if (c := choices[p.ticker]).symbol]

    # -- the snapshot -------------------------------------------------------------------------------
    def snapshot(self, *, with_market: bool = True) -> Snapshot:
        """Build, record and return a fresh Snapshot.

        AuthError propagates (a configuration problem). Any other broker failure returns the last
        good snapshot marked stale with a note saying why and how old it is; with none stored, raises.
        """
        now = self.clock()
        self.settings = apply_overrides(self.base_settings, self.store)
        try:
            account = self.broker.account_summary()
            positions = self.broker.positions()
            orders = self.broker.orders()
        except AuthError:
            raise
        except BrokerError as err:
            last = self.last_snapshot()
            if last is None:
                raise
            age = now - (last.data_time or last.generated_at).timestamp()
            return replace(last, stale=True, broker_note=f"{err} Showing data from {age_words(age)} ago.")

        ctx = self.context([p.ticker for p in positions])
        choices = self.symbol_choices(positions, ctx)
        requests = self._requests(positions, choices)
        bars = self.market.daily_bars(requests) if (with_market and requests) else Bars.empty(self.market.name)
        order_marks = {x.ticker: x.reason for x in problems_of(orders) if x.ticker}
        views, notes = self._positions(positions, orders, account, requests, bars, ctx, now, order_marks)
        views = self._mark_quality(views, positions, choices, bars, account)
        data_notes = tuple(dict.fromkeys(
            [x.text for x in problems_of(positions)] + [x.text for x in problems_of(orders)] + list(ctx.problems)))

        total_value = account.total_value
        total_risk = sum(v.risk for v in views)
        open_risk = sum(v.open_risk for v in views)
        data_time = self.broker.data_time("positions")
        snapshot = Snapshot(
            generated_at=datetime.fromtimestamp(now, UTC),
            environment=self.environment,
            account=account,
            positions=tuple(views),
            orders=tuple(o for o in orders if o.is_pending),
            total_risk_pct=round(risk.total_risk_pct([total_risk], total_value), 4),
            total_risk_threshold_pct=self.settings.total_risk_percentage,
            open_risk_pct=round(risk.total_risk_pct([open_risk], total_value), 4),
            risk_percentage=self.settings.risk_percentage,
            stop_mode=self.settings.stop_mode,
            market_data=self.market.name,
            market_data_note="; ".join(notes) or None,
            data_time=datetime.fromtimestamp(data_time, UTC) if data_time else None,
            data_notes=data_notes,
            account_name=self.settings.account_name,
        )
        self.store.forget_closed_positions({p.ticker for p in positions}, now)
        self._save(snapshot)
        return snapshot

    def _positions(self, positions: Sequence[BrokerPosition], orders: Sequence[Order], account: Account,
                   requests: Sequence[SymbolRequest], bars: Bars, ctx: MarketContext,
                   now: float, order_marks: dict[str, str] | None = None) -> tuple[list[PositionView], list[str]]:
        if not positions:
            return [], []
        symbol_of = {r.ticker: r.symbol for r in requests}
        moment = datetime.fromtimestamp(now, UTC)
        instrument_of = {symbol_of[p.ticker]: ctx.instrument(p) for p in positions if p.ticker in symbol_of}
        drop_last = market_schedule.incomplete_last_bars(bars.close, instrument_of, ctx.exchanges, moment)
        summary = indicators.summarise(bars, drop_last) if bars.symbols else pd.DataFrame()
        # Papishares' managed stops are not the user's: manual stops count only the other orders.
        managed = stop_keeper.live_managed(stop_keeper.managed_rows(self.store), orders)
        managed_ids = {m.order_id for m in managed.values()}
        manual = risk.manual_stops([o for o in orders if o.id not in managed_ids])
        worker_acts = self._worker_acts(now)
        fetched_at = self.broker.data_time("positions") or now  # when the broker gave these prices
        notes: list[str] = []
        seen_notes: set[str] = set()

        rows = []
        records = {}
        states = self.store.position_states() if any(p.data_note for p in positions) else {}
        unit_notes: dict[str, str] = {}
        for p in positions:
            opened = p.created_at.timestamp() if p.created_at else None
            if p.data_note:  # unusable numbers record nothing: the stored state stays as it was
                state = states.get(p.ticker) or {}
                rec = PriceRecord(float(state.get("max_price") or float("nan")), state.get("last_price"))
            else:
                rec = self.store.record_price(p.ticker, p.quantity, p.average_price, p.current_price, now, opened,
                                              fetched_at)
                note = data_quality.units_problem(p.current_price, p.average_price, rec.prev_price, p.currency,
                                                  rec.max_price)
                if note:
                    unit_notes[p.ticker] = note
            records[p.ticker] = rec
            m_price, m_qty = manual.get(p.ticker, (None, 0.0))
            rows.append(
                {
                    "ticker": p.ticker,
                    "average_price": p.average_price,
                    "max_price": rec.max_price,
                    "quantity": p.quantity,
                    "current_price": p.current_price,
                    "wallet_value": p.wallet_current_value,
                    "manual_stop": m_price if m_price is not None else float("nan"),
                    "manual_qty": m_qty,
                    "stored_stop": float("nan"),
                    "stored_qty": float("nan"),
                }
            )
        frame = pd.DataFrame(rows).set_index("ticker").astype(float)
        total_value = account.total_value
        # Pass 1: the formula's stops; the store ratchets them atomically (the authority across
        # processes); pass 2 derives risk and distances from the stops in force.
        if self.settings.stop_mode != "risk":  # the live stop follows another mode (PAPISHARES_STOP_MODE)
            frame["mode_stop"] = self._mode_stops(positions, symbol_of, bars, drop_last, frame, total_value)
        first = risk.compute_stops(frame, total_value=total_value, risk_pct=self.settings.risk_percentage)
        unusable = {p.ticker for p in positions if p.data_note} | set(unit_notes)
        for ticker, qty, calc in zip(first.index, first["quantity"], first["calculated_stop"], strict=True):
            if ticker in unusable:  # a price in doubt never moves the stored ratchet
                continue
            frame.loc[ticker, "stored_stop"] = _nan(self.store.ratchet_stop(ticker, float(qty), finite(calc)))
            frame.loc[ticker, "stored_qty"] = qty
        computed = risk.compute_stops(frame, total_value=total_value, risk_pct=self.settings.risk_percentage)

        views = []
        budget = self.settings.risk_percentage / 100 * total_value
        currency = account.currency
        for p in positions:
            row = computed.loc[p.ticker]
            stop = finite(row["stop"])
            fx = finite(row["fx"])
            m_price, m_qty = manual.get(p.ticker, (None, 0.0))
            eff = finite(row["effective_stop"])
            note = None
            if stop is None:
                note = risk.stop_note(p.wallet_current_value, budget, self.settings.risk_percentage, currency)
            symbol = symbol_of.get(p.ticker)
            ind = summary.loc[symbol] if (symbol is not None and symbol in summary.index) else None
            ind, scale_note = self._scale_checked(ind, p, symbol)
            if scale_note and scale_note not in seen_notes:
                seen_notes.add(scale_note)
                notes.append(scale_note)
            status = bars.status.get(symbol or "")
            if status and status not in seen_notes:
                seen_notes.add(status)
                notes.append(status)
            prev = records[p.ticker].prev_price
            suspect = p.data_note is None and units.moved_too_far(prev, p.current_price)
            inst = ctx.instruments.get(p.ticker)
            kept = managed.get(p.ticker)
            b_price, b_qty = (kept.stop_price, kept.quantity) if kept else (None, 0.0)
            calc = None if stop is None else round(stop, 6)
            views.append(
                PositionView(
                    ticker=p.ticker,
                    short_name=(inst.short_name if inst else "") or p.ticker.split("_")[0],  # display only
                    name=p.name or (inst.name if inst else p.ticker),
                    currency=p.currency,
                    quantity=p.quantity,
                    quantity_available=p.quantity_available,
                    average_price=p.average_price,
                    current_price=p.current_price,
                    profit_pct=round((p.current_price - p.average_price) / p.average_price * 100, 4)
                    if p.average_price and p.current_price is not None
                    else (None if p.data_note else 0.0),  # type: ignore[arg-type]
                    max_price=finite(records[p.ticker].max_price),  # type: ignore[arg-type]
                    stop_loss_price=None if stop is None else round(stop, 6),
                    stop_loss_percentage=_round(row["stop_pct"]),
                    stop_loss_note=note,
                    manual_stop_loss_price=m_price,
                    manual_stop_loss_quantity=m_qty,
                    macd_signal=None if ind is None else ind["macd_state"],
                    macd_crossover=None if ind is None else (ind["macd_crossover"] or None),
                    sma_17=None if ind is None else finite(ind["sma_17"]),
                    yahoo_symbol=symbol,
                    fx=fx,
                    market_value=p.wallet_current_value,
                    unrealised_pnl=p.unrealised_pnl,
                    risk=_round(row["risk"]) or 0.0,
                    open_risk=_round(row["open_risk"]) or 0.0,
                    distance_to_stop_pct=_round(row["distance_to_stop_pct"]),
                    effective_stop=eff,
                    stop_breached=stop is not None and p.current_price <= stop,
                    macd=None if ind is None else finite(ind["macd"]),
                    macd_signal_line=None if ind is None else finite(ind["macd_signal_line"]),
                    last_bar_date=None if ind is None else ind["last_date"],
                    market_open=self._market_open(ctx.instrument(p), ctx.exchanges, moment),
                    price_suspect=suspect,
                    data_note="; ".join(n for n in (p.data_note, (order_marks or {}).get(p.ticker) and
                                                    f"a pending order for it is unreadable: "
                                                    f"{(order_marks or {})[p.ticker]}") if n) or None,
                    units_note=unit_notes.get(p.ticker),
                    market_data_note=scale_note,
                    broker_stop_price=b_price,
                    broker_stop_quantity=b_qty,
                    protection=stop_plan.protection(p.quantity, m_qty, b_qty, calc, worker_acts),
                    acting_stop=stop_plan.acting_stop(m_price, b_price, calc, worker_acts),
                )
            )
        return views, notes

    @staticmethod
    def _mark_quality(views: list[PositionView], positions: Sequence[BrokerPosition],
                      choices: dict[str, SymbolChoice], bars: Bars, account: Account) -> list[PositionView]:
        """Positions in doubt (unusable numbers, ~100x units) lose their calculated stop and count
        their whole value as risk; every position says why it has no market data, if it has none."""
        bad_numbers = {p.ticker for p in positions if p.data_note}
        cost = {p.ticker: p.wallet_total_cost for p in positions}
        known = [v.market_value for v in views if v.market_value is not None]
        unknown = [v for v in views if v.ticker in bad_numbers and v.market_value is None]
        rest = data_quality.unaccounted_value(account.invested, known)
        share = rest / len(unknown) if (rest is not None and unknown) else None
        out = []
        for v in views:
            choice = choices.get(v.ticker)
            why = choice.reason if choice and not choice.symbol else None
            if why is None and v.yahoo_symbol and v.last_bar_date is None:
                why = bars.status.get(v.yahoo_symbol) or (
                    "market data is off (PAPISHARES_MARKET_DATA=none)" if bars.source == "none"
                    else f"no bars for {v.yahoo_symbol} from the market-data source")
            changes: dict[str, object] = {"market_data_note": v.market_data_note or why}
            if v.units_note or v.ticker in bad_numbers:
                whole = data_quality.conservative_risk(v.market_value, cost.get(v.ticker), v.risk,
                                                       share if v.market_value is None else None)
                changes.update(stop_loss_price=None, stop_loss_percentage=None, stop_breached=False,
                               stop_loss_note=v.units_note and f"No stop: {v.units_note}."
                               or data_quality.data_stop_note(v.data_note or ""),
                               effective_stop=v.manual_stop_loss_price, risk=round(whole, 4),
                               open_risk=round(whole, 4), distance_to_stop_pct=None)
            out.append(replace(v, **changes))  # type: ignore[arg-type]
        return out

    def _mode_stops(self, positions: Sequence[BrokerPosition], symbol_of: dict[str, str], bars: Bars,
                    drop_last: dict[str, bool], frame: pd.DataFrame, total_value: float) -> list[float]:
        """Each position's stop under the configured mode, from its completed bars since it was opened
        (NaN, so the risk formula stands, without bars, an opening date, or bars in the broker's scale)."""
        budget = self.settings.risk_percentage / 100 * total_value
        out = []
        for p in positions:
            symbol = symbol_of.get(p.ticker)
            ohlc = bars.for_symbol(symbol) if symbol else pd.DataFrame()
            if symbol and drop_last.get(symbol) and not ohlc.empty:
                ohlc = ohlc.iloc[:-1]
            fx = risk.fx_rate(p.wallet_current_value, p.quantity, p.current_price)
            last = finite(ohlc["Close"].iloc[-1]) if not ohlc.empty else None
            in_scale = last is not None and p.current_price > 0 and max(last / p.current_price,
                                                                        p.current_price / last) <= SCALE_TOLERANCE
            if p.data_note or p.created_at is None or fx is None or not in_scale or p.quantity <= 0:
                out.append(float("nan"))
                continue
            value = stop_modes.live_stop(self.settings.stop_mode, ohlc, p.created_at, p.average_price,
                                         budget / fx / p.quantity)
            out.append(_nan(value))
        return out

    def _worker_acts(self, now: float) -> bool:
        """Auto-sell is on and the acting worker's heartbeat is fresh (INTERFACE.md `protection: worker`)."""
        if not self.store.autosell_enabled:
            return False
        holder = read_lease(self.store)
        return holder is not None and (holder.expires_at or 0) > now and \
            is_fresh(heartbeat_age(holder, now), self.settings.heartbeat_max_age)

    @staticmethod
    def _market_open(inst: Instrument, exchanges: list[Exchange], moment: datetime) -> bool | None:
        """Open by the Trading 212 schedule (or the logged weekday fallback); None when unknowable,
        which auto-sell treats as closed."""
        if not market_schedule.hours_known(inst, exchanges, moment):
            return None
        return market_schedule.is_open(inst, exchanges, moment)

    @staticmethod
    def _scale_checked(ind: pd.Series | None, p: BrokerPosition, symbol: str | None
                       ) -> tuple[pd.Series | None, str | None]:
        """Drop indicators whose bars are in another scale than the broker's price (pence vs pounds)."""
        if ind is None:
            return None, None
        close = finite(ind.get("close"))
        if close is None or close <= 0 or not (p.current_price or 0) > 0:
            return ind, None
        ratio = close / p.current_price
        if ratio > SCALE_TOLERANCE or ratio < 1 / SCALE_TOLERANCE:
            return None, (
                f"{symbol}: market data is {ratio:.0f}x the broker price ({p.currency}); "
                "indicators hidden until the symbol or its currency is fixed"
            )
        return ind, None

    # -- last good snapshot -------------------------------------------------------------------------
    def _save(self, snapshot: Snapshot) -> None:
        snapshot_store.save_last(self.store, snapshot.generated_at.timestamp(), json.dumps(snapshot.to_json()))
        record_snapshot(self.store, snapshot)  # history: the day's point, new positions' initial risk

    def last_snapshot(self) -> Snapshot | None:
        body = snapshot_store.last(self.store)
        if body is None:
            return None
        try:
            # kept before snapshots named their account: it is this store's
            return replace(Snapshot.from_json(json.loads(body)), account_name=self.settings.account_name)
        except (ValueError, KeyError, TypeError) as err:
            log.warning("stored snapshot unreadable: %s", err)
            return None

    # -- charts ---------------------------------------------------------------------------------------
    def bars_for(self, ticker: str, snapshot: Snapshot | None = None) -> pd.DataFrame:
        """Daily OHLCV for one held ticker, from the bar cache (no broker call)."""
        view = snapshot.position(ticker) if snapshot else None
        symbol = view.yahoo_symbol if view else None
        if symbol is None:
            return pd.DataFrame(columns=["Open", "High", "Low", "Close", "Volume"])
        cached = getattr(self.market, "cached_bars", None)
        bars = cached([symbol]) if cached else self.market.daily_bars(
            [SymbolRequest(ticker, symbol, view.currency if view else "")])
        return bars.for_symbol(symbol)
