"""Telegram commands against the breach-to-sell reaction time, and the command answer latency.

One real worker process (`python -m papishares worker`, positions every 5 s) with Telegram
configured against the local fake Bot API and the fake Trading 212. The reaction time to a stop
crossing (see bench_worker_reaction.py) is measured twice: with no commands, then with a user
sending a command every second (/status, /positions, /risk, /help in turn). The second phase also
times each command from the moment it reaches the fake Bot API to the moment the reply arrives.

    .venv/bin/python bench/bench_telegram_commands.py [--trials 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_worker_reaction import INTERVAL, run_trials, summary, wait_for  # noqa: E402
from papishares.store.db import Store  # noqa: E402
from tests.fakes.t212_server import FakeTrading212  # noqa: E402
from tests.fakes.telegram_server import TelegramServer  # noqa: E402
from tests.support import start_worker, stop_worker  # noqa: E402

TOKEN = "777000:BENCH-token"
CHAT = 77
COMMANDS = ("/status", "/positions", "/risk", "/help")


class User(threading.Thread):
    """Sends a command every `every` seconds and times each reply."""

    def __init__(self, tg: TelegramServer, every: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.tg, self.every = tg, every
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.unanswered = 0

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            before = len(self.tg.messages)
            sent = time.monotonic()
            self.tg.user_says(COMMANDS[i % len(COMMANDS)], chat_id=CHAT)
            i += 1
            while len(self.tg.messages) <= before and time.monotonic() - sent < 10:
                time.sleep(0.002)
            if len(self.tg.messages) > before:
                self.latencies.append(time.monotonic() - sent)
            else:
                self.unanswered += 1
            self.stop.wait(max(0.0, self.every - (time.monotonic() - sent)))


def phase(server: FakeTrading212, tg: TelegramServer, tmp: str, trials: int, with_commands: bool) -> tuple[
        list[float], User | None]:
    db = Path(tmp) / "p.db"  # one file for both phases: the rate budget the two workers share lives in it
    store = Store(db)
    store.set_autosell(True)
    env = server.env(str(db))
    env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_CHAT_ID=str(CHAT), TELEGRAM_API_BASE=tg.base)
    proc = start_worker(env, tmp)
    user = User(tg) if with_commands else None
    try:
        wait_for(lambda: store.query("SELECT 1 FROM lease WHERE info LIKE '%cycles%'"))
        if user:
            user.start()
        reactions = run_trials(server, trials, random.Random(212))
    finally:
        if user:
            user.stop.set()
            user.join(12)
        err = stop_worker(proc)
        store.close()
    if err.strip():
        print("worker stderr:\n" + err[-1500:])
    return reactions, user


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeTrading212.running() as server, TelegramServer(token=TOKEN) as tg:
        print("== without commands")
        quiet, _ = phase(server, tg, tmp, args.trials, with_commands=False)
        print("== with a command every second")
        busy, user = phase(server, tg, tmp, args.trials, with_commands=True)
        assert user is not None
    target = INTERVAL + 1.0
    print(f"\nreaction without commands ({len(quiet)} trials): {summary(quiet)}")
    print(f"reaction with a command every second ({len(busy)} trials): {summary(busy)}; "
          f"target <= {target:g} s: {'met' if max(busy) <= target else 'MISSED'}")
    print(f"ratio of medians with/without: {statistics.median(busy) / statistics.median(quiet):.2f}")
    lat = sorted(user.latencies)
    if lat:
        p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
        print(f"command answer latency over {len(lat)} commands: median {statistics.median(lat) * 1000:.0f} ms, "
              f"p95 {p95 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms; unanswered {user.unanswered}")
    print(f"rate-limit violations seen by the Trading 212 server: {server.violations_total}")


if __name__ == "__main__":
    main()
