"""The JSON API over several accounts: which account a request names, and the answers that join them.

Pure functions over each account's payload (as one account's endpoint renders it). Without
`?account=N` the answers join every account, as the CLI does: `/positions` lists every account's
positions, each with `account_name`, and `total_risk` is the whole book's (risk amounts over values,
in the first account's currency); `/api/v1/snapshot` is `snapshot --json`'s several-account shape.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from papishares.commands.api_queries import journal_payload
from papishares.config import Settings
from papishares.ui.combined import Combined


class UnknownAccount(ValueError):
    """`?account=` names no configured account: a 400 with this sentence (it names the accounts)."""


def pick(accounts: tuple[Settings, ...], name: str | None) -> Settings | None:
    """The account `?account=` names (None: every account; with one account that one). UnknownAccount."""
    if name is None:
        return accounts[0] if len(accounts) == 1 else None
    for a in accounts:
        if a.account_name == name:
            return a
    names = ", ".join(a.account_name for a in accounts)
    raise UnknownAccount(f"There is no account named {name!r}: the accounts are {names}.")


def combined_json(combined: Combined) -> dict[str, Any]:
    """`combined` of `snapshot --json` with several accounts (and `left_out`: the accounts not added)."""
    out: dict[str, Any] = {"currency": combined.currency or None, "total_value": combined.total_value,
                           "cash": combined.cash, "total_risk_pct": combined.total_risk_pct}
    if combined.missing:
        out["left_out"] = list(combined.missing)
    return out


def snapshot_all(generated_at: str, snapshots: Sequence[Mapping[str, Any]], combined: Combined,
                 missing: Mapping[str, str]) -> dict[str, Any]:
    """Every account's snapshot object (each with `account_name`) and the combined totals. `missing`:
    the accounts with no snapshot at all yet, and why."""
    out: dict[str, Any] = {"generated_at": generated_at, "accounts": list(snapshots),
                           "combined": combined_json(combined)}
    if missing:
        out["missing"] = dict(missing)
    return out


def _profit(p: Mapping[str, Any]) -> float:
    x = p.get("profit_pct")
    return x if isinstance(x, int | float) and math.isfinite(x) else -math.inf


def positions_all(payloads: Sequence[tuple[str, Mapping[str, Any]]], book: Combined,
                  missing: Mapping[str, str]) -> dict[str, Any]:
    """`/positions` for every account: one account's `/positions` payload per name, joined."""
    positions = [{**p, "account_name": name} for name, body in payloads for p in body["positions"]]
    combined = combined_json(book)
    flags = {name: bool(body["auto_sell"]) for name, body in payloads}
    ages = [body["age_seconds"] for _, body in payloads if body.get("age_seconds") is not None]
    out: dict[str, Any] = {
        "positions": sorted(positions, key=_profit, reverse=True),
        "total_risk": combined["total_risk_pct"],
        "total_risk_threshold": payloads[0][1]["total_risk_threshold"] if payloads else None,
        "auto_sell": bool(flags) and all(flags.values()),
        "auto_sell_accounts": flags,
        "account": {k: combined[k] for k in ("currency", "total_value", "cash")},
        "accounts": [name for name, _ in payloads],
        "generated_at": max((body["generated_at"] for _, body in payloads), default=None),
        "stale": bool(missing) or any(body["stale"] for _, body in payloads),
        "age_seconds": max(ages) if ages else None,
    }
    reasons = [f"{name}: {body['stale_reason']}" for name, body in payloads if body.get("stale_reason")]
    reasons += [f"{name}: {why}" for name, why in missing.items()]
    if reasons:
        out["stale_reason"] = " ".join(reasons)
    if "left_out" in combined:
        out["left_out_of_total"] = combined["left_out"]
    return out


def named_rows(parts: Sequence[tuple[str, Sequence[Mapping[str, Any]]]]) -> list[dict[str, Any]]:
    """Rows of every account (orders), each with its `account_name`, in account order."""
    return [{**row, "account_name": name} for name, rows in parts for row in rows]


def journal_all(parts: Sequence[tuple[str, Sequence[Mapping[str, Any]]]], limit: int) -> dict[str, Any]:
    """Every account's journal rows (as the store gives them, with their `ts`), newest first, at most
    `limit`, in the endpoint's shape with each entry's `account_name`."""
    rows = sorted(((float(r["ts"]), name, r) for name, found in parts for r in found), key=lambda x: x[0],
                  reverse=True)[:limit]
    shaped = journal_payload([r for _, _, r in rows])["entries"]
    return {"entries": [{**e, "account_name": name} for e, (_, name, _) in zip(shaped, rows, strict=True)]}


def trades_all(parts: Sequence[tuple[str, Sequence[Mapping[str, Any]]]], summary: Mapping[str, Any]) -> dict[str, Any]:
    """Every account's closed trades, each with its `account`, and the summary over all of them."""
    return {"trades": [{**t, "account": name} for name, trades in parts for t in trades], "summary": dict(summary)}
