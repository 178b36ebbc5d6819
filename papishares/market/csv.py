"""Daily bars from `DIR/<SYMBOL>.csv` (columns Date,Open,High,Low,Close[,Volume]).

Prices are taken as already in the instrument's Trading 212 quote currency and scale (pence for
GBX). A missing or malformed file leaves that symbol out with a status note; it never raises.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from papishares.core.models import Bars, SymbolRequest

log = logging.getLogger(__name__)
REQUIRED = ("Date", "Open", "High", "Low", "Close")


class CsvError(ValueError):
    """A CSV file that cannot be read as daily bars (the message is the status note)."""


def read_bars_csv(path: Path) -> pd.DataFrame:
    """One file as an OHLCV frame with a tz-naive daily index named Date. Raises CsvError."""
    try:
        raw = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise CsvError(f"{path.name} cannot be read ({type(err).__name__})") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    columns = {c.lower(): c for c in raw.columns}
    missing = [c for c in REQUIRED if c.lower() not in columns]
    if missing:
        raise CsvError(f"{path.name} lacks the column(s) {', '.join(missing)}")
    frame = pd.DataFrame({c: raw[columns[c.lower()]] for c in (*REQUIRED, "Volume") if c.lower() in columns})
    dates = pd.to_datetime(frame.pop("Date"), errors="coerce", utc=True)
    frame = frame.apply(pd.to_numeric, errors="coerce")
    frame.index = pd.DatetimeIndex(dates.dt.tz_localize(None).dt.normalize(), name="Date")
    frame = frame[frame.index.notna()].dropna(subset=["Close"])
    if frame.empty:
        raise CsvError(f"{path.name} has no rows with a date and a numeric Close")
    if (frame["Close"] <= 0).any():
        raise CsvError(f"{path.name} has a Close at or below zero")
    frame = frame[~frame.index.duplicated(keep="last")].sort_index()
    return frame.astype(float)


class CsvMarketData:
    name = "csv"

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def daily_bars(self, requests: Sequence[SymbolRequest], min_bars: int = 260) -> Bars:
        frames: dict[str, pd.DataFrame] = {}
        status: dict[str, str] = {}
        for req in requests:
            symbol = req.symbol
            if not symbol or any(ch in symbol for ch in "/\\") or symbol.startswith("."):
                status[symbol] = f"{symbol!r} is not a usable file name; left out"
                continue
            path = self.directory / f"{symbol}.csv"
            if not path.is_file():
                status[symbol] = f"no CSV file {path.name} in {self.directory}"
                continue
            try:
                frames[symbol] = read_bars_csv(path)
            except CsvError as err:
                log.warning("CSV market data: %s", err)
                status[symbol] = str(err)
        if not frames:
            return replace(Bars.empty(self.name), status=status)
        now = datetime.now(UTC)
        return Bars.from_frames(frames, source=self.name, status=status,
                                fetched_at=dict.fromkeys(frames, now))
