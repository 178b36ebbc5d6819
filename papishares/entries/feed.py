"""The external entries feed in the seed's JSON shape, read from ENTRIES_URL or ENTRIES_PATH.

Shape: ``{generated_on, indices: {KEY: {name, sections: {k: {title, data: [{ticker, price, atr,
atr_percent, profit_percent, pe}]}}}}}``. A feed that is unreachable or malformed gives a `Feed`
with a note a person can read and whatever rows were valid; this module never raises.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from papishares.config import Settings

FEED_COLUMNS = ["index", "index_name", "section", "section_title", "ticker", "price", "atr", "atr_percent",
                "profit_percent", "pe"]
NUMBERS = ("price", "atr", "atr_percent", "profit_percent", "pe")
FEED_TIMEOUT = 5.0  # seconds: the page must not hang on a slow feed
MAX_FEED_BYTES = 20_000_000


@dataclass(frozen=True)
class Feed:
    rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FEED_COLUMNS))
    generated_on: str | None = None
    source: str | None = None  # the URL or path it came from; None when no feed is configured
    note: str | None = None  # why it is empty or partial

    @property
    def configured(self) -> bool:
        return self.source is not None


def load_feed(settings: Settings, client: httpx.Client | None = None) -> Feed:
    """The feed from ENTRIES_URL (preferred) or ENTRIES_PATH; an empty Feed when neither is set."""
    if settings.entries_url:
        source = settings.entries_url
        try:
            text = _fetch(settings.entries_url, min(settings.http_timeout, FEED_TIMEOUT), client)
        except httpx.HTTPStatusError as err:
            return Feed(source=source, note=f"Entries feed unavailable: {source} answered HTTP "
                                            f"{err.response.status_code}.")
        except (httpx.HTTPError, ValueError) as err:
            return Feed(source=source, note=f"Entries feed unreachable at {source} ({type(err).__name__}).")
    elif settings.entries_path:
        source = str(settings.entries_path)
        try:
            text = Path(settings.entries_path).read_text(encoding="utf-8")
        except FileNotFoundError:
            return Feed(source=source, note=f"Entries feed file {source} does not exist.")
        except (OSError, UnicodeDecodeError) as err:
            return Feed(source=source, note=f"Entries feed file {source} cannot be read ({type(err).__name__}).")
    else:
        return Feed()
    return parse_feed(text, source)


def _fetch(url: str, timeout: float, client: httpx.Client | None) -> str:
    own = client is None
    client = client or httpx.Client(timeout=timeout, follow_redirects=True)
    try:
        response = client.get(url, timeout=timeout)
        response.raise_for_status()
        if len(response.content) > MAX_FEED_BYTES:
            raise ValueError("feed too large")
        return response.text
    finally:
        if own:
            client.close()


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def parse_feed(text: str, source: str = "feed") -> Feed:
    """Parse the seed's JSON shape; malformed parts are skipped and counted in the note."""
    try:
        data = json.loads(text)
    except ValueError:
        return Feed(source=source, note=f"Entries feed {source} is not valid JSON.")
    if not isinstance(data, dict) or not isinstance(data.get("indices"), dict):
        return Feed(source=source, note=f"Entries feed {source} has no 'indices' object: not the expected shape.")
    generated = data.get("generated_on")
    rows: list[dict[str, Any]] = []
    skipped = 0
    for key, index in data["indices"].items():
        sections = index.get("sections") if isinstance(index, dict) else None
        if not isinstance(sections, dict):
            skipped += 1
            continue
        for skey, section in sections.items():
            items = section.get("data") if isinstance(section, dict) else None
            if not isinstance(items, list):
                skipped += 1
                continue
            for item in items:
                ticker = item.get("ticker") if isinstance(item, dict) else None
                if not isinstance(ticker, str) or not ticker.strip():
                    skipped += 1
                    continue
                row: dict[str, Any] = {
                    "index": str(key), "index_name": str(index.get("name") or key), "section": str(skey),
                    "section_title": str(section.get("title") or skey), "ticker": ticker.strip(),
                }
                row.update({k: _number(item.get(k)) for k in NUMBERS})
                rows.append(row)
    frame = pd.DataFrame(rows, columns=FEED_COLUMNS)
    note = None
    if skipped:
        note = f"Entries feed {source}: {skipped} malformed part(s) skipped."
    elif not rows:
        note = f"Entries feed {source} lists no entries."
    return Feed(rows=frame, generated_on=str(generated) if generated is not None else None, source=source, note=note)
