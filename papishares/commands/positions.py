"""`/positions` and `/risk`: the held positions nearest their stop first, and the largest risks."""

from __future__ import annotations

from dataclasses import dataclass

from papishares.commands.reading import DataAge, data_age
from papishares.core.models import PositionView, Snapshot

TOP_RISKS = 10


@dataclass(frozen=True)
class PositionRow:
    ticker: str
    short_name: str
    current_price: float
    stop: float | None  # the stop in force (effective_stop)
    distance_to_stop_pct: float | None
    protection: str  # manual | broker | partial | worker | alert | none


@dataclass(frozen=True)
class PositionsView:
    rows: tuple[PositionRow, ...]  # nearest to its stop first; no distance last
    data: DataAge


@dataclass(frozen=True)
class RiskRow:
    ticker: str
    short_name: str
    risk: float  # in the account's currency
    share_pct: float  # of the account's total value
    has_stop: bool


@dataclass(frozen=True)
class RiskView:
    currency: str
    total_risk_pct: float
    total_risk_limit_pct: float
    risk_per_position_pct: float
    open_risk_pct: float
    largest: tuple[RiskRow, ...]  # at most TOP_RISKS, largest first
    data: DataAge


def positions_view(snapshot: Snapshot, now: float) -> PositionsView:
    def nearest(p: PositionView) -> float:
        return p.distance_to_stop_pct if p.distance_to_stop_pct is not None else 1e9

    rows = tuple(PositionRow(p.ticker, p.short_name or p.ticker, p.current_price, p.effective_stop,
                             p.distance_to_stop_pct, p.protection)
                 for p in sorted(snapshot.positions, key=nearest))
    return PositionsView(rows, data_age(snapshot, now))


def risk_view(snapshot: Snapshot, now: float) -> RiskView:
    total = snapshot.account.total_value
    largest = tuple(RiskRow(p.ticker, p.short_name or p.ticker, p.risk, p.risk / total * 100 if total else 0.0,
                            p.effective_stop is not None)
                    for p in sorted(snapshot.positions, key=lambda v: v.risk, reverse=True)[:TOP_RISKS])
    return RiskView(snapshot.account.currency, snapshot.total_risk_pct, snapshot.total_risk_threshold_pct,
                    snapshot.risk_percentage, snapshot.open_risk_pct, largest, data_age(snapshot, now))
