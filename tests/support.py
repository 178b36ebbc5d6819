"""Waiting helpers shared by tests and benchmarks that drive real processes."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, step: float = 0.05) -> Any:
    """Poll `condition` until it returns something truthy; return that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout:g} s")


def wait_healthy(url: str, proc: subprocess.Popen[Any] | None = None, timeout: float = 60) -> None:
    """Wait until a Streamlit server at `url` answers `/_stcore/health` with ok."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("streamlit did not become healthy")


def start_worker(env_for_server: dict[str, str], cwd: str) -> subprocess.Popen[str]:
    """`python -m papishares worker` as its own process, with only the given Papishares settings
    (the caller's T212_/TELEGRAM_/PAPISHARES_ variables are dropped), market data off."""
    import os
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("T212_", "TELEGRAM_", "PAPISHARES_"))}
    env.update(env_for_server, PAPISHARES_MARKET_DATA="none", PAPISHARES_LOG_LEVEL="WARNING")
    return subprocess.Popen([sys.executable, "-m", "papishares", "worker"], env=env, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def stop_worker(proc: subprocess.Popen[str]) -> str:
    """SIGTERM, wait, and return what the worker wrote on stderr."""
    import signal

    proc.send_signal(signal.SIGTERM)
    return proc.communicate(timeout=10)[1]


@contextmanager
def streamlit_app(home: Path, env: dict[str, str], port: int) -> Iterator[str]:
    """`streamlit run Home.py` headless on 127.0.0.1:`port`, started in `home` (its log in
    home/streamlit.log); yields its URL once healthy, and stops it afterwards."""
    import sys

    root = Path(__file__).resolve().parents[1]
    log = open(home / "streamlit.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(root / "Home.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
