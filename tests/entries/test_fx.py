"""FX into the account currency: pairs from the batched bars, cached in SQLite, demo fixed rates."""

from __future__ import annotations

import pandas as pd
import pytest

from papishares.core.models import Bars
from papishares.entries import fx
from papishares.store.db import Store


def pair_bars(**closes: float) -> Bars:
    idx = pd.bdate_range("2025-01-01", periods=3, name="Date")
    frames = {sym.replace("_", "="): pd.DataFrame({"Open": v, "High": v, "Low": v, "Close": [v * 0.9, v * 0.95, v]},
                                                  index=idx) for sym, v in closes.items()}
    return Bars.from_frames(frames, "test")


def test_pair_requests_map_pence_to_pounds_and_skip_the_account_currency() -> None:
    reqs = fx.pair_requests(["GBX", "USD", "GBP", "EUR", "USD"], "GBP")
    assert [r.symbol for r in reqs] == ["EURGBP=X", "USDGBP=X"]
    assert fx.main_unit("GBX") == ("GBP", 0.01) and fx.main_unit("GBp") == ("GBP", 0.01)


def test_rates_from_fresh_pairs_are_cached_and_reused(tmp_path) -> None:
    store = Store(tmp_path / "db.sqlite")
    got = fx.resolve(["USD", "GBX", "GBP"], "GBP", bars=pair_bars(USDGBP_X=0.8), store=store, now=1000.0)
    assert got.rate("USD") == pytest.approx(0.8)
    assert got.rate("GBX") == pytest.approx(0.01)
    assert got.rate("GBP") == 1.0
    assert got.notes == []
    later = fx.resolve(["USD"], "GBP", bars=Bars.empty(), store=store, now=2000.0)
    assert later.rate("USD") == pytest.approx(0.8) and later.notes == []
    old = fx.resolve(["USD"], "GBP", bars=None, store=store, now=1000.0 + 10 * 86400)
    assert old.rate("USD") == pytest.approx(0.8)
    assert "days old" in old.notes[0]


def test_gbx_into_a_usd_account_goes_through_the_gbp_pair(tmp_path) -> None:
    got = fx.resolve(["GBX"], "USD", bars=pair_bars(GBPUSD_X=1.25), store=Store(tmp_path / "db.sqlite"))
    assert got.rate("GBX") == pytest.approx(0.0125)


def test_without_any_quote_a_fixed_rate_is_used_and_said(tmp_path) -> None:
    got = fx.resolve(["USD", "JPY"], "GBP", bars=Bars.empty(), store=Store(tmp_path / "db.sqlite"))
    assert got.rate("USD") == pytest.approx(0.79)
    assert got.rate("JPY") is None
    assert any("approximate" in n for n in got.notes)
    assert any("JPY" in n for n in got.notes)


def test_demo_uses_the_simulation_table() -> None:
    got = fx.resolve(["USD", "EUR", "GBX"], "GBP", demo=True)
    assert got.rates == {"EUR": 0.85, "GBX": 0.01, "USD": 0.79}
