"""Reaction time: from the price crossing the stop on the local Trading 212 server to the sell
request arriving there, with the worker at default settings (positions every 5 s).

The worker runs as a real process (`python -m papishares worker`) against the fake server over
HTTP with a real SQLite file. Each trial re-opens TSLA (3 @ 250 USD, stop about 206), lets the
worker record it, waits a random phase of the 5 s cycle, drops the price to 200 and times the
sell POST. Target: one positions interval + 1 s (6 s).

    .venv/bin/python bench/bench_worker_reaction.py [--trials 6]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from papishares.store.db import Store  # noqa: E402
from tests.fakes.t212_server import FakeTrading212  # noqa: E402
from tests.support import start_worker, stop_worker  # noqa: E402
from tests.support import wait_for as _wait_for  # noqa: E402

TSLA = "TSLA_US_EQ"
INTERVAL = 5.0  # the default PAPISHARES_POSITIONS_INTERVAL


def wait_for(condition, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    return _wait_for(condition, timeout, step=0.005)  # fine steps: this measures a reaction time


def run_trials(server: FakeTrading212, trials: int, rng: random.Random) -> list[float]:
    """Reaction times (s) of the running worker over `trials` crossings, printed as they come."""
    reactions = []
    for trial in range(trials):
        if TSLA not in server.positions:
            server.add_position(TSLA, 3, 250.0, 230.0)
            seen = server.count("GET", "/equity/positions")
            # let the worker see (and record) the re-opened position at its normal price
            wait_for(lambda s=seen: server.count("GET", "/equity/positions") >= s + 2)
        time.sleep(rng.uniform(0, INTERVAL))  # a random phase of the worker's cycle
        sells_before = len(server.sells())
        crossed = time.time()
        server.set_price(TSLA, 180.0)  # well below the stop: each sale grows the cash, so the stop drifts
        wait_for(lambda n=sells_before: len(server.sells()) > n)
        reactions.append(server.sells()[-1]["at"] - crossed)
        print(f"trial {trial + 1}: sell request {reactions[-1]:.2f} s after the crossing", flush=True)
    return reactions


def summary(reactions: list[float]) -> str:
    return (f"min {min(reactions):.2f} s, median {statistics.median(reactions):.2f} s, "
            f"max {max(reactions):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=6)
    args = parser.parse_args()
    rng = random.Random(212)
    with tempfile.TemporaryDirectory() as tmp, FakeTrading212.running() as server:
        db = Path(tmp) / "p.db"
        store = Store(db)
        store.set_autosell(True)
        proc = start_worker(server.env(str(db)), tmp)
        try:
            wait_for(lambda: store.query("SELECT 1 FROM lease WHERE info LIKE '%cycles%'"))
            reactions = run_trials(server, args.trials, rng)
        finally:
            err = stop_worker(proc)
            store.close()
        target = INTERVAL + 1.0
        print(f"\nreaction time over {len(reactions)} trials (interval {INTERVAL:g} s): {summary(reactions)}; "
              f"target <= {target:g} s: {'met' if max(reactions) <= target else 'MISSED'}")
        print(f"rate-limit violations seen by the server: {server.violations_total}")
        if err.strip():
            print("worker stderr:\n" + err[-2000:])

if __name__ == "__main__":
    main()
