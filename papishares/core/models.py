"""Frozen data shapes shared by every room: broker data, market data, the Snapshot."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd

ENDED_ORDER_STATUSES = frozenset({"FILLED", "CANCELLED", "REJECTED", "REPLACED"})


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_z(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Account:
    currency: str
    total_value: float
    cash: float
    invested: float | None = None
    unrealised_pnl: float | None = None
    realised_pnl: float | None = None


@dataclass(frozen=True)
class Instrument:
    ticker: str
    name: str
    short_name: str
    currency: str
    type: str = "STOCK"
    isin: str | None = None
    working_schedule_id: int | None = None
    max_open_quantity: float | None = None
    extended_hours: bool = False


@dataclass(frozen=True)
class TimeEvent:
    date: datetime
    type: str  # OPEN, CLOSE, BREAK_START, BREAK_END, PRE_MARKET_OPEN, AFTER_HOURS_OPEN, ...


@dataclass(frozen=True)
class Exchange:
    id: int
    name: str
    schedules: dict[int, tuple[TimeEvent, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class BrokerPosition:
    """One open position as the broker reports it (prices in the instrument's quote currency).

    `data_note` set: the broker sent unusable numbers for it (those are None); it is shown, counted
    conservatively in total risk and never sold on (see `broker.t212_parse`).
    """

    ticker: str
    name: str
    currency: str
    quantity: float
    quantity_available: float
    current_price: float
    average_price: float
    wallet_currency: str
    wallet_current_value: float
    wallet_total_cost: float | None = None
    unrealised_pnl: float | None = None
    created_at: datetime | None = None
    data_note: str | None = None


@dataclass(frozen=True)
class Order:
    id: int
    ticker: str
    type: str  # MARKET, LIMIT, STOP, STOP_LIMIT
    status: str
    quantity: float  # as the broker gives it: a sell may be negative
    side: str | None = None  # BUY / SELL when the broker says
    filled_quantity: float = 0.0
    limit_price: float | None = None
    stop_price: float | None = None
    created_at: datetime | None = None
    currency: str | None = None

    @property
    def is_sell(self) -> bool:
        return (self.side or "").upper() == "SELL" or self.quantity < 0

    @property
    def is_pending(self) -> bool:
        # EXPIRED is not in the spec's enum, but an expired order is not pending whatever it is called
        status = self.status.upper()
        return status not in ENDED_ORDER_STATUSES and not status.startswith("EXPIR")


@dataclass(frozen=True)
class SymbolRequest:
    """What the service asks market data for: one T212 ticker, its Yahoo-style symbol and quote scale."""

    ticker: str
    symbol: str
    quote_currency: str  # the T212 currency, e.g. USD, GBX, GBP
    exchange: str | None = None


@dataclass(frozen=True)
class Bars:
    """Daily bars for many symbols as wide frames (index: date, columns: symbol).

    Values are already in each symbol's requested quote currency and scale (GBX in pence).
    `status[symbol]` explains a missing or stale series in a sentence.
    """

    open: pd.DataFrame
    high: pd.DataFrame
    low: pd.DataFrame
    close: pd.DataFrame
    volume: pd.DataFrame
    fetched_at: dict[str, datetime] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    source: str = "none"

    @property
    def symbols(self) -> list[str]:
        return [str(c) for c in self.close.columns]

    def for_symbol(self, symbol: str) -> pd.DataFrame:
        """One symbol's OHLCV frame, rows without a close dropped."""
        if symbol not in self.close.columns:
            return pd.DataFrame(columns=["Open", "High", "Low", "Close", "Volume"])
        frame = pd.DataFrame(
            {
                "Open": self.open[symbol],
                "High": self.high[symbol],
                "Low": self.low[symbol],
                "Close": self.close[symbol],
                "Volume": self.volume[symbol] if symbol in self.volume.columns else float("nan"),
            }
        )
        return frame.dropna(subset=["Close"])

    @staticmethod
    def empty(source: str = "none") -> Bars:
        e = pd.DataFrame(index=pd.DatetimeIndex([], name="Date"))
        return Bars(e, e, e, e, e, source=source)

    @staticmethod
    def from_frames(frames: dict[str, pd.DataFrame], source: str, **kw: Any) -> Bars:
        """Build wide frames from per-symbol OHLCV frames (columns Open, High, Low, Close[, Volume])."""
        if not frames:
            return replace(Bars.empty(source), **kw)

        def wide(col: str) -> pd.DataFrame:
            parts = {
                s: (f[col] if col in f.columns else pd.Series(float("nan"), index=f.index))
                for s, f in frames.items()
            }
            out = pd.DataFrame(parts).sort_index()
            out.index.name = "Date"
            return out.astype(float)

        return Bars(wide("Open"), wide("High"), wide("Low"), wide("Close"), wide("Volume"), source=source, **kw)


@dataclass(frozen=True)
class PositionView:
    """One position as every front end shows it. JSON field names follow INTERFACE.md."""

    ticker: str
    short_name: str
    name: str
    currency: str
    quantity: float
    quantity_available: float
    average_price: float
    current_price: float
    profit_pct: float
    max_price: float
    stop_loss_price: float | None
    stop_loss_percentage: float | None
    stop_loss_note: str | None
    manual_stop_loss_price: float | None
    manual_stop_loss_quantity: float
    macd_signal: str | None
    macd_crossover: str | None
    sma_17: float | None
    # additions beyond the contract
    yahoo_symbol: str | None = None
    fx: float | None = None  # account currency per quoted unit
    market_value: float | None = None  # account currency
    unrealised_pnl: float | None = None  # account currency
    risk: float = 0.0  # account currency, from average price to effective stop
    open_risk: float = 0.0  # account currency, from current price to effective stop
    distance_to_stop_pct: float | None = None  # (current - effective stop) / current * 100
    effective_stop: float | None = None
    stop_breached: bool = False
    macd: float | None = None
    macd_signal_line: float | None = None
    last_bar_date: str | None = None
    market_open: bool | None = None
    price_suspect: bool = False  # moved >50% from the last recorded price
    # data quality (issue 9): any of these set -> no calculated stop, never sold on
    data_note: str | None = None  # the broker sent unusable data for it (which fields)
    units_note: str | None = None  # its price is ~100x from its average or last price (pence/pounds)
    market_data_note: str | None = None  # why it has no market data (no symbol, no bars)
    # stops kept at the broker (issue 10): the managed order, and what acts at the stop
    broker_stop_price: float | None = None
    broker_stop_quantity: float = 0.0
    protection: str = "none"  # manual | broker | partial | worker | alert | none
    acting_stop: float | None = None  # the stop that acts first as the price falls

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Snapshot:
    generated_at: datetime
    environment: str
    account: Account
    positions: tuple[PositionView, ...]
    orders: tuple[Order, ...]
    total_risk_pct: float
    total_risk_threshold_pct: float
    open_risk_pct: float = 0.0
    risk_percentage: float = 0.7
    stop_mode: str = "risk"  # the rule the calculated stops follow (PAPISHARES_STOP_MODE)
    market_data: str = "none"
    market_data_note: str | None = None  # e.g. "Yahoo unreachable: showing bars from 3 h ago"
    broker_note: str | None = None  # e.g. "Rate-limited: showing data from 12 s ago"
    data_time: datetime | None = None  # when the broker data shown was fetched
    stale: bool = False
    data_notes: tuple[str, ...] = ()  # items of the broker's answers skipped or marked, in words
    account_name: str = ""  # the account it shows (Settings.account_name)

    @staticmethod
    def from_json(data: dict[str, Any]) -> Snapshot:
        return snapshot_from_json(data)

    def position(self, ticker: str) -> PositionView | None:
        return next((p for p in self.positions if p.ticker == ticker), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "generated_at": iso_z(self.generated_at),
            "environment": self.environment,
            "account": {
                "currency": self.account.currency,
                "total_value": self.account.total_value,
                "cash": self.account.cash,
                "invested": self.account.invested,
                "unrealised_pnl": self.account.unrealised_pnl,
            },
            "total_risk_pct": self.total_risk_pct,
            "total_risk_threshold_pct": self.total_risk_threshold_pct,
            "open_risk_pct": self.open_risk_pct,
            "risk_percentage": self.risk_percentage,
            "stop_mode": self.stop_mode,
            "positions": [p.to_json() for p in self.positions],
            "orders": [
                {
                    "id": o.id,
                    "ticker": o.ticker,
                    "type": o.type,
                    "side": "SELL" if o.is_sell else "BUY",
                    "status": o.status,
                    "quantity": o.quantity,
                    "filled_quantity": o.filled_quantity,
                    "limit_price": o.limit_price,
                    "stop_price": o.stop_price,
                }
                for o in self.orders
            ],
            "market_data": self.market_data,
            "market_data_note": self.market_data_note,
            "broker_note": self.broker_note,
            "data_time": iso_z(self.data_time),
            "stale": self.stale,
            "data_notes": list(self.data_notes),
            "account_name": self.account_name,
        }


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def snapshot_from_json(data: dict[str, Any]) -> Snapshot:
    """The inverse of `Snapshot.to_json()` (used for the last good snapshot kept in the database)."""
    acc = data["account"]
    known = set(PositionView.__dataclass_fields__)
    return Snapshot(
        generated_at=_parse_time(data["generated_at"]) or utcnow(),
        environment=data["environment"],
        account=Account(
            currency=acc["currency"], total_value=acc["total_value"], cash=acc["cash"],
            invested=acc.get("invested"), unrealised_pnl=acc.get("unrealised_pnl"),
        ),
        positions=tuple(PositionView(**{k: v for k, v in p.items() if k in known}) for p in data["positions"]),
        orders=tuple(
            Order(
                id=o["id"], ticker=o["ticker"], type=o["type"], status=o["status"], quantity=o["quantity"],
                side=o.get("side"), filled_quantity=o.get("filled_quantity") or 0.0,
                limit_price=o.get("limit_price"), stop_price=o.get("stop_price"),
            )
            for o in data.get("orders", [])
        ),
        total_risk_pct=data["total_risk_pct"],
        total_risk_threshold_pct=data["total_risk_threshold_pct"],
        open_risk_pct=data.get("open_risk_pct", 0.0),
        risk_percentage=data.get("risk_percentage", 0.7),
        stop_mode=data.get("stop_mode", "risk"),
        market_data=data.get("market_data", "none"),
        market_data_note=data.get("market_data_note"),
        broker_note=data.get("broker_note"),
        data_time=_parse_time(data.get("data_time")),
        stale=bool(data.get("stale", False)),
        data_notes=tuple(data.get("data_notes") or ()),
        account_name=data.get("account_name") or "",
    )
