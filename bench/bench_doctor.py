"""Broker requests and time of one `papishares doctor` run, for a small and a large portfolio.

Runs the real CLI against the fake Trading 212 (in-process server, scenario `many`) with a cold
database, then again right after (warm: cached answers inside each endpoint's period), and prints
the requests per endpoint the emulator counted (orders: always zero) and the wall time.

    .venv/bin/python bench/bench_doctor.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.t212_server import FakeTrading212  # noqa: E402


def run(server: FakeTrading212, db: str) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("T212_", "TELEGRAM_", "PAPISHARES_", "DB_"))}
    env.update(server.env(db), PAPISHARES_MARKET_DATA="none")
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "papishares", "doctor", "--json"], env=env, capture_output=True,
                         text=True, timeout=300)
    return time.perf_counter() - started, out.returncode


def main() -> None:
    for positions in (8, 50):
        with FakeTrading212.running(scenario="many", positions=positions) as server, \
                tempfile.TemporaryDirectory() as tmp:
            db = str(Path(tmp) / "p.db")
            for label in ("cold", "warm"):
                server.reset_counters()
                seconds, code = run(server, db)
                counts = {k: v for k, v in sorted(server.counts.items())}
                total = sum(counts.values())
                orders = sum(v for k, v in counts.items() if k.startswith(("POST", "DELETE")))
                print(f"{positions:3d} positions, {label}: exit {code}, {total} broker requests "
                      f"({orders} order requests), {seconds:.2f} s, violations {server.violations_total}")
                for key, count in counts.items():
                    print(f"      {count}  {key}")


if __name__ == "__main__":
    main()
