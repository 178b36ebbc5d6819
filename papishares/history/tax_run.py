"""The UK tax summary end to end: the account's report (Trading 212's CSV export, or the demo's
counterpart), cgt-calc over it, and the result kept in the store for the History page.

Reports are kept in `reports/` beside the database: the complete record a user may want to keep.
A report still being prepared is polled again by the next run instead of asking for another (each
request notifies the account's app and is limited to one per 30 s).
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from papishares.broker import Broker
from papishares.config import Settings
from papishares.core.money import FIXED_TO_GBP
from papishares.history import tax
from papishares.history.t212_report import fetch_report
from papishares.store.db import Store
from papishares.store.keys import Key

LAST_KEY = Key.TAX_SUMMARY
# The demo's rates (units of currency per GBP): the fixed rates it trades at, plus the currencies of cgt-calc's bundled
# excess-reportable-income data. Demo only, never written where a real account's rates are cached.
DEMO_EXTRA_RATES = {"CHF": 1.13, "MXN": 22.5}
DEMO_RATES_FROM = date(2018, 1, 1)  # cgt-calc's bundled fund data starts in June 2018


def reports_dir(settings: Settings) -> Path:
    """Where fetched reports are kept: beside the database, one folder per account when there are several."""
    base = Path(settings.db_path).resolve().with_name("reports")
    return base / settings.account_name if settings.several else base


def demo_rates() -> dict[str, float]:
    own = {c: 1.0 / fx for c, fx in FIXED_TO_GBP.items() if c not in ("GBP", "GBX")}
    return {**DEMO_EXTRA_RATES, **own}


def compute(settings: Settings, store: Store, broker: Broker, *, wait: float = 600.0) -> tax.TaxSummary:
    """Fetch the report (or reuse the one being prepared), run cgt-calc, keep the result.
    Raises PapisharesError / BrokerError with a sentence (report still being prepared, no tool)."""
    if settings.account_type == "isa":
        summary = tax.TaxSummary("the account type", [], [tax.isa_sentence(settings)])
    elif (path := broker.export_report(reports_dir(settings))) is not None:  # the demo's, in the export's columns
        with tempfile.TemporaryDirectory() as tmp:
            rates = Path(tmp) / "demo_rates.csv"
            tax.write_demo_rates(rates, demo_rates(), DEMO_RATES_FROM,
                                 datetime.now(UTC).date() + timedelta(days=1))
            summary = tax.summarise(settings, [path], "the demo account's history (demo exchange rates)", rates)
    else:
        path = fetch_report(broker, store, reports_dir(settings), wait=wait)
        summary = tax.summarise(settings, [path], f"Trading 212's report {path.name}")
    store.set_json(LAST_KEY, {"computed_at": time.time(), **summary.to_json()})
    return summary


def last(store: Store) -> tuple[tax.TaxSummary, float] | None:
    """The last summary computed, with when; None before the first (or when it cannot be read)."""
    data = store.get_json(LAST_KEY)
    if not isinstance(data, dict):
        return None
    try:
        return tax.TaxSummary.from_json(data), float(data.get("computed_at") or 0.0)
    except (TypeError, ValueError):
        return None
