"""The JSON API under load: `GET /positions` from 1, 20 and 100 concurrent clients.

Starts the fake Trading 212 (in this process, 127.0.0.1) and the real `papishares dashboard` server
against it (token set, market data off), then for each client count runs bounded polling loops
(each client: ROUNDS requests, PAUSE s apart, like a panel polling every second; all start together,
so every second brings a burst of CLIENTS simultaneous requests: the worst case for latency) and prints:
  - latency median and p99 (ms) of every request,
  - the broker requests they caused (the fake server's counters, all endpoints, before vs after),
  - the server's CPU time per request (its own /proc counters: what the client side costs is left out),
  - the server's resident memory (RSS) after the round,
  - the dashboard's own page fetched meanwhile (every 0.5 s): does it stay responsive.

    .venv/bin/python bench/bench_api.py [--rounds 10] [--pause 1.0] [--clients 1,20,100]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.t212_server import FakeTrading212  # noqa: E402
from tests.remote.dashboard_process import running_dashboard  # noqa: E402

TOKEN = "bench-token-0123456789"


def run_round(url: str, clients: int, rounds: int, pause: float) -> tuple[list[float], int]:
    """`clients` concurrent pollers (asyncio: the client side stays light), each with its own connection."""
    latencies: list[float] = []
    failures = 0

    async def client(http: httpx.AsyncClient, ready: asyncio.Barrier) -> None:
        nonlocal failures
        await http.get(url + "/positions")  # connect first (not measured): pollers keep their connection
        await ready.wait()
        for _ in range(rounds):
            t = time.perf_counter()
            try:
                ok = (await http.get(url + "/positions")).status_code == 200
            except httpx.TransportError:  # e.g. a kept-alive connection the server closed meanwhile
                ok = False
            took = time.perf_counter() - t
            latencies.append(took * 1000)
            failures += not ok
            await asyncio.sleep(max(0.0, pause - took))

    async def everyone() -> None:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60,
                                     limits=limits) as http:
            ready = asyncio.Barrier(clients)
            await asyncio.gather(*(client(http, ready) for _ in range(clients)))

    asyncio.run(everyone())
    return latencies, failures


def dashboard_probe(url: str, stop: threading.Event, took: list[float]) -> None:
    """The dashboard's side meanwhile: its page (index.html) fetched every 0.5 s on a connection of its own."""
    with httpx.Client(timeout=60) as http:
        while not stop.is_set():
            t = time.perf_counter()
            http.get(url + "/")
            took.append((time.perf_counter() - t) * 1000)
            stop.wait(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="requests per client")
    parser.add_argument("--pause", type=float, default=1.0, help="s between one client's requests")
    parser.add_argument("--clients", default="1,20,100")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeTrading212.running() as t212:
        home = Path(tmp)
        config = {**t212.env(str(home / "papishares.db")), "PAPISHARES_MARKET_DATA": "none",
                  "PAPISHARES_API_TOKEN": TOKEN}
        with running_dashboard(home, config) as dash:
            httpx.get(dash.url + "/positions", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
            print(f"server RSS after start and one snapshot: {dash.rss_kib() / 1024:.0f} MiB")
            print("clients  requests  median ms  p99 ms  server CPU ms/req  broker requests  (GET positions)  "
                  "RSS MiB  failures  page median ms")
            for clients in (int(c) for c in args.clients.split(",")):
                before_all, before_pos = sum(t212.counts.values()), t212.count("GET", "/equity/positions")
                stop, page = threading.Event(), []
                prober = threading.Thread(target=dashboard_probe, args=(dash.url, stop, page))
                started, cpu = time.monotonic(), dash.cpu_seconds()
                prober.start()
                latencies, failures = run_round(dash.url, clients, args.rounds, args.pause)
                wall, cpu = time.monotonic() - started, dash.cpu_seconds() - cpu
                stop.set()
                prober.join()
                broker = sum(t212.counts.values()) - before_all
                positions = t212.count("GET", "/equity/positions") - before_pos
                q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
                print(f"{clients:7d}  {len(latencies):8d}  {statistics.median(latencies):9.1f}  {q[98]:6.1f}  "
                      f"{cpu * 1000 / (len(latencies) + clients):17.1f}  {broker:15d}  {positions:15d}  {dash.rss_kib() / 1024:7.0f}  {failures:8d}  "
                      f"{statistics.median(page):14.1f}"
                      f"   ({wall:.1f} s)")
            print(f"rate-limit violations at the broker: {t212.violations_total}")


if __name__ == "__main__":
    main()
