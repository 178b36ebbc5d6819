"""Several accounts: broker requests per hour per account, and the worker's reaction time with two
accounts against one.

Two emulated Trading 212 servers (`tests/fakes/t212_server.py`) with different keys, one per
account, and one SQLite file; the worker runs as a real process (`python -m papishares worker`,
positions every 5 s by default) with PAPISHARES_ACCOUNTS=invest,isa.

1. Requests: each account holds 50 positions (scenario `many`); the worker runs for `--seconds`;
   each server's request counts are scaled to an hour and set against that endpoint's own limit
   per hour; the 429s each server answered are counted (target: zero on both).
2. Reaction: TSLA (3 @ 250 USD, stop about 206) is held in both accounts; each trial drops its
   price below the stop on one server and times the sell request arriving there. With one account
   (only `invest` configured) and with two (the crossing in `isa`, the account acted on last in a
   cycle); the ratio of the medians is printed.

    .venv/bin/python bench/bench_accounts.py [--seconds 60] [--trials 5] [--interval 5] [--part reaction]
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
from tests.fakes.t212_server import RATE_LIMITS, FakeTrading212  # noqa: E402
from tests.support import start_worker, stop_worker  # noqa: E402
from tests.support import wait_for as _wait_for  # noqa: E402

TSLA = "TSLA_US_EQ"
NAMES = ("invest", "isa")


def wait_for(condition, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    return _wait_for(condition, timeout, step=0.005)


def named_env(server: FakeTrading212, name: str) -> dict[str, str]:
    return {k.replace("T212_", f"T212_{name.upper()}_", 1): v for k, v in server.env().items() if k.startswith("T212_")}


def accounts_env(servers: list[FakeTrading212], db: Path, interval: float) -> dict[str, str]:
    env = {"DB_PATH": str(db), "PAPISHARES_BROKER": "t212", "PAPISHARES_POSITIONS_INTERVAL": f"{interval:g}"}
    if len(servers) == 1:
        env.update(servers[0].env(str(db)))
        return env
    env["PAPISHARES_ACCOUNTS"] = ",".join(NAMES[: len(servers)])
    for name, server in zip(NAMES, servers, strict=False):
        env.update(named_env(server, name))
    return env


def worker_started(db: Path) -> bool:
    store = Store(db, NAMES[0])
    try:
        return bool(store.query("SELECT 1 FROM lease WHERE info LIKE '%cycles%'"))
    finally:
        store.close()


def requests_per_hour(seconds: float, interval: float) -> None:
    print(f"== broker requests per hour per account: 2 accounts x 50 positions, {seconds:g} s measured, "
          f"positions every {interval:g} s")
    with tempfile.TemporaryDirectory() as tmp, \
            FakeTrading212.running(key="INVEST_KEY", secret="S1", scenario="many", positions=50) as a, \
            FakeTrading212.running(key="ISA_KEY", secret="S2", scenario="many", positions=50) as b:
        db = Path(tmp) / "p.db"
        proc = start_worker(accounts_env([a, b], db, interval), tmp)
        try:
            wait_for(lambda: db.exists() and worker_started(db))
            time.sleep(3 * interval)  # past the start (instruments, schedules, history backfill)
            for server in (a, b):
                server.reset_counters()
            started = time.time()
            time.sleep(seconds)
            elapsed = time.time() - started
            counts = {name: dict(server.counts) for name, server in zip(NAMES, (a, b), strict=True)}
            violations = {name: server.violations_total for name, server in zip(NAMES, (a, b), strict=True)}
        finally:
            err = stop_worker(proc)
        for name in NAMES:
            total = sum(counts[name].values()) * 3600 / elapsed
            print(f"account {name}: {total:.0f} requests/hour, 429s answered: {violations[name]}")
            for endpoint, n in sorted(counts[name].items()):
                limit, period = RATE_LIMITS.get(endpoint, (0, 1.0))
                per_hour = n * 3600 / elapsed
                allowed = limit * 3600 / period
                print(f"  {endpoint:40s} {per_hour:7.0f}/h  (its limit {allowed:.0f}/h, {100 * per_hour / allowed:.0f} %)")
        if err.strip():
            print("worker stderr:", err.strip()[-500:])


def reactions(servers: list[FakeTrading212], crossed_on: FakeTrading212, trials: int, interval: float,
              rng: random.Random) -> list[float]:
    times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "p.db"
        for name in NAMES[: len(servers)]:
            store = Store(db, name)
            store.set_autosell(True)
            store.close()
        proc = start_worker(accounts_env(servers, db, interval), tmp)
        try:
            wait_for(lambda: worker_started(db))
            for _ in range(trials):
                if TSLA not in crossed_on.positions:
                    crossed_on.add_position(TSLA, 3, 250.0, 230.0)
                seen = crossed_on.count("GET", "/equity/positions")
                wait_for(lambda s=seen: crossed_on.count("GET", "/equity/positions") >= s + 2)  # recorded
                time.sleep(rng.uniform(0, interval))  # a random phase of the cycle
                before = len(crossed_on.sells())
                at = time.time()
                crossed_on.set_price(TSLA, 180.0)
                wait_for(lambda n=before: len(crossed_on.sells()) > n)
                times.append(crossed_on.sells()[-1]["at"] - at)
        finally:
            stop_worker(proc)
    return times


def reaction_ratio(trials: int, interval: float) -> None:
    print(f"\n== reaction time, {trials} trials each, positions every {interval:g} s")
    rng = random.Random(212)
    # Fresh servers for each run: a new database knows nothing of an earlier one's requests.
    with FakeTrading212.running(key="INVEST_KEY", secret="S1") as a:
        one = reactions([a], a, trials, interval, rng)
        bad = a.violations_total
    with FakeTrading212.running(key="INVEST_KEY", secret="S1") as a, \
            FakeTrading212.running(key="ISA_KEY", secret="S2") as b:
        two = reactions([a, b], b, trials, interval, rng)
        bad += a.violations_total + b.violations_total
    for label, values in (("one account", one), ("two accounts (crossing in isa)", two)):
        print(f"{label:32s} min {min(values):.2f} s, median {statistics.median(values):.2f} s, "
              f"max {max(values):.2f} s")
    print(f"ratio of medians, two / one: {statistics.median(two) / statistics.median(one):.2f}; "
          f"429s answered: {bad}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--part", choices=("both", "requests", "reaction"), default="both")
    args = parser.parse_args()
    if args.part in ("both", "requests"):
        requests_per_hour(args.seconds, args.interval)
    if args.part in ("both", "reaction"):
        reaction_ratio(args.trials, args.interval)


if __name__ == "__main__":
    main()
