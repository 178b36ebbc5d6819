"""`/chart TICKER`: candlesticks and MACD of a held position as a PNG."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from papishares.commands.reading import UnknownPosition, find_position, unknown_position
from papishares.core.models import PositionView, Snapshot

Bars = Callable[[str, Snapshot], Any]  # (ticker, snapshot) -> OHLCV DataFrame


@dataclass(frozen=True)
class ChartsUnavailable:
    """This front end has no market data to draw from."""


@dataclass(frozen=True)
class NoHistory:
    position: PositionView
    market_data: str  # the snapshot's market data source


@dataclass(frozen=True)
class Chart:
    position: PositionView
    png: bytes | None
    problem: str | None = None  # why there is no PNG


def chart(snapshot: Snapshot | None, name: str, bars: Bars | None
          ) -> Chart | NoHistory | ChartsUnavailable | UnknownPosition:
    p = find_position(snapshot, name)
    if snapshot is None or p is None:
        return unknown_position(name, snapshot)
    if bars is None:
        return ChartsUnavailable()
    frame = bars(p.ticker, snapshot)
    if frame is None or len(frame) == 0:
        return NoHistory(p, snapshot.market_data)
    from papishares.charts.png import chart_png  # plotly + kaleido: loaded only when asked

    png, problem = chart_png(frame, p)
    return Chart(p, png, problem)
