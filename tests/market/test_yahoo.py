"""Yahoo: pure processing of yfinance-shaped frames, and the thin network edge (never called here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from papishares.core.errors import MarketDataError
from papishares.core.models import SymbolRequest
from papishares.market import yahoo
from papishares.market.yahoo import YahooMarketData, bars_from_download, split_download
from papishares.store.db import Store

DAYS = pd.bdate_range("2025-01-02", periods=300, name="Date")


def yf_frame(closes: dict[str, float | None], group_by: str = "ticker") -> pd.DataFrame:
    """What yf.download(list, group_by=..., auto_adjust=False) returns: one block per ticker,
    all-NaN for a ticker Yahoo had nothing for, tz-naive daily index named Date."""
    blocks = {}
    for symbol, level in closes.items():
        close = np.full(len(DAYS), np.nan) if level is None else level * (1 + 0.001 * np.arange(len(DAYS)))
        blocks[symbol] = pd.DataFrame(
            {"Open": close * 0.99, "High": close * 1.01, "Low": close * 0.98, "Close": close,
             "Adj Close": close * 0.97, "Volume": np.full(len(DAYS), 1000.0)}, index=DAYS)
    frame = pd.concat(blocks.values(), axis=1, keys=blocks.keys(), names=["Ticker", "Price"])
    if group_by == "column":
        frame.columns = frame.columns.swaplevel(0, 1)
        frame = frame.sort_index(level=0, axis=1)
    return frame


def req(symbol: str, quote: str) -> SymbolRequest:
    return SymbolRequest(ticker=symbol, symbol=symbol, quote_currency=quote)


def test_scaling_gbx_gbp_cases() -> None:
    frame = yf_frame({"RR.L": 612.4, "VUSA.L": 90.1, "VUAG.L": 95.0, "LLOY.L": 55.2, "AAPL": 230.0})
    requests = [req("RR.L", "GBX"), req("VUSA.L", "GBP"), req("VUAG.L", "GBX"), req("LLOY.L", "GBP"),
                req("AAPL", "USD")]
    currencies = {"RR.L": "GBp", "VUSA.L": "GBP", "VUAG.L": "GBP", "LLOY.L": "GBp", "AAPL": "USD"}
    bars = bars_from_download(frame, requests, currencies)
    first = bars.close.iloc[0]
    assert first["RR.L"] == pytest.approx(612.4)  # GBp -> GBX: pence stay pence
    assert first["VUSA.L"] == pytest.approx(90.1)  # a GBP-quoted .L ETF for a GBP instrument
    assert first["VUAG.L"] == pytest.approx(9500.0)  # GBP on Yahoo -> pence for T212
    assert first["LLOY.L"] == pytest.approx(0.552)  # GBp -> GBP
    assert first["AAPL"] == pytest.approx(230.0)
    assert bars.for_symbol("VUAG.L")["High"].iloc[0] == pytest.approx(9595.0)
    assert bars.for_symbol("VUAG.L")["Volume"].iloc[0] == 1000.0  # volume is not a price
    assert bars.close.index.name == "Date" and bars.close.index.tz is None
    assert len(bars.close) == 300 and bars.status == {}


def test_unscalable_unknown_currency_and_missing_data_are_left_out() -> None:
    frame = yf_frame({"SPXS.L": 600.0, "ODD.L": 10.0, "GONE.L": None})
    requests = [req("SPXS.L", "GBX"), req("ODD.L", "GBX"), req("GONE.L", "GBX")]
    bars = bars_from_download(frame, requests, {"SPXS.L": "USD", "ODD.L": None, "GONE.L": "GBp"})
    assert bars.symbols == []
    assert "USD" in bars.status["SPXS.L"] and "GBX" in bars.status["SPXS.L"]
    assert "currency" in bars.status["ODD.L"]
    assert "no data" in bars.status["GONE.L"]


def test_split_download_reads_both_groupings_and_tz_aware_indexes() -> None:
    by_column = yf_frame({"AAPL": 1.0, "MSFT": 2.0}, group_by="column")
    parts = split_download(by_column, ["AAPL", "MSFT"])
    assert parts["MSFT"]["Close"].iloc[0] == 2.0
    aware = yf_frame({"SAP.DE": 240.0})
    aware.index = aware.index.tz_localize("Europe/Berlin")
    parts = split_download(aware, ["SAP.DE"])
    assert parts["SAP.DE"].index.tz is None
    assert list(parts["SAP.DE"].columns) == ["Open", "High", "Low", "Close", "Volume"]


class FakeYahoo:
    """Stands in for the network edge only (history + currency lookups), counting calls."""

    def __init__(self, frame: pd.DataFrame | Exception, currencies: dict[str, str]) -> None:
        self.frame, self.currency_map = frame, currencies
        self.history_calls: list[list[str]] = []
        self.currency_calls: list[str] = []

    def history(self, symbols: list[str], min_bars: int) -> pd.DataFrame:
        self.history_calls.append(list(symbols))
        if isinstance(self.frame, Exception):
            raise self.frame
        return self.frame

    def currency(self, symbol: str) -> str | None:
        self.currency_calls.append(symbol)
        return self.currency_map.get(symbol)


def test_one_download_per_call_and_currencies_looked_up_once(tmp_path: Path) -> None:
    fake = FakeYahoo(yf_frame({"RR.L": 600.0, "AAPL": 230.0}), {"RR.L": "GBp", "AAPL": "USD"})
    store = Store(tmp_path / "y.db")
    source = YahooMarketData(store, history_fetcher=fake.history, currency_fetcher=fake.currency)
    requests = [req("RR.L", "GBX"), req("AAPL", "USD")]
    first = source.daily_bars(requests)
    source.daily_bars(requests)
    assert len(fake.history_calls) == 2 and sorted(fake.history_calls[0]) == ["AAPL", "RR.L"]
    assert sorted(fake.currency_calls) == ["AAPL", "RR.L"]  # once per symbol, not per refresh
    assert first.close["RR.L"].iloc[0] == 600.0
    # another process on the same file reuses the stored currencies
    again = YahooMarketData(Store(tmp_path / "y.db"), history_fetcher=fake.history, currency_fetcher=fake.currency)
    again.daily_bars(requests)
    assert len(fake.currency_calls) == 2
    assert store.query("SELECT source_currency FROM bars_meta WHERE symbol = 'RR.L'")[0]["source_currency"] == "GBp"


def test_currency_is_checked_again_after_max_age(tmp_path: Path) -> None:
    fake = FakeYahoo(yf_frame({"RR.L": 600.0}), {"RR.L": "GBp"})
    clock = [1_000_000.0]
    source = YahooMarketData(history_fetcher=fake.history, currency_fetcher=fake.currency,
                             currency_max_age=86400, clock=lambda: clock[0])
    source.daily_bars([req("RR.L", "GBX")])
    clock[0] += 2 * 86400
    source.daily_bars([req("RR.L", "GBX")])
    assert fake.currency_calls == ["RR.L", "RR.L"]


@pytest.mark.parametrize("frame", [ConnectionError("down"), pd.DataFrame(), yf_frame({"X": None})])
def test_network_failure_is_a_market_data_error(frame: pd.DataFrame | Exception) -> None:
    fake = FakeYahoo(frame, {})
    with pytest.raises(MarketDataError) as err:
        YahooMarketData(history_fetcher=fake.history, currency_fetcher=fake.currency).daily_bars([req("X", "USD")])
    assert "Yahoo unavailable" in str(err.value)


def test_fetch_history_makes_one_batched_download(monkeypatch: pytest.MonkeyPatch) -> None:
    import yfinance

    calls = []

    def fake_download(tickers, **kw):  # the library boundary, not our code
        calls.append((tickers, kw))
        return yf_frame({t: 1.0 for t in tickers})

    monkeypatch.setattr(yfinance, "download", fake_download)
    frame = yahoo.fetch_history(["AAPL", "RR.L"], 260)
    assert len(calls) == 1 and calls[0][0] == ["AAPL", "RR.L"]
    # issue 9: repair=True (yfinance's own fix of pence/pounds mix-ups inside a series)
    assert calls[0][1] == {"period": "2y", "interval": "1d", "auto_adjust": False, "group_by": "ticker",
                           "threads": True, "progress": False, "repair": True}
    assert set(split_download(frame, ["AAPL", "RR.L"])) == {"AAPL", "RR.L"}
