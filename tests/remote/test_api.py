"""The JSON API against the real `papishares dashboard` process, the emulated Trading 212 behind it.

One server per test module (per xdist worker); each test that changes the configuration does it in
the server's `.env` (read at every request) and the fixture puts it back, so no test depends on order.
Tokens, a password, another database or a dead broker are switched on that way without a restart.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.t212_server import FakeTrading212
from tests.remote.dashboard_process import Dashboard, clean_env, free_port, running_dashboard
from tests.support import wait_for

TOKEN = "api-token-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
PROTECTED_GETS = ["/positions", "/orders", "/entries", "/api/v1/snapshot", "/api/v1/history/trades",
                  "/api/v1/journal", "/api/v1/worker", "/api/v1/openapi.json"]


@pytest.fixture(scope="module")
def t212() -> Iterator[FakeTrading212]:
    with FakeTrading212.running() as server:
        yield server


@pytest.fixture(scope="module")
def server(t212: FakeTrading212, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    home = tmp_path_factory.mktemp("api")
    config = {**t212.env(str(home / "papishares.db")), "PAPISHARES_MARKET_DATA": "none"}
    with running_dashboard(home, config) as dash:
        yield dash
        assert TOKEN not in dash.log_text(), "the API token reached the server log"


@pytest.fixture
def dash(server: Dashboard) -> Iterator[Dashboard]:
    """The server with the token configured (in `.env`); whatever a test writes there is undone after it."""
    server.write_dotenv(PAPISHARES_API_TOKEN=TOKEN)
    yield server
    server.write_dotenv(PAPISHARES_API_TOKEN=TOKEN)


def get(dash: Dashboard, path: str, headers: dict[str, str] | None = BEARER, **kw: Any) -> httpx.Response:
    return httpx.get(dash.url + path, headers=headers, timeout=60, **kw)


def post(dash: Dashboard, path: str, headers: dict[str, str] | None = BEARER, **kw: Any) -> httpx.Response:
    return httpx.post(dash.url + path, headers=headers, timeout=60, **kw)


def cli(dash: Dashboard, *args: str) -> subprocess.CompletedProcess[str]:
    """A CLI command in the server's directory: the same `.env`, so the same configuration."""
    return subprocess.run([sys.executable, "-m", "papishares", *args], cwd=dash.cwd, capture_output=True,
                          text=True, timeout=120, env=clean_env({}))


def assert_error(resp: httpx.Response, status: int) -> str:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error"} and body["error"].endswith("."), body
    assert "Traceback" not in resp.text and TOKEN not in resp.text
    return str(body["error"])


# -- probes -----------------------------------------------------------------------------------------
def test_probes_answer_without_a_token(dash: Dashboard) -> None:
    assert get(dash, "/healthz", headers=None).json() == {"status": "ok"}
    ready = get(dash, "/readyz", headers=None)
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


def test_readyz_says_why_it_is_not_ready(dash: Dashboard, tmp_path: Path) -> None:
    dash.write_dotenv(PAPISHARES_API_TOKEN=TOKEN, RISK_PERCENTAGE="lots")
    bad = get(dash, "/readyz", headers=None)
    assert bad.status_code == 503 and bad.json()["status"] == "not ready"
    assert "RISK_PERCENTAGE" in bad.json()["reason"]
    assert "RISK_PERCENTAGE" in assert_error(get(dash, "/positions"), 503)
    garbage = tmp_path / "not-a-database.db"
    garbage.write_bytes(b"this is no SQLite file" * 100)
    dash.write_dotenv(PAPISHARES_API_TOKEN=TOKEN, DB_PATH=str(garbage))
    gone = get(dash, "/readyz", headers=None)
    assert gone.status_code == 503 and "database" in gone.json()["reason"], gone.text


