"""`snapshot --json` against every real error shape: exit 3, one line on stderr, no traceback, no secret.

INTERFACE.md: 0; 2 on configuration error; 3 when the broker cannot be reached or rejects the key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.t212_server import FakeTrading212
from tests.snapshot.test_service import _cli

CASES = [  # (method, path, fault parameters, words the one line holds)
    ("GET", "/equity/account/summary", {"kind": "fixture", "fixture": "errors/unauthorized_message.json",
                                        "status": 401}, "T212_API_KEY"),
    ("GET", "/equity/positions", {"kind": "fixture", "fixture": "errors/forbidden_message.json", "status": 403},
     "portfolio"),
    ("GET", "/equity/positions", {"kind": "fixture", "fixture": "errors/html_502.html", "status": 502}, "HTTP 502"),
    ("GET", "/equity/account/summary", {"kind": "fixture", "fixture": "errors/empty.txt", "status": 500},
     "HTTP 500"),
    ("GET", "/equity/account/summary", {"kind": "fixture", "fixture": "errors/html_503.html", "status": 503},
     "HTTP 503"),
    ("GET", "/equity/positions", {"kind": "garbage"}, "not JSON"),
    ("GET", "/equity/account/summary", {"kind": "json", "status": 401,
                                        "body": {"code": "Unauthorized", "message": "Bad key {key}:{secret}"}},
     "T212_API_KEY"),
]


@pytest.mark.parametrize(("method", "path", "fault", "words"), CASES,
                         ids=[f"{c[1].rsplit('/', 1)[1]}-{c[2].get('fixture', c[2]['kind'])}" for c in CASES])
def test_snapshot_exit_3_with_one_clear_line(t212_server: FakeTrading212, tmp_path: Path, method: str, path: str,
                                             fault: dict, words: str) -> None:
    params = dict(fault)
    if isinstance(params.get("body"), dict):
        params["body"] = {k: v.format(key=t212_server.key, secret=t212_server.secret) for k, v in params["body"].items()}
    kind = params.pop("kind")
    t212_server.inject(method, path, kind, times=50, **params)
    proc = _cli(t212_server.env(str(tmp_path / "p.db")), tmp_path, "snapshot", "--json")
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert words in lines[0] and "Traceback" not in proc.stderr and "<" not in lines[0], lines[0]
    assert t212_server.key not in proc.stderr and t212_server.secret not in proc.stderr  # type: ignore[operator]


def test_snapshot_exit_2_on_a_configuration_error_even_with_a_broker(t212_server: FakeTrading212,
                                                                     tmp_path: Path) -> None:
    env = t212_server.env(str(tmp_path / "p.db")) | {"T212_ENV": "paper"}
    proc = _cli(env, tmp_path, "snapshot", "--json")
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "T212_ENV" in proc.stderr
    assert t212_server.count("GET", "/equity/positions") == 0
