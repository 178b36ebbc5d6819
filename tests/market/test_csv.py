"""CSV market data: good files are read, bad ones are left out with a note."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from papishares.core.models import SymbolRequest
from papishares.market.csv import CsvMarketData


def req(symbol: str, currency: str = "GBX") -> SymbolRequest:
    return SymbolRequest(ticker=symbol, symbol=symbol, quote_currency=currency)


def test_reads_good_files_in_their_scale(tmp_path: Path) -> None:
    (tmp_path / "RR.L.csv").write_text(
        "Date,Open,High,Low,Close,Volume\n2026-11-20,600,610,595,605.5,1000\n"
        "2026-11-23,605,620,600,612.4,1200\n2026-11-19,590,601,588,600,900\n")
    (tmp_path / "AAPL.csv").write_text("date,open,high,low,close\n2026-11-23,1,2,0.5,1.5\n")
    bars = CsvMarketData(tmp_path).daily_bars([req("RR.L"), req("AAPL", "USD")])
    rr = bars.for_symbol("RR.L")
    assert list(rr["Close"]) == [600.0, 605.5, 612.4]  # sorted, pence untouched
    assert rr.index.name == "Date" and rr.index.tz is None
    assert bars.for_symbol("AAPL")["Close"].iloc[-1] == 1.5
    assert bars.source == "csv" and bars.status == {}
    assert set(bars.fetched_at) == {"RR.L", "AAPL"}


def test_missing_and_malformed_files_are_left_out_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "GOOD.csv").write_text("Date,Open,High,Low,Close\n2026-11-23,1,2,0.5,1.5\n")
    (tmp_path / "NOCLOSE.csv").write_text("Date,Open,High,Low\n2026-11-23,1,2,0.5\n")
    (tmp_path / "JUNK.csv").write_text("Date,Open,High,Low,Close\nnot a date,x,y,z,w\n")
    (tmp_path / "EMPTY.csv").write_text("")
    (tmp_path / "BINARY.csv").write_bytes(b"\xff\xfe\x00\x01garbage\x00")
    symbols = ["GOOD", "NOCLOSE", "JUNK", "EMPTY", "BINARY", "MISSING", "../etc/passwd"]
    bars = CsvMarketData(tmp_path).daily_bars([req(s) for s in symbols])
    assert bars.symbols == ["GOOD"]
    assert set(bars.status) == set(symbols) - {"GOOD"}
    assert "Close" in bars.status["NOCLOSE"]
    assert "MISSING.csv" in bars.status["MISSING"]


def test_nothing_readable_gives_empty_bars_with_notes(tmp_path: Path) -> None:
    bars = CsvMarketData(tmp_path).daily_bars([req("NONE")])
    assert bars.close.empty and "NONE" in bars.status
    assert isinstance(bars.close.index, pd.DatetimeIndex)
