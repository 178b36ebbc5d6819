"""The image's entry commands, run locally exactly as the container runs them: the same entrypoint
script, DB_PATH on a scratch "volume", a clean environment without keys (so the demo broker)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.deploy.conftest import ENTRYPOINT, REPO

START_TIMEOUT = 60.0  # Streamlit's first start imports pandas, plotly, ...


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def container_env(tmp_path: Path) -> dict[str, str]:
    """The environment the image gives its processes (Dockerfile ENV), pointed at tmp_path."""
    for d in ("data", "home", "tmp", "work"):
        (tmp_path / d).mkdir()
    return {
        # The image's python and its console scripts come first on PATH, as in the image.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "PAPISHARES_APP_DIR": str(REPO),
        "HOME": str(tmp_path / "home"),
        "TMPDIR": str(tmp_path / "tmp"),
        "DB_PATH": str(tmp_path / "data" / "papishares.db"),
        "STREAMLIT_SERVER_ADDRESS": "127.0.0.1",  # the image says 0.0.0.0; a test stays on loopback
        "STREAMLIT_SERVER_PORT": str(free_port()),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "LANG": "C.UTF-8",
    }


def run(env: dict[str, str], cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ENTRYPOINT), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_no_traceback(done: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr


def test_dashboard_answers_its_health_url(container_env: dict[str, str], tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{container_env['STREAMLIT_SERVER_PORT']}/_stcore/health"
    log = (tmp_path / "dashboard.log").open("w")
    proc = subprocess.Popen(
        [str(ENTRYPOINT), "dashboard"],
        env=container_env,
        cwd=tmp_path / "work",  # like /app in the image: no .env with keys next to it
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        body, deadline = None, time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    body = response.read().decode()
                    break
            except OSError:
                time.sleep(0.2)
        output = (tmp_path / "dashboard.log").read_text()
        assert proc.poll() is None, f"dashboard exited ({proc.returncode}):\n{output}"
        assert body == "ok", f"no health answer from {url} within {START_TIMEOUT}s:\n{output}"
        # The image's HEALTHCHECK: the role the container started as, checked for real, on /readyz.
        ready_url = f"http://127.0.0.1:{container_env['STREAMLIT_SERVER_PORT']}/readyz"
        check = run(container_env, tmp_path / "work", "healthcheck", timeout=30)
        assert check.returncode == 0, check.stdout + check.stderr
        assert check.stdout.strip() == f"dashboard healthy: {ready_url} ready"
        # Not ready (a bad value in the .env beside it): the check fails, saying why, while the
        # server itself still runs.
        dotenv = tmp_path / "work" / ".env"
        dotenv.write_text("RISK_PERCENTAGE=lots\n")
        check = run(container_env, tmp_path / "work", "healthcheck", "dashboard", timeout=30)
        assert check.returncode == 1, check.stdout + check.stderr
        assert check.stdout.startswith(f"dashboard unhealthy: {ready_url} answered 503: ")
        assert "RISK_PERCENTAGE" in check.stdout and check.stdout.count("\n") == 1
        assert_no_traceback(check)
        dotenv.unlink()
        assert run(container_env, tmp_path / "work", "healthcheck", timeout=30).returncode == 0
    finally:
        stop(proc)
        log.close()


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the dashboard's process group (as `docker stop` would), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_worker_once_then_health(container_env: dict[str, str], tmp_path: Path) -> None:
    work = tmp_path / "work"
    before = run(container_env, work, "health", timeout=60)
    assert before.returncode == 1, (
        f"health must fail before any worker cycle:\n{before.stdout}{before.stderr}"
    )
    assert_no_traceback(before)

    once = run(container_env, work, "worker", "--once", timeout=180)
    assert once.returncode == 0, once.stdout + once.stderr
    assert_no_traceback(once)
    assert Path(container_env["DB_PATH"]).is_file()

    health = run(container_env, work, "health", timeout=60)
    assert health.returncode == 0, health.stdout + health.stderr
    json.loads(health.stdout)  # a JSON status
    # The same check as the image's HEALTHCHECK after `worker` started, and the CLI link's name.
    assert run(container_env, work, "healthcheck", "worker", timeout=60).returncode == 0


def test_any_other_command_is_the_cli(container_env: dict[str, str], tmp_path: Path) -> None:
    done = run(container_env, tmp_path / "work", "snapshot", "--json", timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["environment"] == "demo-sim"


def test_cli_link_name_runs_the_cli(container_env: dict[str, str], tmp_path: Path) -> None:
    # In the image /usr/local/bin/papishares is a link to the entrypoint.
    link = tmp_path / "bin" / "papishares"
    link.parent.mkdir()
    link.symlink_to(ENTRYPOINT)
    done = subprocess.run(
        [str(link), "autosell", "status"],
        env=container_env,
        cwd=tmp_path / "work",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() in ("on", "off")


def test_dashboard_healthcheck_fails_cleanly_when_nothing_listens(
    container_env: dict[str, str], tmp_path: Path
) -> None:
    done = run(container_env, tmp_path / "work", "healthcheck", "dashboard", timeout=30)
    assert done.returncode == 1
    assert done.stdout.startswith("dashboard unhealthy: http://127.0.0.1:")
    assert_no_traceback(done)


def test_dashboard_healthcheck_is_not_fooled_by_a_page(container_env: dict[str, str], tmp_path: Path) -> None:
    """Streamlit answers any unknown path with its page (200, HTML), and /_stcore/health says "ok" before
    the probes are served: only /readyz's own JSON counts."""
    import http.server
    import threading

    class PageEverywhere(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the handler's name
            body = b"ok" if self.path.endswith("/_stcore/health") else b"<!doctype html><title>app</title>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PageEverywhere)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {**container_env, "STREAMLIT_SERVER_PORT": str(server.server_address[1])}
        done = run(env, tmp_path / "work", "healthcheck", "dashboard", timeout=30)
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 1, done.stdout
    assert done.stdout.startswith(f"dashboard unhealthy: http://127.0.0.1:{server.server_address[1]}/readyz "
                                  "answered 200: b'<!doctype html>")
    assert_no_traceback(done)
