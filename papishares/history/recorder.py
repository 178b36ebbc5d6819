"""What the service records for history at each snapshot save: the day's account point and each
new position's initial risk. Both are single upserts, cheap enough for every snapshot."""

from __future__ import annotations

import logging
from typing import Any

from papishares.core.models import Snapshot
from papishares.store import history as history_store
from papishares.store.db import Store

log = logging.getLogger(__name__)


def record_snapshot(store: Store, snapshot: Snapshot) -> None:
    """Never raises: history bookkeeping must not cost a snapshot."""
    if snapshot.stale:
        return
    try:
        _daily_point(store, snapshot)
        _initial_risks(store, snapshot)
    except Exception:  # noqa: BLE001 - a history table problem is logged, the snapshot goes on
        log.warning("history not recorded for this snapshot", exc_info=True)


def _daily_point(store: Store, snap: Snapshot) -> None:
    acc = snap.account
    history_store.record_day(store, snap.generated_at.date().isoformat(), acc.total_value, acc.cash,
                             round(acc.total_value - acc.cash, 2), snap.total_risk_pct,
                             snap.total_risk_threshold_pct, acc.currency, snap.generated_at.timestamp())


def _initial_risks(store: Store, snap: Snapshot) -> None:
    """The first look at each position (ticker + broker opening time) keeps its risk in account
    currency: (average price - first effective stop) x quantity x fx, or its whole value without a
    stop, as total risk counts it. A price held for confirmation (units) is not a first look."""
    if not snap.positions:
        return
    opened = {t: s.get("opened_at") for t, s in store.position_states().items()}
    now = snap.generated_at.timestamp()
    rows: list[tuple[Any, ...]] = []
    for p in snap.positions:
        opened_at = opened.get(p.ticker)
        if p.price_suspect or p.fx is None or opened_at is None:
            continue
        risk = p.risk if p.risk and p.risk > 0 else None
        rows.append((p.ticker, float(opened_at), now, p.average_price, p.effective_stop, p.quantity, p.fx,
                     None if risk is None else round(risk, 4), snap.account.currency))
    history_store.add_initial_risks(store, rows)
