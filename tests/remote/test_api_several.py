"""The API's several-account rules as pure functions: the account named, the joined answers."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from papishares.config import load_settings
from papishares.remote.api import several
from papishares.ui.combined import Combined


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


def book(value: float, risk: float, missing: tuple[str, ...] = ()) -> Combined:
    return Combined("GBP", value, 10.0, 0.0, risk, 7.0, 3, (), missing)


def test_combined_json_is_the_cli_shape_and_names_what_was_left_out() -> None:
    assert several.combined_json(book(400, 3.5)) == {"currency": "GBP", "total_value": 400, "cash": 10.0,
                                                     "total_risk_pct": 3.5}
    assert several.combined_json(book(400, 3.5, ("isa",)))["left_out"] == ["isa"]


def payload(profits: list[float | None], auto: bool, stale: bool = False, age: float | None = 1.0) -> dict[str, Any]:
    return {"positions": [{"ticker": f"T{i}", "profit_pct": p} for i, p in enumerate(profits)], "auto_sell": auto,
            "total_risk_threshold": 7.0, "generated_at": "2026-12-01T10:00:00Z", "stale": stale, "age_seconds": age}


def test_positions_all_joins_names_sorts_and_says_what_is_missing() -> None:
    out = several.positions_all([("a", payload([1.0, None], True)), ("b", payload([5.0], False, True, 9.0))],
                                book(400, 3.5, ("c",)), {"c": "no data"})
    assert [(p["account_name"], p["profit_pct"]) for p in out["positions"]] == [("b", 5.0), ("a", 1.0), ("a", None)]
    assert out["total_risk"] == 3.5 and out["account"]["total_value"] == 400 and out["left_out_of_total"] == ["c"]
    assert out["auto_sell"] is False and out["auto_sell_accounts"] == {"a": True, "b": False}
    assert out["stale"] is True and out["age_seconds"] == 9.0 and "c: no data" in out["stale_reason"]


def test_journal_all_is_newest_first_across_accounts() -> None:
    row = lambda ts, action: {"ts": ts, "kind": "autosell", "ticker": None, "action": action, "message": ""}  # noqa: E731
    out = several.journal_all([("a", [row(3.5, "a2"), row(1.0, "a1")]), ("b", [row(3.7, "b1")])], 2)
    assert [(e["account_name"], e["action"]) for e in out["entries"]] == [("b", "b1"), ("a", "a2")]
