"""Broker requests per portfolio refresh: the service's pattern versus one request per position.

Starts the fake Trading 212 (`tests/fakes/t212_server.py`, scenario `many`) in a subprocess and
prints, for N positions:
  - the service pattern: account_summary() + positions() + orders() + instruments() (cached),
    i.e. what one snapshot costs, cold and then warm (inside the periods: from the shared cache);
  - the naive pattern: GET /equity/positions?ticker=X for each position, through the same rate
    budget (so it is slow but legal), and once more without any budget (what the server refuses).

    .venv/bin/python bench/bench_broker_requests.py [--positions 50] [--naive-limit 50]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from papishares.broker.trading212 import Trading212Client  # noqa: E402
from papishares.config import Secret, Settings  # noqa: E402
from papishares.demo.market import DemoMarketData  # noqa: E402
from papishares.snapshot.service import Service  # noqa: E402
from papishares.store.db import Store  # noqa: E402
from tests.fakes.t212_server import DEFAULT_KEY, DEFAULT_SECRET  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def state(url: str) -> dict:
    return httpx.get(url + "/__admin/state", timeout=5).json()


def requests_made(url: str) -> int:
    return sum(state(url)["counts"].values())


def settings_for(url: str, db: Path) -> Settings:
    return Settings(t212_api_key=Secret(DEFAULT_KEY), t212_secret_key=Secret(DEFAULT_SECRET), t212_env="demo",
                    t212_api_base=url + "/api/v0", broker="t212", db_path=db, http_timeout=5.0)


def client_for(url: str, db: Path) -> Trading212Client:
    return Trading212Client(settings_for(url, db), Store(db))


class CountingMarketData:
    """The demo market data, counting how many batched calls a snapshot makes."""

    name = "demo"

    def __init__(self) -> None:
        self.inner = DemoMarketData()
        self.calls = 0
        self.symbols = 0

    def daily_bars(self, requests, min_bars=260):  # type: ignore[no-untyped-def]
        self.calls += 1
        self.symbols += len(requests)
        return self.inner.daily_bars(requests, min_bars)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=50)
    parser.add_argument("--naive-limit", type=int, default=None, help="only time this many naive requests")
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "tests.fakes.t212_server", "--port", str(port),
                               "--scenario", "many", "--positions", str(args.positions)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        server.stdout.readline()  # type: ignore[union-attr]  # "listening on ..."
        url = f"http://127.0.0.1:{port}"
        tmp = Path(tempfile.mkdtemp(prefix="bench-broker-"))
        client = client_for(url, tmp / "service.db")
        client.instruments()  # cached for 6 h in SQLite: not part of a refresh
        client.exchanges()
        market = CountingMarketData()
        service = Service(settings_for(url, tmp / "service.db"), client.store, client, market)
        httpx.post(url + "/__admin/reset_counters")

        def refresh() -> tuple[int, float, int, int]:
            before, calls, start = requests_made(url), market.calls, time.perf_counter()
            snapshot = service.snapshot()
            elapsed = time.perf_counter() - start
            assert snapshot.account.currency == "GBP" and not snapshot.stale
            return requests_made(url) - before, elapsed, len(snapshot.positions), market.calls - calls

        cold_n, cold_t, held, cold_md = refresh()
        warm_n, warm_t, _, warm_md = refresh()
        time.sleep(5.5)  # every period over: what the next worker cycle pays
        next_n, next_t, _, next_md = refresh()
        print(f"positions held: {held}")
        print(f"Service.snapshot() (summary + positions + orders; instruments and exchanges from SQLite): "
              f"{cold_n} broker requests + {cold_md} market-data batch, {cold_t * 1000:.0f} ms cold; "
              f"{warm_n} requests + {warm_md} batch, {warm_t * 1000:.0f} ms inside the periods; "
              f"{next_n} requests + {next_md} batch, {next_t * 1000:.0f} ms on the next cycle")

        tickers = [p.ticker for p in client.positions()][: args.naive_limit or args.positions]
        naive = client_for(url, tmp / "naive.db")
        httpx.post(url + "/__admin/reset_counters")
        time.sleep(1.2)  # the positions window from the service run is over
        start = time.perf_counter()
        for ticker in tickers:
            naive.position(ticker)
        naive_t = time.perf_counter() - start
        naive_n = requests_made(url)
        print(f"naive pattern    (GET /equity/positions?ticker=X each, within the budget): {naive_n} requests, "
              f"{naive_t:.1f} s for {len(tickers)} positions ({naive_t / max(1, len(tickers)):.2f} s each)")

        httpx.post(url + "/__admin/reset_counters")
        time.sleep(1.2)
        auth = httpx.BasicAuth(DEFAULT_KEY, DEFAULT_SECRET)
        start = time.perf_counter()
        with httpx.Client(base_url=url + "/api/v0", auth=auth) as raw:
            statuses = [raw.get("/equity/positions", params={"ticker": t}).status_code for t in tickers]
        raw_t = time.perf_counter() - start
        print(f"naive, no budget (raw httpx loop): {len(statuses)} requests in {raw_t * 1000:.0f} ms, "
              f"{statuses.count(429)} refused with 429, server violations {state(url)['violations_total']}")
        print(f"ratio: {naive_n / max(1, cold_n):.1f}x the requests and {naive_t / max(cold_t, 1e-6):.0f}x "
              "the time of the service pattern")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
