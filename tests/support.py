"""Waiting helpers shared by tests and benchmarks that drive real processes."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable
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
