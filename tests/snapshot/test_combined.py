"""Several accounts as one book: sums in the first account's currency, risk as a share of the sum."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from papishares.core.models import Account, Snapshot
from papishares.snapshot.combined import Combined, MissingRate, combine, currencies, several_json

AT = datetime(2026, 3, 2, 12, tzinfo=UTC)


def _snap(currency: str, value: float, cash: float, risk_pct: float, name: str = "") -> Snapshot:
    return Snapshot(AT, "demo-sim", Account(currency, value, cash), (), (), risk_pct, 7.0, account_name=name)


@pytest.mark.parametrize(("values", "risks"), list(itertools.product(
    [(10_000.0, 5_000.0), (1.0, 99_999.0), (0.0, 100.0), (250.5, 250.5)], [(0.0, 0.0), (7.0, 0.0), (3.5, 12.25)])))
def test_same_currency_sums_and_weights_risk_by_value(values: tuple[float, float], risks: tuple[float, float]) -> None:
    snaps = [_snap("GBP", v, v / 10, r) for v, r in zip(values, risks, strict=True)]
    got = combine(snaps)
    total = sum(values)
    assert got.currency == "GBP" and got.total_value == pytest.approx(total)
    assert got.cash == pytest.approx(total / 10, abs=0.01)
    expected = sum(v * r for v, r in zip(values, risks, strict=True)) / total if total else 0.0
    assert got.total_risk_pct == pytest.approx(expected, abs=1e-4)
    assert min(risks) - 1e-4 <= got.total_risk_pct <= max(risks) + 1e-4 or total == 0


def test_one_account_is_its_own_numbers() -> None:
    assert combine([_snap("EUR", 1234.5, 34.5, 4.2)]) == Combined("EUR", 1234.5, 34.5, 4.2)


def test_other_currencies_convert_into_the_first_accounts() -> None:
    snaps = [_snap("GBP", 1000.0, 100.0, 10.0), _snap("EUR", 2000.0, 200.0, 5.0)]
    assert currencies(snaps) == ("EUR",)
    got = combine(snaps, {"EUR": 0.85})
    assert got == Combined("GBP", 2700.0, 270.0, round(100 * (100 + 85) / 2700, 4))
    with pytest.raises(MissingRate, match="EUR into GBP"):
        combine(snaps)


def test_zero_value_has_zero_risk() -> None:
    assert combine([_snap("GBP", 0.0, 0.0, 0.0), _snap("GBP", 0.0, 0.0, 0.0)]).total_risk_pct == 0.0


def test_the_several_accounts_object() -> None:
    snaps = [_snap("GBP", 10.0, 1.0, 1.0, "invest"), _snap("GBP", 20.0, 2.0, 2.0, "isa")]
    data = several_json(snaps, combine(snaps), AT)
    assert list(data) == ["generated_at", "accounts", "combined"] and data["generated_at"] == "2026-03-02T12:00:00Z"
    assert [a["account_name"] for a in data["accounts"]] == ["invest", "isa"]
    assert data["combined"] == {"currency": "GBP", "total_value": 30.0, "cash": 3.0, "total_risk_pct": 1.6667}


def test_a_snapshot_round_trips_its_account_name() -> None:
    snap = _snap("GBP", 10.0, 1.0, 1.0, "isa")
    assert Snapshot.from_json(snap.to_json()) == snap
    old = snap.to_json()
    del old["account_name"]  # kept before snapshots named their account
    assert Snapshot.from_json(old).account_name == ""
