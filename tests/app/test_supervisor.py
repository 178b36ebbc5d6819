"""`papishares run` (make run): both processes start, Ctrl-C stops both, no orphans, a dead child is named."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from papishares.app.supervisor import child_env
from papishares.config import Settings
from tests.support import wait_for, wait_healthy

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def demo_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("T212_", "TELEGRAM_", "PAPISHARES_", "DB_"))}
    env.update(DB_PATH=str(tmp_path / "p.db"), PAPISHARES_LOG_LEVEL="WARNING", PAPISHARES_POSITIONS_INTERVAL="1")
    return env


def children_of(pid: int) -> list[int]:
    """Direct children of `pid`, from /proc (the supervisor's dashboard and worker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def health(env: dict[str, str], cwd: Path) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-m", "papishares", "health"], env=env, cwd=cwd,
                         capture_output=True, text=True, timeout=30)
    return json.loads(out.stdout) if out.stdout.strip() else {}


def start(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "papishares", "run", "--port", str(port),
                             "--address", "127.0.0.1"], env=demo_env(tmp_path), cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.mark.timeout(120)
def test_run_starts_dashboard_and_worker_and_ctrl_c_stops_both(tmp_path: Path) -> None:
    port = free_port()
    proc = start(tmp_path, port)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, timeout=60)
        status = wait_for(lambda: (h := health(demo_env(tmp_path), tmp_path)).get("healthy") and h, timeout=30)
        assert status["environment"] == "demo-sim" and status["autosell"] == "off"
        kids = children_of(proc.pid)
        assert len(kids) == 2
        # the worker acted on the demo: its decisions are in the journal, auto-sell untouched
        from papishares.store.db import Store

        store = Store(tmp_path / "p.db")
        wait_for(lambda: store.journal_entries(limit=50), timeout=20)
        assert store.autosell_enabled is False
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=15)[1]
        assert time.monotonic() - started < 10
        assert proc.returncode == 0, err
        assert "Traceback" not in err
        wait_for(lambda: not any(alive(k) for k in kids), timeout=5)
        assert health(demo_env(tmp_path), tmp_path).get("state") == "stopped"
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.timeout(120)
def test_when_one_child_dies_the_other_is_stopped_and_named(tmp_path: Path) -> None:
    port = free_port()
    proc = start(tmp_path, port)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, timeout=60)
        kids = children_of(proc.pid)
        worker = next(k for k in kids if b"papishares\x00worker" in Path(f"/proc/{k}/cmdline").read_bytes())
        os.kill(worker, signal.SIGKILL)
        err = proc.communicate(timeout=20)[1]
        assert proc.returncode == 1
        assert "the worker exited (code -9); stopping the dashboard" in err
        wait_for(lambda: not any(alive(k) for k in kids), timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_demo_keeps_markets_open_unless_the_user_says_otherwise() -> None:
    demo = Settings()
    assert child_env(demo, {})["PAPISHARES_DEMO_ALWAYS_OPEN"] == "true"
    assert child_env(demo, {"PAPISHARES_DEMO_ALWAYS_OPEN": "false"})["PAPISHARES_DEMO_ALWAYS_OPEN"] == "false"
    real = Settings(broker="t212", t212_env="demo")
    assert "PAPISHARES_DEMO_ALWAYS_OPEN" not in child_env(real, {})
