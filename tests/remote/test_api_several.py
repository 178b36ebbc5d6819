"""The API's several-account rules as pure functions: the account named, the joined answers."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from papishares.config import load_settings
from papishares.remote.api import several


def accounts(*names: str) -> tuple[Any, ...]:
    base = load_settings({}, dotenv_path=None)
    return tuple(replace(base, account=n, accounts=names) for n in names)


def test_pick() -> None:
    two = accounts("invest", "isa")
    assert several.pick(two, None) is None
    assert several.pick(two, "isa") is two[1]
    with pytest.raises(several.UnknownAccount, match="the accounts are invest, isa"):
        several.pick(two, "Invest")
    one = (load_settings({}, dotenv_path=None),)
    assert several.pick(one, None) is one[0] and several.pick(one, "invest") is one[0]
    with pytest.raises(several.UnknownAccount, match="the accounts are invest."):
        several.pick(one, "isa")


def snap(name: str, ccy: str, value: float, cash: float, risk: float) -> dict[str, Any]:
    return {"account_name": name, "account": {"currency": ccy, "total_value": value, "cash": cash},
            "total_risk_pct": risk}


def test_combined_totals_weigh_risk_and_leave_out_other_currencies() -> None:
    c = several.combined_totals([snap("a", "GBP", 9000, 100, 1.0), snap("b", "GBP", 1000, 50, 9.0),
                                 snap("c", "EUR", 5000, 0, 50.0)])
    assert (c["currency"], c["total_value"], c["cash"]) == ("GBP", 10000, 150)
    assert c["total_risk_pct"] == pytest.approx(1.8) and c["left_out"] == ["c"]
    assert several.combined_totals([])["total_value"] == 0.0


def payload(profits: list[float | None], auto: bool, stale: bool = False, age: float | None = 1.0) -> dict[str, Any]:
    return {"positions": [{"ticker": f"T{i}", "profit_pct": p} for i, p in enumerate(profits)], "auto_sell": auto,
            "total_risk_threshold": 7.0, "generated_at": "2026-12-01T10:00:00Z", "stale": stale, "age_seconds": age}


def test_positions_all_joins_names_sorts_and_says_what_is_missing() -> None:
    out = several.positions_all([("a", payload([1.0, None], True)), ("b", payload([5.0], False, True, 9.0))],
                                [snap("a", "GBP", 100, 0, 2.0), snap("b", "GBP", 300, 0, 4.0)], {"c": "no data"})
    assert [(p["account_name"], p["profit_pct"]) for p in out["positions"]] == [("b", 5.0), ("a", 1.0), ("a", None)]
    assert out["total_risk"] == pytest.approx(14 / 400 * 100)
    assert out["auto_sell"] is False and out["auto_sell_accounts"] == {"a": True, "b": False}
    assert out["stale"] is True and out["age_seconds"] == 9.0 and "c: no data" in out["stale_reason"]


def test_journal_all_is_newest_first_across_accounts() -> None:
    row = lambda ts, action: {"ts": ts, "kind": "autosell", "ticker": None, "action": action, "message": ""}  # noqa: E731
    out = several.journal_all([("a", [row(3.5, "a2"), row(1.0, "a1")]), ("b", [row(3.7, "b1")])], 2)
    assert [(e["account_name"], e["action"]) for e in out["entries"]] == [("b", "b1"), ("a", "a2")]
