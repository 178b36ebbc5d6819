"""Broker requests made by 3 dashboard sessions open together for 2 minutes with auto-refresh on.

Starts the local fake Trading 212 (default scenario), the real `streamlit run Home.py` server pointed
at it, and headless Chromium with 3 independent sessions (Home, Positions, Risk) auto-refreshing.
Then reads the fake's admin API: requests per endpoint against the documented limits, and the
violations it counted (requests the real API would have refused). Exit status 1 on any violation.

    .venv/bin/python bench/bench_dashboard_sessions.py [--seconds 120] [--refresh 5] [--sessions 3]

`--refresh 5` (the smallest PAPISHARES_REFRESH_SECONDS allowed) is the worst case; the default
setting is 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.t212_server import RATE_LIMITS, FakeTrading212  # noqa: E402
from tests.support import wait_healthy  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PAGES = ["", "Positions", "Risk"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def admin_state(t212: FakeTrading212) -> dict:
    with urllib.request.urlopen(t212.url + "/__admin/state", timeout=5) as resp:
        return json.loads(resp.read())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--refresh", type=int, default=5, help="PAPISHARES_REFRESH_SECONDS (5..)")
    parser.add_argument("--sessions", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, FakeTrading212.running() as t212:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("T212_", "PAPISHARES_", "TELEGRAM_"))}
        env.update(t212.env(str(Path(tmp) / "bench.db")))
        env.update({"PAPISHARES_MARKET_DATA": "none", "PAPISHARES_REFRESH_SECONDS": str(args.refresh),
                    "PYTHONPATH": str(ROOT)})
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "Home.py"), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1"],
            cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            wait_healthy(url)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                sessions = []
                for i in range(args.sessions):
                    context = browser.new_context()  # its own cookies: its own Streamlit session
                    page = context.new_page()
                    page.goto(f"{url}/{PAGES[i % len(PAGES)]}")
                    sessions.append(context)
                start = time.monotonic()
                time.sleep(args.seconds)
                elapsed = time.monotonic() - start
                errors = sum(ctx.pages[0].locator('[data-testid="stException"]').count() for ctx in sessions)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=15)
        state = admin_state(t212)

    counts, violations = state["counts"], state["violations"]
    print(f"{args.sessions} sessions x {elapsed:.0f} s, auto-refresh every {args.refresh} s "
          f"(fake Trading 212, market data none)")
    print(f"{'endpoint':<36} {'requests':>8} {'limit':>10} {'allowed in window':>18} {'violations':>10}")
    for key, n in sorted(counts.items()):
        count, period = RATE_LIMITS.get(key, (0, 0))
        allowed = int(count * (elapsed / period + 1)) if period else 0
        print(f"{key:<36} {n:>8} {f'{count}/{period:g}s':>10} {allowed:>18} {violations.get(key, 0):>10}")
    total_violations = sum(violations.values())
    print(f"total requests {sum(counts.values())}, violations {total_violations}, exception elements {errors}")
    return 1 if total_violations or errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
