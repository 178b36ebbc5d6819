"""Worker load: broker requests per hour at default settings, and resident memory over a long run.

1. Requests per hour. The worker runs as a real process at default settings (positions every
   5 s) against the local fake Trading 212 (default scenario: 8 positions, 2 pending orders) for
   a shortened period (--seconds, default 120). The server counts every request per endpoint. The
   steady rate is extrapolated linearly to one hour from the requests made after the first cycle
   (start-up fetches instruments and exchange schedules once; the worker then refreshes them every
   3 h, which is added as 1/3 per hour). Each is compared with the documented limit per hour.
2. Memory. One in-process worker on the demo broker and demo market data with a SIMULATED clock
   (5 s per cycle, markets opening and closing, stops breaching, auto-sell on, alerts flowing
   through the outbox to a local fake Telegram) runs --cycles cycles (default 3000 = 4 h 10 min of
   worker time) as fast as it can; resident memory (VmRSS) is sampled as it goes. Target < 200 MB.

    .venv/bin/python bench/bench_worker_load.py [--seconds 120] [--cycles 3000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from papishares.config import Secret, Settings  # noqa: E402
from papishares.store.db import Store  # noqa: E402
from tests.fakes.t212_server import RATE_LIMITS, FakeTrading212  # noqa: E402
from tests.fakes.telegram_server import TelegramServer  # noqa: E402
from tests.support import start_worker, stop_worker  # noqa: E402

METADATA_EVERY_H = 3.0


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def requests_per_hour(seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeTrading212.running() as server:
        db = Path(tmp) / "p.db"
        store = Store(db)
        store.set_autosell(True)
        proc = start_worker(server.env(str(db)), tmp)
        try:
            deadline = time.monotonic() + 30
            while not store.query("SELECT 1 FROM lease WHERE info LIKE '%\"ok\"%'") and time.monotonic() < deadline:
                time.sleep(0.01)  # until the first cycle (with its start-up fetches) is done
            startup = dict(server.counts)
            time.sleep(seconds)
            counts = dict(server.counts)
        finally:
            err = stop_worker(proc)
        print(f"== broker requests per hour at default settings ({seconds:.0f} s measured, x{3600 / seconds:.0f})")
        print(f"{'endpoint':36} {'start-up':>8} {'in window':>9} {'per hour':>9} {'limit/h':>8} {'use':>6}")
        total = 0.0
        for key in sorted(set(counts) | set(RATE_LIMITS)):
            n = counts.get(key, 0) - startup.get(key, 0)
            if key not in counts and not key.startswith("GET /equity/metadata"):
                continue
            per_hour = n * 3600 / seconds
            if key.startswith("GET /equity/metadata"):
                per_hour += 1 / METADATA_EVERY_H  # the 3-hourly refresh
            total += per_hour
            count, period = RATE_LIMITS.get(key, (0, 1))
            limit_h = count * 3600 / period
            print(f"{key:36} {startup.get(key, 0):8d} {n:9d} {per_hour:9.1f} {limit_h:8.0f} "
                  f"{per_hour / limit_h * 100 if limit_h else 0:5.1f}%")
        print(f"total about {total:.0f} requests/hour; rate-limit violations seen by the server: "
              f"{server.violations_total}")
        if "Traceback" in err:
            print(err[-2000:])


def memory(cycles: int) -> None:
    from papishares.demo.broker import DemoBroker
    from papishares.demo.market import DemoMarketData
    from papishares.market.cache import CachedMarketData
    from papishares.snapshot.service import Service
    from papishares.worker.loop import Worker

    class SimClock:
        """Starts at 13:00 UTC on the next weekday: London, Xetra and (from 14:30) New York trade."""

        def __init__(self) -> None:
            day = datetime.now(UTC).date() + timedelta(days=1)
            while day.weekday() >= 5:
                day += timedelta(days=1)
            self.now = datetime.combine(day, dt_time(13), UTC).timestamp()

        def __call__(self) -> float:
            return self.now

    with tempfile.TemporaryDirectory() as tmp, TelegramServer(token="1:BENCH") as tg:
        clock = SimClock()
        settings = Settings(db_path=Path(tmp) / "p.db", risk_percentage=0.05, telegram_bot_token=Secret("1:BENCH"),
                            telegram_chat_id="1", telegram_api_base=tg.base)
        store = Store(settings.db_path)
        store.set_autosell(True)
        broker = DemoBroker(store, seed=settings.demo_seed, clock=clock)
        market = CachedMarketData(DemoMarketData(seed=settings.demo_seed, clock=clock), store, clock=clock)
        service = Service(settings, store, broker, market, clock=clock)
        worker = Worker(settings, service, clock=clock)
        assert worker.lease.try_acquire()[0]
        print(f"\n== resident memory over {cycles} cycles ({cycles * 5 / 3600:.1f} h simulated at 5 s)")
        print(f"start: {rss_mb():.0f} MB")
        started = time.perf_counter()
        peak = 0.0
        for i in range(1, cycles + 1):
            worker.cycle()
            clock.now += settings.worker_positions_interval
            if i % max(1, cycles // 6) == 0 or i == cycles:
                peak = max(peak, rss_mb())
                sold = store.execute("SELECT count(*) FROM sell_intents")[0][0]
                print(f"cycle {i:5d}: {rss_mb():6.1f} MB, {sold} sells, {len(tg.messages)} alerts delivered, "
                      f"{(time.perf_counter() - started) / i * 1000:.1f} ms/cycle", flush=True)
        print(f"peak {peak:.0f} MB (target < 200 MB: {'met' if peak < 200 else 'MISSED'})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--cycles", type=int, default=3000)
    args = parser.parse_args()
    requests_per_hour(args.seconds)
    memory(args.cycles)


if __name__ == "__main__":
    main()
