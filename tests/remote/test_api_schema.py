"""The JSON API checked against its own OpenAPI document by schemathesis (property-based), on the real
`papishares dashboard` process with the emulated Trading 212 behind it.

Every check schemathesis has: no 5xx, each status, content type, header and body as the document says,
valid input accepted, malformed input rejected with a 4xx, and no protected endpoint answering
without its token or with a wrong one.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.t212_server import FakeTrading212
from tests.remote.dashboard_process import Dashboard, clean_env, running_dashboard
from tests.support import wait_for

TOKEN = "schema-token-9876543210"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    home = tmp_path_factory.mktemp("api-schema")
    with FakeTrading212.running() as t212:
        config = {**t212.env(str(home / "papishares.db")), "PAPISHARES_MARKET_DATA": "none",
                  "PAPISHARES_API_TOKEN": TOKEN}
        with running_dashboard(home, config) as server:
            # a worker beside it (dry run: it sends nothing), so /api/v1/worker answers 200, not its 503
            worker = subprocess.Popen([sys.executable, "-m", "papishares", "worker", "--dry-run"], cwd=home,
                                      env=clean_env({}), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_for(lambda: httpx.get(server.url + "/api/v1/worker", timeout=10,
                                           headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200,
                         timeout=60, step=0.5)
                yield server
            finally:
                worker.terminate()
                worker.wait(timeout=15)


def test_the_document_describes_every_endpoint(dash: Dashboard) -> None:
    doc_url = dash.url + "/api/v1/openapi.json"
    assert httpx.get(doc_url, timeout=30).status_code == 401  # like every endpoint but the probes
    doc = httpx.get(doc_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30).json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {"/healthz", "/readyz", "/positions", "/orders", "/entries", "/autosell",
                                 "/api/v1/snapshot", "/api/v1/history/trades", "/api/v1/journal", "/api/v1/worker"}
    bearer = {"type": "http", "scheme": "bearer"}
    assert bearer.items() <= doc["components"]["securitySchemes"]["PAPISHARES_API_TOKEN"].items()
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert "200" in op["responses"]
            assert bool(op.get("security")) is (path not in ("/healthz", "/readyz")), path


def test_schemathesis_finds_nothing(dash: Dashboard) -> None:
    run = subprocess.run(
        [str(SCHEMATHESIS), "run", dash.url + "/api/v1/openapi.json", "--checks", "all", "--mode", "all",
         "-H", f"Authorization: Bearer {TOKEN}", "--max-examples", "15", "--seed", "212",
         "--request-timeout", "30", "--no-color"],
        cwd=dash.cwd, env=clean_env({}), capture_output=True, text=True, timeout=600)
    report = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, report
    assert "No issues found" in run.stdout or " passed" in run.stdout, report
    assert TOKEN not in dash.log_text()
