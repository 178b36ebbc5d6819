"""`python -m papishares run` (what `make run` starts): the dashboard and the worker, side by side.

One command for a newcomer: `python -m papishares dashboard` (the pages and the JSON API on one port)
and `python -m papishares worker` as two child processes. SIGINT/SIGTERM are forwarded to both; when either child dies the other is stopped and
the supervisor says which one ended. A child that does not stop within STOP_GRACE is killed, and on
Linux each child gets SIGTERM should the supervisor itself die (no orphans).

On the built-in demo broker (no keys) `PAPISHARES_DEMO_ALWAYS_OPEN` defaults to true for both
children, so stops, alerts and the worker's decisions show at any hour. The auto-sell flag is never
touched: it stays off until the user turns it on (the journal then shows "Not sold: auto-sell is
off" for every breach).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from papishares.config import Settings

STOP_GRACE = 8.0  # s a child gets after the forwarded signal before it is killed
POLL = 0.2


def home_py() -> Path:
    """Home.py of this checkout (the package sits next to it), else the working directory's."""
    beside = Path(__file__).resolve().parents[2] / "Home.py"
    return beside if beside.is_file() else Path("Home.py").resolve()


def child_env(settings: Settings, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The children's environment: the caller's, plus the demo's always-open markets when on the demo."""
    env = dict(os.environ if environ is None else environ)
    if settings.environment == "demo-sim" and not env.get("PAPISHARES_DEMO_ALWAYS_OPEN", "").strip():
        env["PAPISHARES_DEMO_ALWAYS_OPEN"] = "true"
    return env


def commands(port: int | None = None, address: str | None = None,
             worker_args: Sequence[str] = ()) -> dict[str, list[str]]:
    dashboard = [sys.executable, "-m", "papishares", "dashboard"]
    if port is not None:
        dashboard.append(f"--port={port}")
    if address is not None:
        dashboard.append(f"--address={address}")
    return {"dashboard": dashboard, "worker": [sys.executable, "-m", "papishares", "worker", *worker_args]}


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _say(text: str) -> None:
    print(f"papishares run: {text}", file=sys.stderr, flush=True)


def run(settings: Settings, port: int | None = None, address: str | None = None,
        worker_args: Sequence[str] = ()) -> int:
    """Start both, wait; 0 after a requested stop, 1 when a child ended by itself."""
    env = child_env(settings)
    if env.get("PAPISHARES_DEMO_ALWAYS_OPEN") == "true" and settings.environment == "demo-sim":
        _say("demo broker (no T212_API_KEY): every demo market kept open (PAPISHARES_DEMO_ALWAYS_OPEN)")
    stop_requested: list[int] = []

    def on_signal(signum: int, _frame: Any) -> None:
        stop_requested.append(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    children: dict[str, subprocess.Popen[bytes]] = {}
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    try:
        for name, argv in commands(port, address, worker_args).items():
            # Own process group: a terminal's Ctrl-C reaches the supervisor only, which forwards it
            # once (a second SIGINT mid-shutdown could interrupt Streamlit's own clean stop).
            children[name] = subprocess.Popen(argv, env=env, preexec_fn=preexec,  # noqa: PLW1509
                                              process_group=0)
        _say(f"dashboard (pid {children['dashboard'].pid}) and worker (pid {children['worker'].pid}) "
             "started; Ctrl-C stops both")
        ended: str | None = None
        while not stop_requested and ended is None:
            for name, proc in children.items():
                if proc.poll() is not None:
                    ended = name
                    break
            else:
                time.sleep(POLL)
        if ended is not None:
            code = children[ended].returncode
            others = [n for n in children if n != ended]
            _say(f"the {ended} exited (code {code}); stopping the {' and '.join(others)}")
        sig = stop_requested[0] if stop_requested else signal.SIGTERM
        _stop_all(children, sig)
        return 0 if ended is None else 1
    finally:
        _stop_all(children, signal.SIGTERM)
        for s, handler in previous.items():
            signal.signal(s, handler)


def _stop_all(children: dict[str, subprocess.Popen[bytes]], sig: int) -> None:
    """Forward `sig` to every child still running, wait STOP_GRACE, kill what is left."""
    for proc in children.values():
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
    deadline = time.monotonic() + STOP_GRACE
    for name, proc in children.items():
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _say(f"the {name} did not stop within {STOP_GRACE:g} s: killed")
            proc.kill()
            proc.wait()
