"""The real `python -m papishares dashboard` server as a child process, for the API tests and bench/bench_api.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Dashboard:
    url: str
    proc: subprocess.Popen[bytes]
    cwd: Path
    log: Path
    base: dict[str, str] = field(default_factory=dict)  # the configuration in `.env` (none in the environment)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def write_dotenv(self, **values: str) -> None:
        """The base configuration with `values` over it, in `.env`: the server reads it at every request."""
        merged = {**self.base, **values}
        (self.cwd / ".env").write_text("".join(f"{k}={v}\n" for k, v in merged.items()))

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("T212_", "PAPISHARES_", "TELEGRAM_", "DB_"))}
    env.update({"PYTHONPATH": str(ROOT), "PAPISHARES_REFRESH_SECONDS": "300", "PAPISHARES_LOG_LEVEL": "WARNING"})
    env.update(extra)
    return env


@contextmanager
def running_dashboard(cwd: Path, config: Mapping[str, str], timeout: float = 90.0) -> Iterator[Dashboard]:
    """Start `papishares dashboard` on a free 127.0.0.1 port in `cwd`, its configuration `config` in
    `cwd/.env` (so a test may change it between requests); yield once /healthz answers; stop it."""
    port = free_port()
    log = cwd / "dashboard.log"
    (cwd / ".env").write_text("".join(f"{k}={v}\n" for k, v in config.items()))
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "papishares", "dashboard", "--port", str(port),
                                 "--address", "127.0.0.1"], cwd=cwd, env=clean_env({}), stdout=out,
                                stderr=subprocess.STDOUT)
    dash = Dashboard(f"http://127.0.0.1:{port}", proc, cwd, log, dict(config))
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"papishares dashboard exited with {proc.returncode}:\n{dash.log_text()}")
            try:
                if httpx.get(dash.url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("papishares dashboard did not answer /healthz:\n" + dash.log_text())
            time.sleep(0.2)
        yield dash
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
