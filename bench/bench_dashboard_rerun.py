"""Server-side time of a warm rerun of the Positions page with 50 and with 200 positions.

A warm rerun is what every click and every auto-refresh inside the snapshot TTL costs: the page
script with the shared snapshot already cached (no broker request). The cold run of Home.py, which
builds the snapshot from the local fake Trading 212 (no market data), is printed for scale.

    .venv/bin/python bench/bench_dashboard_rerun.py [--sizes 50 200] [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.fakes.t212_server import FakeTrading212  # noqa: E402


def measure(n: int, repeat: int) -> tuple[float, list[float]]:
    with tempfile.TemporaryDirectory() as tmp, FakeTrading212.running(scenario="many", positions=n) as t212:
        os.environ.update(t212.env(str(Path(tmp) / "bench.db")))
        os.environ["PAPISHARES_MARKET_DATA"] = "none"
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=120)
        start = time.perf_counter()
        at.run()  # builds and caches the shared snapshot
        cold = time.perf_counter() - start
        at.switch_page("pages/1_Positions.py").run()
        assert not at.exception, at.exception
        rows = len(at.dataframe[0].value)
        assert rows == n, f"expected {n} rows, saw {rows}"
        warm = []
        for _ in range(repeat):
            start = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - start)
        assert not at.exception
        assert t212.violations_total == 0
        return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print("Positions page, server-side script time (AppTest, fake Trading 212, market data none)")
    print(f"{'positions':>9} {'cold Home ms':>13} {'warm median ms':>15} {'warm p90 ms':>12} {'warm min ms':>12}")
    for n in args.sizes:
        cold, warm = measure(n, args.repeat)
        warm_ms = sorted(w * 1000 for w in warm)
        p90 = warm_ms[min(len(warm_ms) - 1, int(round(0.9 * (len(warm_ms) - 1))))]
        print(f"{n:>9} {cold * 1000:>13.1f} {statistics.median(warm_ms):>15.1f} {p90:>12.1f} {warm_ms[0]:>12.1f}")


if __name__ == "__main__":
    main()
