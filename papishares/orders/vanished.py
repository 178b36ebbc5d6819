"""Why a managed stop left `/equity/orders` without a fill: expired, or cancelled by the user?

Sources disagree: the spec says a GOOD_TILL_CANCEL order lives until filled or cancelled by you,
the Trading 212 notes say its lifetime is undocumented and an order may also expire, and the
status enum has no EXPIRED (new values appear over time). Both readings are built for:
- an expiry marker anywhere (a status such as EXPIRED, or "expir..." in any text of the item, even
  beside CANCELLED / REJECTED) -> EXPIRED: placed again, the position stays protected;
- anything else (CANCELLED, REJECTED, nothing on record) -> USER: as INTERFACE.md says of a managed
  stop that disappears without a fill, "cancelled outside Papishares": left out until taken back in.
  Without proof of an expiry, a stop the user removed is never put back behind their back.
Evidence, cheapest first: the history the worker synced (`hist_orders`), then the newest page of
`/equity/history/orders` (budgeted, read once per cycle for every stop gone).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from papishares.broker import Broker
from papishares.broker.t212_history import first_request
from papishares.store import history as history_store
from papishares.store.db import Store

log = logging.getLogger(__name__)

EXPIRED, USER = "expired", "user"


def classify(status: str | None, texts: list[str]) -> str:
    upper = (status or "").upper()
    if "EXPIR" in upper or any("expir" in t.lower() for t in texts):
        return EXPIRED
    return USER


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _order_of(item: dict[str, Any]) -> dict[str, Any]:
    """The order inside a history item (`{"order": {...}, "fill": ...}`), or the item itself."""
    inner = item.get("order")
    return inner if isinstance(inner, dict) else item


def _from_item(item: dict[str, Any]) -> tuple[str | None, list[str]]:
    order = _order_of(item)
    status = order.get("status") if isinstance(order.get("status"), str) else None
    return status, _strings(item)


def first_page_reader(broker: Broker) -> Callable[[], list[dict[str, Any]] | None]:
    """The newest page of `/equity/history/orders`, fetched at most once per reader (one per cycle,
    whatever the number of stops gone) on a free rate-limit slot only; None when it cannot be read now."""
    cache: list[list[dict[str, Any]] | None] = []

    def read() -> list[dict[str, Any]] | None:
        if not cache:
            cache.append(_fetch_first_page(broker))
        return cache[0]

    return read


def _fetch_first_page(broker: Broker) -> list[dict[str, Any]] | None:
    try:
        page = broker.history_page("orders", first_request("orders"), patience=0.0)
    except Exception as err:  # noqa: BLE001 - rate-limited, down: decided with fresher evidence later
        log.info("orders history not readable now: %s", type(err).__name__)
        return None
    return [i for i in page.items if isinstance(i, dict)]


def evidence(store: Store, order_id: int, newest_history: Callable[[], list[dict[str, Any]] | None]
             ) -> tuple[str | None, list[str]] | None:
    """(status, every text) of what the broker says about `order_id`, from the history the worker
    synced, else the newest history page; (None, []) when it says nothing; None when the history
    could not be read now (ask again next cycle)."""
    row = history_store.order(store, str(order_id))
    if row:
        return _from_item(json.loads(row["body"] or "{}")) if row["body"] else (row["status"], [])
    items = newest_history()
    if items is None:
        return None
    for item in items:
        if str(_order_of(item).get("id")) == str(order_id):
            return _from_item(item)
    return None, []
