"""History items (Trading 212 JSON) -> rows of hist_orders / hist_dividends / hist_transactions.

Each item is keyed by its broker id (order id, dividend / transaction `reference`), or, when the
broker gives none, by a hash of its content: storing the same item twice changes nothing. Any
field may be null or of the wrong type; a bad field costs that field, never the item or the page.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from papishares.core.numbers import finite
from papishares.store import history as history_store
from papishares.store.db import Store


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def timestamp(value: Any) -> float | None:
    """ISO 8601 (Z, millis, offsets) -> unix seconds; anything unreadable -> None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _hash(item: dict[str, Any]) -> str:
    return "h:" + hashlib.sha1(json.dumps(item, sort_keys=True, default=str).encode()).hexdigest()[:20]


def item_key(kind: str, item: dict[str, Any]) -> str:
    if kind == "orders":
        order = _obj(item.get("order")) or item
        for value in (order.get("id"), _obj(item.get("fill")).get("id")):
            if isinstance(value, int | str) and not isinstance(value, bool) and str(value):
                return str(value)
        return _hash(item)
    ref = item.get("reference")
    return str(ref) if isinstance(ref, int | str) and not isinstance(ref, bool) and str(ref) else _hash(item)


def order_row(item: dict[str, Any]) -> dict[str, Any]:
    """Both shapes: `{order, fill}` (the current spec) and the older flat one (fillPrice, dateExecuted)."""
    order = _obj(item.get("order")) or item
    fill = _obj(item.get("fill"))
    wallet = _obj(fill.get("walletImpact"))
    instrument = _obj(order.get("instrument"))
    quantity = finite(order.get("quantity"))
    filled = finite(fill.get("quantity"))
    if filled is None:
        filled = finite(order.get("filledQuantity"))
    side = (_text(order.get("side")) or "").upper() or None
    if side is None and quantity is not None:
        side = "SELL" if quantity < 0 else "BUY"
    if side is None and filled is not None:
        side = "SELL" if filled < 0 else "BUY"
    price = finite(fill.get("price"))
    if price is None:
        price = finite(item.get("fillPrice"))
    return {
        "id": item_key("orders", item),
        "ticker": _text(order.get("ticker")) or _text(instrument.get("ticker")),
        "side": side,
        "type": _text(order.get("type")),
        "status": _text(order.get("status")),
        "quantity": None if quantity is None else abs(quantity),
        "filled_quantity": None if filled is None else abs(filled),
        "price": price,
        "currency": _text(order.get("currency")) or _text(instrument.get("currency")),
        "filled_at": timestamp(fill.get("filledAt")) or timestamp(item.get("dateExecuted")),
        "created_at": timestamp(order.get("createdAt")) or timestamp(item.get("dateCreated")),
        "net_value": finite(wallet.get("netValue")),
        "realised_pnl": finite(wallet.get("realisedProfitLoss")),
        "fx_rate": finite(wallet.get("fxRate")),
        "initiated_from": _text(order.get("initiatedFrom")),
        "body": json.dumps(item, default=str),
    }


def dividend_row(item: dict[str, Any]) -> dict[str, Any]:
    instrument = _obj(item.get("instrument"))
    return {
        "id": item_key("dividends", item),
        "ticker": _text(item.get("ticker")) or _text(instrument.get("ticker")),
        "paid_on": timestamp(item.get("paidOn")),
        "amount": finite(item.get("amount")),
        "currency": _text(item.get("currency")),
        "quantity": finite(item.get("quantity")),
        "gross_per_share": finite(item.get("grossAmountPerShare")),
        "ticker_currency": _text(item.get("tickerCurrency")) or _text(instrument.get("currency")),
        "type": _text(item.get("type")),
        "body": json.dumps(item, default=str),
    }


def transaction_row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item_key("transactions", item),
        "type": (_text(item.get("type")) or "").upper() or None,
        "amount": finite(item.get("amount")),
        "currency": _text(item.get("currency")),
        "at": timestamp(item.get("dateTime")),
        "body": json.dumps(item, default=str),
    }


TABLES = {"orders": ("hist_orders", order_row), "dividends": ("hist_dividends", dividend_row),
          "transactions": ("hist_transactions", transaction_row)}


def store_items(store: Store, kind: str, items: list[dict[str, Any]]) -> int:
    """Upsert the items (joining the caller's transaction). Returns how many were new."""
    _, to_row = TABLES[kind]
    return history_store.upsert_items(store, kind, (to_row(item) for item in items))
