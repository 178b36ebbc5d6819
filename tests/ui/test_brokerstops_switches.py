"""The dashboard's broker-stop switches act through the command layer, as `papishares brokerstops` does."""

from __future__ import annotations

from pathlib import Path

from papishares.commands import brokerstops
from papishares.demo import simulation
from papishares.store.db import Store
from tests.ui.conftest import open_page


def test_the_settings_switch_saves_the_setting_for_every_process(ui_env: Path) -> None:
    at = open_page("pages/6_Settings.py")
    assert not at.exception and at.toggle(key="broker_stops_toggle").value is False
    at.toggle(key="broker_stops_toggle").set_value(True).run()
    assert not at.exception
    s = brokerstops.status(Store(ui_env), environment_on=False)
    assert s.on and s.set_on_dashboard
    at.run()
    assert any(c.value.startswith("on (set on the dashboard)") for c in at.code)
    next(b for b in at.button if b.label == "Use the environment's value").click().run()
    assert not at.exception and not brokerstops.status(Store(ui_env), environment_on=False).set_on_dashboard


def test_a_position_left_out_and_taken_back_on_the_positions_page(ui_env: Path) -> None:
    ticker = simulation.held()[0].ticker
    at = open_page("pages/1_Positions.py")
    assert not at.exception and at.toggle(key=f"bs_{ticker}").value is True
    at.toggle(key=f"bs_{ticker}").set_value(False).run()
    assert not at.exception
    left = brokerstops.status(Store(ui_env), environment_on=False).left_out
    assert [(x.ticker, x.reason) for x in left] == [(ticker, "switched off on the Positions page")]
    assert at.toggle(key=f"bs_{ticker}").value is False
    at.toggle(key=f"bs_{ticker}").set_value(True).run()
    assert not at.exception and brokerstops.status(Store(ui_env), environment_on=False).left_out == ()
