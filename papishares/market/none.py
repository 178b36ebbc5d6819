"""`PAPISHARES_MARKET_DATA=none`: no bars; indicators show as null."""

from __future__ import annotations

from collections.abc import Sequence

from papishares.core.models import Bars, SymbolRequest


class NoMarketData:
    name = "none"

    def daily_bars(self, requests: Sequence[SymbolRequest], min_bars: int = 0) -> Bars:
        return Bars.empty("none")
