"""The typed results as plain JSON values: what scripts (and an HTTP API) get."""

from __future__ import annotations

import json
from pathlib import Path

from papishares.commands import autosell
from papishares.commands.chart import Chart
from papishares.commands.health import worker_health
from papishares.commands.positions import positions_view
from papishares.commands.render_json import plain
from papishares.commands.status import status
from papishares.config import Settings
from papishares.store.db import Store
from tests.notify.test_rules import position, snapshot


def test_results_become_plain_json(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.db")
    snap = snapshot(position())
    now = snap.generated_at.timestamp()
    settings = Settings(db_path=tmp_path / "p.db")
    view = plain(positions_view(snap, now))
    assert view["rows"][0]["ticker"] == "TSLA_US_EQ" and view["rows"][0]["stop"] == 206.0
    assert view["data"]["moment"].endswith("Z") and view["data"]["age_seconds"] == 0.0
    s = plain(status(settings, store, snap, now))
    assert s["autosell"] is False and s["account"]["positions"] == 1
    assert s["worker"] == worker_health(store, settings, now).to_json()  # the health contract's shape
    assert plain(autosell.switch(store, True)) == {"enabled": True}
    assert plain(Chart(position(), b"\x89PNG"))["png"] is None
    json.dumps([view, s])  # nothing left that json cannot write