# -- the seed's endpoints ---------------------------------------------------------------------------
def test_positions_in_the_seed_shape(dash: Dashboard, t212: FakeTrading212) -> None:
    resp = get(dash, "/positions")
    assert resp.status_code == 200
    body = resp.json()
    assert {"positions", "total_risk", "auto_sell", "stale", "age_seconds"} <= set(body)
    assert body["stale"] is False and body["auto_sell"] in (True, False)
    assert {p["ticker"] for p in body["positions"]} == set(t212.positions)
    profits = [p["profit_pct"] for p in body["positions"]]
    assert profits == sorted(profits, reverse=True)
    snap = get(dash, "/api/v1/snapshot").json()
    assert body["total_risk"] == snap["total_risk_pct"]
    by_ticker = {p["ticker"]: p for p in snap["positions"]}
    for p in body["positions"]:
        assert p == by_ticker[p["ticker"]]  # every field of the snapshot JSON's positions
    assert "access-control-allow-origin" not in {h.lower() for h in resp.headers}


def test_orders_as_an_array(dash: Dashboard) -> None:
    orders = get(dash, "/orders").json()
    assert isinstance(orders, list) and orders
    keys = {"ticker", "name", "currency", "type", "side", "quantity", "limit_price", "stop_price", "status", "managed"}
    by_ticker = {o["ticker"]: o for o in orders}
    for o in orders:
        assert keys <= set(o)
    stop, limit = by_ticker["AAPL_US_EQ"], by_ticker["NVDA_US_EQ"]
    assert (stop["type"], stop["side"], stop["quantity"], stop["stop_price"], stop["limit_price"]) == \
        ("STOP", "SELL", -5, 160.0, None)
    assert stop["managed"] is False and stop["name"] == "Apple Inc" and stop["currency"] == "USD"
    assert (limit["side"], limit["limit_price"], limit["stop_price"]) == ("BUY", 100.0, None)
    assert limit["name"] == "NVIDIA Corporation"  # not held: the name from the instruments metadata


def test_the_same_answers_as_the_cli(dash: Dashboard) -> None:
    trades = cli(dash, "history", "trades", "--json")
    assert trades.returncode == 0, trades.stderr
    assert get(dash, "/api/v1/history/trades").json() == json.loads(trades.stdout)
    health = cli(dash, "health")
    worker = get(dash, "/api/v1/worker")
    assert worker.status_code == (200 if health.returncode == 0 else 503)
    assert set(worker.json()) == set(json.loads(health.stdout))
    entries = cli(dash, "entries", "--json")
    assert entries.returncode == 0, entries.stderr
    assert get(dash, "/entries").json()["candidates"] == json.loads(entries.stdout)["candidates"]
    snap = cli(dash, "snapshot", "--json")
    assert snap.returncode == 0, snap.stderr
    api = get(dash, "/api/v1/snapshot").json()
    shown = json.loads(snap.stdout)
    assert {k: v for k, v in shown["account"].items()} == api["account"]
    assert {p["ticker"]: p["stop_loss_price"] for p in shown["positions"]} == \
        {p["ticker"]: p["stop_loss_price"] for p in api["positions"]}


def test_autosell_toggles_sets_and_is_journalled(dash: Dashboard, tmp_path: Path) -> None:
    dash.write_dotenv(PAPISHARES_API_TOKEN=TOKEN, DB_PATH=str(tmp_path / "flag.db"))
    status = lambda: cli(dash, "autosell", "status").stdout.strip()  # noqa: E731
    assert post(dash, "/autosell").json() == {"auto_sell": True}  # no body: toggles (it was off)
    assert status() == "on"
    assert post(dash, "/autosell").json() == {"auto_sell": False}
    assert post(dash, "/autosell", json={"auto_sell": True}).json() == {"auto_sell": True}
    assert post(dash, "/autosell", json={"auto_sell": True}).json() == {"auto_sell": True}
    assert status() == "on"
    journal = get(dash, "/api/v1/journal?limit=10").json()["entries"]
    assert [(e["kind"], e["action"]) for e in journal[:4]] == [("autosell", "on")] * 2 + [("autosell", "off"),
                                                                                             ("autosell", "on")]
    assert set(journal[0]) == {"at", "kind", "ticker", "action", "message"}
    assert len(get(dash, "/api/v1/journal?limit=2").json()["entries"]) == 2


