"""The SQLite bar cache: fresh hits, batched refresh of stale symbols only, fallback with age."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from papishares.core.errors import MarketDataError
from papishares.core.models import Bars, SymbolRequest
from papishares.demo.market import DemoMarketData
from papishares.market.cache import CachedMarketData, age_text
from papishares.market.csv import CsvMarketData
from papishares.store.db import Store

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC).timestamp()
RR = SymbolRequest("RRl_EQ", "RR.L", "GBX")
AAPL = SymbolRequest("AAPL_US_EQ", "AAPL", "USD")
SAP = SymbolRequest("SAPd_EQ", "SAP.DE", "EUR")


class Recording:
    """A real source (demo history) that records what it is asked and can be switched off."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.inner = DemoMarketData(clock=lambda: NOW)
        self.name = self.inner.name
        self.calls: list[list[str]] = []
        self.fail = fail
        self.drop: set[str] = set()

    def daily_bars(self, requests: Sequence[SymbolRequest], min_bars: int = 260) -> Bars:
        self.calls.append([r.symbol for r in requests])
        if self.fail:
            raise self.fail
        bars = self.inner.daily_bars([r for r in requests if r.symbol not in self.drop], min_bars)
        return Bars(bars.open, bars.high, bars.low, bars.close, bars.volume, bars.fetched_at,
                    {s: f"no data for {s}" for s in self.drop}, bars.source)


class Clock:
    def __init__(self) -> None:
        self.t = NOW

    def __call__(self) -> float:
        return self.t


def make(tmp_path: Path) -> tuple[CachedMarketData, Recording, Clock]:
    source, clock = Recording(), Clock()
    return CachedMarketData(source, Store(tmp_path / "c.db"), max_age=900, clock=clock), source, clock


def test_fresh_bars_come_from_the_cache(tmp_path: Path) -> None:
    cache, source, clock = make(tmp_path)
    first = cache.daily_bars([RR, AAPL], 260)
    clock.t += 600
    second = cache.daily_bars([RR, AAPL], 260)
    assert source.calls == [["RR.L", "AAPL"]]
    assert second.close.equals(first.close)
    assert second.status == {} and cache.name == "demo" and second.source == "demo"
    assert second.close.index.name == "Date" and len(second.for_symbol("RR.L")) == 260


def test_only_stale_or_missing_symbols_are_fetched_in_one_call(tmp_path: Path) -> None:
    cache, source, clock = make(tmp_path)
    cache.daily_bars([RR], 260)
    clock.t += 600
    cache.daily_bars([RR, AAPL, SAP], 260)
    assert source.calls[1] == ["AAPL", "SAP.DE"]
    clock.t += 400  # RR now 1000 s old: stale; the others are fresh
    cache.daily_bars([RR, AAPL, SAP], 260)
    assert source.calls[2] == ["RR.L"]


def test_source_failure_serves_last_good_bars_with_their_age(tmp_path: Path) -> None:
    cache, source, clock = make(tmp_path)
    good = cache.daily_bars([RR, AAPL], 260)
    clock.t += 3 * 3600
    source.fail = MarketDataError("Demo down (ConnectError)")
    bars = cache.daily_bars([RR, AAPL], 260)
    assert bars.close.equals(good.close)
    assert bars.status["RR.L"] == "Demo data unavailable: bars from 3 h ago"
    assert bars.fetched_at["AAPL"] == datetime.fromtimestamp(NOW, UTC)
    # the failure is not retried on every refresh, and another process still sees the old bars
    cache.daily_bars([RR, AAPL], 260)
    assert len(source.calls) == 2
    other = CachedMarketData(Recording(fail=MarketDataError("down")), Store(tmp_path / "c.db"), clock=clock)
    assert "3 h ago" in other.daily_bars([RR], 260).status["RR.L"]


def test_a_symbol_failing_alone_keeps_its_old_bars(tmp_path: Path) -> None:
    cache, source, clock = make(tmp_path)
    cache.daily_bars([RR, AAPL], 260)
    clock.t += 2000
    source.drop = {"AAPL"}
    bars = cache.daily_bars([RR, AAPL], 260)
    assert "RR.L" not in bars.status
    assert bars.status["AAPL"] == "no data for AAPL: bars from 33 min ago"
    assert len(bars.for_symbol("AAPL")) == 260


def test_a_symbol_never_fetched_says_why(tmp_path: Path) -> None:
    cache, source, _ = make(tmp_path)
    source.fail = MarketDataError("down")
    bars = cache.daily_bars([RR], 260)
    assert bars.symbols == [] and bars.status["RR.L"] == "Demo data unavailable"


def test_bars_cached_for_another_quote_currency_are_never_served(tmp_path: Path) -> None:
    cache, source, clock = make(tmp_path)
    cache.daily_bars([RR], 260)
    source.fail = MarketDataError("down")
    clock.t += 10
    bars = cache.daily_bars([SymbolRequest("RRl_EQ", "RR.L", "GBP")], 260)
    assert bars.symbols == []


def test_a_broken_source_never_raises(tmp_path: Path) -> None:
    source = Recording(fail=RuntimeError("bug"))
    cache = CachedMarketData(source, Store(tmp_path / "c.db"))
    bars = cache.daily_bars([RR], 260)
    assert bars.symbols == [] and "RR.L" in bars.status


def test_cached_bars_do_not_fetch(tmp_path: Path) -> None:
    cache, source, _ = make(tmp_path)
    assert cache.cached_bars(["RR.L"]).symbols == []
    cache.daily_bars([RR], 260)
    bars = cache.cached_bars(["RR.L", "AAPL"])
    assert bars.symbols == ["RR.L"] and "AAPL" in bars.status
    assert len(source.calls) == 1


def test_csv_source_through_the_cache(tmp_path: Path) -> None:
    data = tmp_path / "csv"
    data.mkdir()
    (data / "RR.L.csv").write_text("Date,Open,High,Low,Close\n2026-11-23,600,610,590,605\n")
    cache = CachedMarketData(CsvMarketData(data), Store(tmp_path / "c.db"))
    bars = cache.daily_bars([RR, AAPL], 260)
    assert cache.name == "csv" and bars.for_symbol("RR.L")["Close"].tolist() == [605.0]
    assert "AAPL.csv" in bars.status["AAPL"]


@pytest.mark.parametrize(("seconds", "text"), [(40, "40 s"), (600, "10 min"), (3 * 3600, "3 h"),
                                               (3 * 86400, "3 d")])
def test_age_text(seconds: float, text: str) -> None:
    assert age_text(seconds) == text
