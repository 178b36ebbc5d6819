"""The JSON API's answers as plain data, built from what the CLI and the dashboard already hold.

Pure functions over a Snapshot, store rows and flags: no broker, no store, no Streamlit. The web
layer (papishares/remote/api) fetches the inputs from the dashboard's shared cache and renders
these dicts; nothing here computes a stop (the snapshot carries every number).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from papishares.core.models import Snapshot


def json_safe(value: Any) -> Any:
    """NaN and infinities become null (JSON has no spelling for them); containers are walked."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def freshness(snapshot: Snapshot, problem: str | None, age_seconds: float | None) -> dict[str, Any]:
    """`stale` (the broker could not be asked: this is the last good snapshot) and the data's age."""
    stale = bool(snapshot.stale or problem)
    extra: dict[str, Any] = {"stale": stale,
                             "age_seconds": None if age_seconds is None else round(age_seconds, 1)}
    if stale:
        extra["stale_reason"] = problem or snapshot.broker_note
    return extra


def snapshot_payload(snapshot: Snapshot, problem: str | None = None, age_seconds: float | None = None,
                     whole: dict[str, Any] | None = None) -> dict[str, Any]:
    """`snapshot --json`, plus whether it is stale and how old it is. `whole`: `rendered(snapshot)`
    made earlier for this very snapshot (the caller may keep it: rendering is the costly part)."""
    return {**(whole if whole is not None else rendered(snapshot)), **freshness(snapshot, problem, age_seconds)}


def rendered(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot JSON with NaN and infinities as null."""
    return json_safe(snapshot.to_json())


def positions_payload(snapshot: Snapshot, auto_sell: bool, problem: str | None = None,
                      age_seconds: float | None = None, whole: dict[str, Any] | None = None) -> dict[str, Any]:
    """The seed's `/positions`: every snapshot field of each position, highest `profit_pct` first."""
    whole = whole if whole is not None else rendered(snapshot)
    return {
        "positions": sorted(whole["positions"], key=lambda p: _number(p["profit_pct"]), reverse=True),
        "total_risk": whole["total_risk_pct"],
        "total_risk_threshold": whole["total_risk_threshold_pct"],
        "auto_sell": auto_sell,
        "account": whole["account"],
        "generated_at": whole["generated_at"],
        **freshness(snapshot, problem, age_seconds),
    }


def _number(x: float | None) -> float:
    return x if x is not None and math.isfinite(x) else -math.inf


def orders_payload(snapshot: Snapshot, managed: Iterable[int], names: Mapping[str, str],
                   currencies: Mapping[str, str]) -> list[dict[str, Any]]:
    """The seed's `/orders`: pending orders, `quantity` as Trading 212 gives it, prices null where the
    order type has none, `managed` true for the orders Papishares keeps."""
    kept = set(managed)
    held = {p.ticker: p for p in snapshot.positions}
    rows = []
    for o in snapshot.orders:
        view = held.get(o.ticker)
        kind = o.type.upper()
        rows.append({
            "id": o.id,
            "ticker": o.ticker,
            "name": view.name if view else names.get(o.ticker, o.ticker),
            "currency": o.currency or (view.currency if view else currencies.get(o.ticker)),
            "type": o.type,
            "side": "SELL" if o.is_sell else "BUY",
            "quantity": o.quantity,
            "filled_quantity": o.filled_quantity,
            "limit_price": o.limit_price if kind in ("LIMIT", "STOP_LIMIT") else None,
            "stop_price": o.stop_price if kind in ("STOP", "STOP_LIMIT") else None,
            "status": o.status,
            "managed": o.id in kept,
        })
    return json_safe(rows)


def journal_payload(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """`/api/v1/journal`: the journal rows (newest first, as the store gives them) in the contract's shape."""
    return {"entries": [{
        "at": datetime.fromtimestamp(float(r["ts"]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "kind": r["kind"],
        "ticker": r["ticker"],
        "action": r["action"],
        "message": r["message"],
    } for r in rows]}
