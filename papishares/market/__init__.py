"""Market data behind one interface: Yahoo (batched), CSV directory, demo history, none."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from papishares.core.models import Bars, SymbolRequest

MIN_BARS = 260  # MACD over 250+ bars converges; Donchian 55 and ATR 20 need far fewer


@runtime_checkable
class MarketData(Protocol):
    """Daily bars for many symbols in ONE call, scaled to each request's quote currency.

    Implementations never raise for a single bad symbol: it is left out of the frames and
    `Bars.status[symbol]` says why. A failure of the whole source raises `MarketDataError`,
    which the caching layer turns into the last good bars with their age.
    """

    name: str

    def daily_bars(self, requests: Sequence[SymbolRequest], min_bars: int = MIN_BARS) -> Bars: ...
