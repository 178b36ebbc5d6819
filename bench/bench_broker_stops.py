"""Stops kept at the broker: requests per hour and the window without protection, 50 positions.

The worker runs as a real process at default settings (positions every 5 s, PAPISHARES_BROKER_STOPS=on,
min move 0.5 %, interval 60 s) against the local fake Trading 212 ("many" scenario: 50 US positions
at about 100 USD). While it runs, every second each price rises by a random 0-0.25 % (a steady
climb, so the calculated stops ratchet up and the managed stops are moved by cancel + place).

Printed: requests per endpoint (start-up excluded, extrapolated to one hour) against the documented
limits; rate-limit violations seen by the server (must be 0); how long until every position with a
calculated stop had its managed stop; the moves made, and the window without protection of each
move (from the cancel's answer to the new placement's answer; journalled as `unprotected_s`),
median and max; and that there never were two managed stops for one position.

    .venv/bin/python bench/bench_broker_stops.py [--seconds 300]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from papishares.store.db import Store  # noqa: E402
from tests.fakes.t212_server import RATE_LIMITS, FakeTrading212  # noqa: E402
from tests.support import start_worker, stop_worker  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--positions", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(10)
    with tempfile.TemporaryDirectory() as tmp, FakeTrading212.running(scenario="many",
                                                                      positions=args.positions) as server:
        db = Path(tmp) / "p.db"
        store = Store(db)
        env = server.env(str(db)) | {"PAPISHARES_BROKER_STOPS": "on"}
        proc = start_worker(env, tmp)
        started = time.monotonic()
        doubles = 0
        all_placed_at: float | None = None
        try:
            while not store.query("SELECT 1 FROM lease WHERE info LIKE '%\"ok\"%'"):
                time.sleep(0.01)
            startup = dict(server.counts)
            t0 = time.monotonic()
            while time.monotonic() - t0 < args.seconds:
                with server.lock:
                    for pos in server.positions.values():
                        server.set_price(pos.ticker, round(pos.current_price * (1 + rng.uniform(0, 0.0025)), 2))
                    per_ticker: dict[str, int] = {}
                    for o in server.orders.values():
                        if o["type"] == "STOP":
                            per_ticker[o["ticker"]] = per_ticker.get(o["ticker"], 0) + 1
                    doubles += sum(1 for n in per_ticker.values() if n > 1)
                with_stop = store.execute("SELECT count(*) FROM position_state WHERE stop_price IS NOT NULL")[0][0]
                managed = store.execute("SELECT count(*) FROM managed_stops")[0][0]
                if all_placed_at is None and with_stop and managed >= with_stop:
                    all_placed_at = time.monotonic() - started
                time.sleep(1.0)
            counts = dict(server.counts)
        finally:
            err = stop_worker(proc)
        seconds = args.seconds
        print(f"== stops kept at the broker: {args.positions} positions, {seconds:.0f} s measured "
              f"(x{3600 / seconds:.0f} to an hour)")
        print(f"{'endpoint':36} {'in window':>9} {'per hour':>9} {'limit/h':>8} {'use':>6}")
        for key in sorted(counts):
            n = counts.get(key, 0) - startup.get(key, 0)
            count, period = RATE_LIMITS.get(key, (0, 1))
            limit_h = count * 3600 / period
            per_hour = n * 3600 / seconds
            print(f"{key:36} {n:9d} {per_hour:9.0f} {limit_h:8.0f} {per_hour / limit_h * 100 if limit_h else 0:5.1f}%")
        moves = [json.loads(r["data"]) for r in store.journal_entries(100000, kind="brokerstop") if r["action"] == "moved"]
        windows = sorted(m["unprotected_s"] for m in moves if "unprotected_s" in m)
        placed = store.execute("SELECT count(*) FROM managed_stops")[0][0]
        print(f"rate-limit violations seen by the server: {server.violations_total}")
        took = f"{all_placed_at:.0f} s" if all_placed_at else "not within the run"
        print(f"managed stops at the end: {placed}; every position with a stop protected after {took}")
        if windows:
            print(f"moves: {len(windows)}; window without protection per move: median {statistics.median(windows):.3f} s,"
                  f" max {max(windows):.3f} s")
        else:
            print("moves: 0")
        print(f"moments with two stop orders for one position: {doubles}")
        if "Traceback" in err:
            print(err[-2000:])


if __name__ == "__main__":
    main()