@pytest.mark.parametrize(("body", "words"), [
    (b"{not json", "not valid JSON"), (b"[true]", "JSON object"), (b'{"auto_sell": "yes"}', "true or false"),
    (b'{"auto_sell": 1}', "true or false"), (b'{"auto_sell": true, "x": 1}', "Unknown field"), (b"\xff\xfe", "JSON"),
])
def test_autosell_malformed_body_is_a_400_with_a_sentence(dash: Dashboard, body: bytes, words: str) -> None:
    before = get(dash, "/positions").json()["auto_sell"]
    resp = post(dash, "/autosell", content=body, headers={**BEARER, "Content-Type": "application/json"})
    assert words in assert_error(resp, 400)
    assert get(dash, "/positions").json()["auto_sell"] == before  # nothing switched


def test_huge_bodies_are_refused(dash: Dashboard) -> None:
    assert "larger than" in assert_error(post(dash, "/autosell", content=b"x" * 100_000), 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while reading
        for _ in range(50):
            yield b" " * 1000

    assert "larger than" in assert_error(post(dash, "/autosell", content=chunks()), 413)


def test_bad_queries_and_unknown_paths(dash: Dashboard) -> None:
    assert "limit" in assert_error(get(dash, "/api/v1/journal?limit=lots"), 400)
    assert "limit" in assert_error(get(dash, "/api/v1/journal?limit=0"), 400)
    assert_error(get(dash, "/api/v1/nothing-here"), 404)
    assert_error(httpx.delete(dash.url + "/positions", headers=BEARER), 405)


# -- access -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", PROTECTED_GETS)
def test_a_configured_token_is_needed(dash: Dashboard, path: str) -> None:
    for headers in (None, {"Authorization": "Bearer wrong-token"}, {"Authorization": f"Basic {TOKEN}"}):
        resp = get(dash, path, headers=headers)
        assert_error(resp, 401)
        assert resp.headers["www-authenticate"] == "Bearer"
    assert get(dash, path).status_code in (200, 503)  # the worker endpoint is 503 without a worker
    assert_error(post(dash, "/autosell", headers=None), 401)


def test_without_a_token_reads_are_open_until_a_sign_in_exists_and_writes_never(dash: Dashboard) -> None:
    dash.write_dotenv(PAPISHARES_API_TOKEN="")
    for path in PROTECTED_GETS:
        assert get(dash, path, headers=None).status_code in (200, 503), path
    refused = assert_error(post(dash, "/autosell", headers=None, json={"auto_sell": True}), 403)
    assert "PAPISHARES_API_TOKEN" in refused
    assert_error(post(dash, "/autosell", json={"auto_sell": True}), 403)  # a token nobody configured
    dash.write_dotenv(PAPISHARES_API_TOKEN="", PAPISHARES_DASHBOARD_PASSWORD="dashboard-pw")
    resp = get(dash, "/positions", headers=None)
    assert "PAPISHARES_API_TOKEN" in assert_error(resp, 401) and resp.headers["www-authenticate"] == "Bearer"
    assert get(dash, "/healthz", headers=None).status_code == 200


def test_no_cross_origin_headers(dash: Dashboard) -> None:
    origin = {"Origin": "http://evil.example"}
    for resp in (get(dash, "/positions", headers={**BEARER, **origin}),
                 httpx.options(dash.url + "/autosell", headers={**origin, "Access-Control-Request-Method": "POST"}),
                 post(dash, "/autosell", headers=origin)):
        assert not [h for h in resp.headers if h.lower().startswith("access-control-")], resp.headers


def test_wrong_tokens_are_journalled_and_slowed_down(dash: Dashboard, tmp_path: Path) -> None:
    from papishares.remote.api.access import FREE_TRIES

    dash.write_dotenv(PAPISHARES_API_TOKEN=TOKEN, DB_PATH=str(tmp_path / "throttle.db"))
    wrong = {"Authorization": "Bearer not-the-token"}
    started = time.monotonic()
    for _ in range(FREE_TRIES):
        assert_error(get(dash, "/api/v1/journal", headers=wrong), 401)
    quick = time.monotonic() - started
    held = time.monotonic()
    assert_error(get(dash, "/api/v1/journal", headers=wrong), 401)
    assert_error(get(dash, "/api/v1/journal", headers=wrong), 401)
    assert time.monotonic() - held >= 1.0 + 2.0 - 0.1  # 1 s, then 2 s
    assert quick < FREE_TRIES * 1.0
    fast = time.monotonic()
    entries = get(dash, f"/api/v1/journal?limit={FREE_TRIES + 5}").json()["entries"]  # the owner is never held
    assert time.monotonic() - fast < 1.0
    wrongs = [e for e in entries if e["action"] == "wrong_api_token"]
    assert len(wrongs) == FREE_TRIES + 2 and wrongs[0]["message"].endswith(f"({FREE_TRIES + 2} in a row)")
    assert all("not-the-token" not in e["message"] for e in entries)


# -- load and bad days ------------------------------------------------------------------------------
def test_twenty_pollers_cost_no_extra_broker_requests(dash: Dashboard, t212: FakeTrading212) -> None:
    get(dash, "/positions")  # the shared snapshot is warm
    before = t212.count("GET", "/equity/positions")
    errors: list[str] = []

    def poll() -> None:
        with httpx.Client(headers=BEARER, timeout=30) as client:
            for _ in range(5):
                resp = client.get(dash.url + "/positions")
                if resp.status_code != 200:
                    errors.append(resp.text)
                time.sleep(0.2)

    threads = [threading.Thread(target=poll) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # 100 requests in about a second: at most the one refresh a single dashboard would make
    assert t212.count("GET", "/equity/positions") - before <= 1
    assert t212.violations_total == 0


def test_no_snapshot_at_all_is_a_503(dash: Dashboard, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/api/v0"
    dash.write_dotenv(PAPISHARES_API_TOKEN=TOKEN, DB_PATH=str(tmp_path / "empty.db"), T212_API_BASE=dead,
                      PAPISHARES_HTTP_TIMEOUT="2")
    for path in ("/positions", "/api/v1/snapshot", "/orders"):
        assert_error(get(dash, path), 503)


def test_broker_down_serves_the_last_good_snapshot_marked_stale(dash: Dashboard, tmp_path: Path) -> None:
    """A second emulated broker, stopped mid-test (the module's own keeps serving the other tests)."""
    with FakeTrading212.running() as other:
        dash.write_dotenv(PAPISHARES_API_TOKEN=TOKEN, DB_PATH=str(tmp_path / "stale.db"),
                          T212_API_BASE=other.base_url, PAPISHARES_HTTP_TIMEOUT="2")
        fresh = get(dash, "/positions").json()
        assert fresh["stale"] is False and fresh["positions"]
    # stopped: within the shared snapshot's lifetime the last good one is served, then marked stale
    stale = wait_for(lambda: (r := get(dash, "/positions").json())["stale"] and r, timeout=40, step=0.5)
    assert [p["ticker"] for p in stale["positions"]] == [p["ticker"] for p in fresh["positions"]]
    assert stale["age_seconds"] >= 0 and stale["stale_reason"]
    snap = get(dash, "/api/v1/snapshot")
    assert snap.status_code == 200 and snap.json()["stale"] is True and "age_seconds" in snap.json()


def test_an_invalid_configuration_still_serves_and_says_why(tmp_path: Path) -> None:
    with running_dashboard(tmp_path, {"DB_PATH": str(tmp_path / "p.db"), "RISK_PERCENTAGE": "lots"}) as bad:
        assert get(bad, "/healthz", headers=None).json() == {"status": "ok"}
        ready = get(bad, "/readyz", headers=None)
        assert ready.status_code == 503 and "RISK_PERCENTAGE" in ready.json()["reason"]
        assert "RISK_PERCENTAGE" in assert_error(get(bad, "/positions", headers=None), 503)
