"""Trading 212's CSV report against the emulator: requested once, polled at 1 / min until Finished,
downloaded without the API credentials."""

from __future__ import annotations

from pathlib import Path

from papishares.broker.trading212 import Trading212Client
from papishares.config import Settings
from papishares.history.t212_report import PENDING_KEY, fetch_report
from papishares.store.db import Store
from tests.fakes.t212_history import history_of
from tests.fakes.t212_server import FakeTrading212
from tests.snapshot.test_service import ManualClock

CSV = "Action,Time,ISIN,Ticker,Name,No. of shares,Price / share,Currency (Price / share)\n"


def test_report_requested_polled_and_downloaded_without_credentials(t212_server: FakeTrading212,
                                                                   t212_settings: Settings, store: Store,
                                                                   tmp_path: Path) -> None:
    book = history_of(t212_server)
    book.csv_text, book.polls_until_ready = CSV + "Market buy,2025-01-02 10:00:00,US0378331005,AAPL,Apple,2,100,USD\n", 2
    clock = ManualClock(t212_server)
    start = clock.now
    client = Trading212Client(t212_settings, store, clock=clock, sleep=clock.sleep)
    path = fetch_report(client, store, tmp_path / "out", clock=clock, sleep=clock.sleep)
    assert path.read_text().startswith("Action,Time") and "Market buy" in path.read_text()
    assert t212_server.count("POST", "/equity/history/exports") == 1
    assert t212_server.count("GET", "/equity/history/exports") == 3  # Queued, Queued, Finished: 1 / min
    assert clock.now - start >= 120
    assert book.downloads and book.downloads[0]["authorization"] is None
    assert store.get(PENDING_KEY) is None
