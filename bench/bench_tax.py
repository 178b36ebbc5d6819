"""UK capital gains figures: how long cgt-calc (its own virtualenv) takes over Trading 212 reports
of growing size, and the demo account's whole tax summary end to end (report written + cgt-calc).

    .venv/bin/python bench/bench_tax.py

Reports are written from generated history items (papishares.history.t212_csv) in one tax year:
round trips in 20 tickers, 30+ days apart, plus a deposit; rates are a throwaway offline file.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from papishares.app.build import make_broker  # noqa: E402
from papishares.config import load_settings  # noqa: E402
from papishares.history import tax_run  # noqa: E402
from papishares.history.t212_csv import report_csv  # noqa: E402
from papishares.history.tax import summarise, tool_path, write_demo_rates  # noqa: E402
from papishares.store.db import Store  # noqa: E402
from tests.fakes.t212_history import order_item, transaction_item  # noqa: E402

T0 = 1_717_236_000_000  # 2024-06-01
DAY_MS = 86_400_000


def _report(path: Path, orders: int) -> None:
    items = []
    for n in range(orders // 2):
        ticker = f"T{n % 20:02d}_US_EQ"
        at = T0 + (n // 20) * 31 * DAY_MS // max(1, orders // 400) + n * 60_000
        items += [order_item(2 * n + 1, ticker, "BUY", 2, 100.0 + n % 7, at, fx=0.8),
                  order_item(2 * n + 2, ticker, "SELL", 2, 101.0 + n % 5, at + 3_600_000, fx=0.8)]
    deposit = [transaction_item("D", "DEPOSIT", 1_000_000.0, T0 - DAY_MS)]
    path.write_text(report_csv({"orders": items, "transactions": deposit}, "GBP"))


def main() -> None:
    if tool_path() is None:
        print("cgt-calc is not installed (scripts/ensure-cgt-calc needs Python 3.12+)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = load_settings({"DB_PATH": str(root / "b.db")}, dotenv_path=None)
        rates = root / "rates.csv"
        write_demo_rates(rates, {"USD": 1.27, "EUR": 1.17, "CHF": 1.13, "MXN": 22.5}, date(2018, 1, 1),
                         date(2026, 12, 31))
        for orders in (20, 1000, 5000):
            report = root / f"r{orders}.csv"
            _report(report, orders)
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                summary = summarise(settings, [report], rates_file=rates)
                times.append(time.perf_counter() - t0)
            disposals = sum(y.figures.get("disposals", 0) for y in summary.years)
            print(f"report of {orders:>5} orders: {len(summary.years)} tax year(s), {disposals:.0f} disposals, "
                  f"cgt-calc median {statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f})")
        store = Store(settings.db_path)
        broker = make_broker(settings, store)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            summary = tax_run.compute(settings, store, broker)
            times.append(time.perf_counter() - t0)
        print(f"demo account end to end ({len(summary.years)} tax years): median {statistics.median(times):.2f} s "
              f"(min {min(times):.2f}, max {max(times):.2f})")


if __name__ == "__main__":
    main()
