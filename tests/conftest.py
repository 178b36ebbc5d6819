"""General-purpose fixtures: a real fake Trading 212 server, settings and a store pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from papishares.config import Secret, Settings
from papishares.store.db import Store
from tests.fakes.t212_server import FakeTrading212


@pytest.fixture
def t212_server() -> Iterator[FakeTrading212]:
    """The fake Trading 212 on a free port with the default scenario.

    At teardown it asserts that no request broke a rate limit: normal use of the client must
    never exceed one. A test that breaks limits on purpose sets `t212_server.allow_violations`.
    It also asserts that no request and no ordinary answer broke the published OpenAPI spec
    (tests/fakes/t212_spec.py); a test that sends what the spec forbids on purpose sets
    `t212_server.allow_spec_violations`.
    """
    with FakeTrading212.running() as server:
        yield server
        if not server.allow_violations:
            assert server.violations_total == 0, f"rate limits exceeded: {dict(server.violations)}"
        if not server.allow_spec_violations:
            assert server.spec_violations == [], "the Trading 212 spec was broken:\n" + "\n".join(
                server.spec_violations[:10])


def t212_settings_for(server: FakeTrading212, db_path: Path, **overrides: object) -> Settings:
    """Settings for a Trading 212 client talking to `server` (demo environment unless overridden)."""
    values: dict[str, object] = {
        "t212_api_key": Secret(server.key),
        "t212_secret_key": Secret(server.secret) if server.secret and not server.legacy else None,
        "t212_env": "demo",
        "t212_api_base": server.base_url,
        "broker": "t212",
        "market_data": "none",
        "db_path": db_path,
        "http_timeout": 2.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def t212_settings(t212_server: FakeTrading212, tmp_path: Path) -> Settings:
    return t212_settings_for(t212_server, tmp_path / "papishares.db")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh SQLite store in this test's tmp_path (the same file `t212_settings.db_path` names)."""
    s = Store(tmp_path / "papishares.db")
    yield s
    s.close()
