"""History figures: a sync of 5,000 orders and 1,000 dividends against the local emulator (requests
used against the 6 / min limits, the time it takes at those limits, wall time), and the History
page's rerun time with a year of daily points (demo account, AppTest).

    .venv/bin/python bench/bench_history.py

The emulator enforces the documented 6 / 1 min per history endpoint; the client sleeps on a
virtual clock that also moves the emulator's windows, so the minutes the limits impose are counted
without waiting for them.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from papishares.broker.trading212 import Trading212Client  # noqa: E402
from papishares.history.sync import sync  # noqa: E402
from papishares.store.db import Store  # noqa: E402
from tests.conftest import t212_settings_for  # noqa: E402
from tests.fakes.t212_history import history_of  # noqa: E402
from tests.fakes.t212_server import FakeTrading212  # noqa: E402
from tests.snapshot.test_service import ManualClock  # noqa: E402


def bench_sync() -> None:
    with FakeTrading212.running(scenario="empty") as fake, tempfile.TemporaryDirectory() as tmp:
        history_of(fake).generate(orders=5000, dividends=1000)
        clock = ManualClock(fake)
        start_virtual = clock.now
        store = Store(Path(tmp) / "b.db")
        client = Trading212Client(t212_settings_for(fake, Path(tmp) / "b.db"), store, clock=clock, sleep=clock.sleep)
        t0 = time.perf_counter()
        report = sync(store, client, kinds=["orders", "dividends"], patience=70.0, clock=clock)
        wall = time.perf_counter() - t0
        n_orders = store.execute("SELECT count(*) FROM hist_orders")[0][0]
        n_div = store.execute("SELECT count(*) FROM hist_dividends")[0][0]
        print(f"sync: {n_orders} orders, {n_div} dividends stored; complete={report.complete}")
        for key in ("GET /equity/history/orders", "GET /equity/history/dividends"):
            print(f"  {key}: {fake.counts[key]} requests (limit 6 / 60 s), violations {fake.violations[key]}")
        print(f"  time at the limits: {(clock.now - start_virtual) / 60:.1f} min (virtual); wall {wall:.2f} s")
        t0 = time.perf_counter()
        again = sync(store, client, kinds=["orders", "dividends"], patience=70.0, clock=clock)
        print(f"  incremental re-sync with nothing new: {again.pages} requests, {time.perf_counter() - t0:.3f} s wall")


def bench_page() -> None:
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update({"DB_PATH": str(Path(tmp) / "p.db"), "PAPISHARES_BROKER": "demo"})
        os.chdir(tmp)
        root = Path(__file__).resolve().parents[1]
        at = AppTest.from_file(str(root / "Home.py"), default_timeout=120)
        at.run()
        t0 = time.perf_counter()
        at.switch_page("pages/8_History.py").run()
        first = time.perf_counter() - t0
        store = Store(Path(tmp) / "p.db")
        points = store.execute("SELECT count(*) FROM daily_values")[0][0]
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t0)
        assert not at.exception, at.exception
        print(f"History page: {points} daily points; first run (sync of the demo year) {first:.2f} s, "
              f"rerun median {sorted(times)[2]:.3f} s (min {min(times):.3f}, max {max(times):.3f})")


if __name__ == "__main__":
    bench_sync()
    bench_page()
