"""Trading 212 JSON -> models. Every shape problem becomes `MalformedResponse`, never a KeyError.

Kept apart from the HTTP client so the shapes can be tested (and reused by the fake server's
tests) without any network.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from typing import Any

from papishares.errors import MalformedResponse
from papishares.models import Account, BrokerPosition, Exchange, Instrument, Order, TimeEvent


class _Shape(Exception):
    """Internal: a field is missing or has the wrong type (turned into MalformedResponse)."""


def loads(text: str, what: str) -> Any:
    """Decode a JSON body; a non-JSON body is a MalformedResponse naming the endpoint."""
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        raise MalformedResponse(f"Trading 212 answered {what} with a body that is not JSON") from None


def _obj(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Shape(f"{field} is not an object")
    return value


def _list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Shape(f"{field} is not a list")
    return value


def _num(d: dict[str, Any], field: str, default: float | None = None, required: bool = True) -> float | None:
    value = d.get(field)
    if value is None:
        if required and default is None:
            raise _Shape(f"field {field!r} is missing")
        return default
    # bool is an int subclass: a boolean where a number belongs is a broken body
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Shape(f"field {field!r} is not a number")
    return float(value)


def _req_num(d: dict[str, Any], field: str) -> float:
    value = _num(d, field)
    assert value is not None
    return value


def _str(d: dict[str, Any], field: str, required: bool = True) -> str | None:
    value = d.get(field)
    if value is None:
        if required:
            raise _Shape(f"field {field!r} is missing")
        return None
    if not isinstance(value, str):
        raise _Shape(f"field {field!r} is not a string")
    return value


def _req_str(d: dict[str, Any], field: str) -> str:
    value = _str(d, field)
    assert value is not None
    return value


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 (with `Z`, millis or an offset) -> aware UTC datetime; None stays None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _Shape("a date is not a string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _Shape(f"bad date {value[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _guard(what: str, build: Any, data: Any) -> Any:
    try:
        return build(data)
    except _Shape as exc:
        raise MalformedResponse(f"Trading 212 answered {what} with an unexpected shape: {exc}") from None


def parse_account(data: Any, what: str = "GET /equity/account/summary") -> Account:
    def build(d: Any) -> Account:
        d = _obj(d, "summary")
        cash = _obj(d.get("cash") or {}, "cash")
        inv = _obj(d.get("investments") or {}, "investments")
        return Account(
            currency=_req_str(d, "currency"),
            total_value=_req_num(d, "totalValue"),
            cash=_num(cash, "availableToTrade", default=0.0) or 0.0,
            invested=_num(inv, "currentValue", required=False),
            unrealised_pnl=_num(inv, "unrealizedProfitLoss", required=False),
            realised_pnl=_num(inv, "realizedProfitLoss", required=False),
        )

    return _guard(what, build, data)


def _position(d: Any) -> BrokerPosition:
    d = _obj(d, "position")
    inst = _obj(d.get("instrument"), "instrument")
    wallet = _obj(d.get("walletImpact"), "walletImpact")
    quantity = _req_num(d, "quantity")
    return BrokerPosition(
        ticker=_req_str(inst, "ticker"),
        name=_str(inst, "name", required=False) or _req_str(inst, "ticker"),
        currency=_req_str(inst, "currency"),
        quantity=quantity,
        quantity_available=_num(d, "quantityAvailableForTrading", default=quantity) or 0.0,
        current_price=_req_num(d, "currentPrice"),
        average_price=_req_num(d, "averagePricePaid"),
        wallet_currency=_req_str(wallet, "currency"),
        wallet_current_value=_req_num(wallet, "currentValue"),
        wallet_total_cost=_num(wallet, "totalCost", required=False),
        unrealised_pnl=_num(wallet, "unrealizedProfitLoss", required=False),
        created_at=parse_datetime(d.get("createdAt")),
    )


def parse_positions(data: Any, what: str = "GET /equity/positions") -> list[BrokerPosition]:
    return _guard(what, lambda d: [_position(p) for p in _list(d, "positions")], data)


def _order(d: Any) -> Order:
    d = _obj(d, "order")
    inst = d.get("instrument")
    ticker = _str(d, "ticker", required=False)
    if ticker is None and isinstance(inst, dict):
        ticker = _str(inst, "ticker", required=False)
    if ticker is None:
        raise _Shape("order without ticker")
    order_id = d.get("id")
    if isinstance(order_id, bool) or not isinstance(order_id, int):
        raise _Shape("order id is not an integer")
    currency = _str(d, "currency", required=False)
    if currency is None and isinstance(inst, dict):
        currency = _str(inst, "currency", required=False)
    return Order(
        id=order_id,
        ticker=ticker,
        type=(_str(d, "type", required=False) or "MARKET").upper(),
        status=(_str(d, "status", required=False) or "NEW").upper(),
        quantity=_num(d, "quantity", default=0.0) or 0.0,
        side=_str(d, "side", required=False),
        filled_quantity=_num(d, "filledQuantity", default=0.0) or 0.0,
        limit_price=_num(d, "limitPrice", required=False),
        stop_price=_num(d, "stopPrice", required=False),
        created_at=parse_datetime(d.get("createdAt") or d.get("creationTime")),
        currency=currency,
    )


def parse_order(data: Any, what: str = "an order request") -> Order:
    return _guard(what, _order, data)


def parse_orders(data: Any, what: str = "GET /equity/orders") -> list[Order]:
    return _guard(what, lambda d: [_order(o) for o in _list(d, "orders")], data)


def _instrument(d: Any) -> Instrument:
    d = _obj(d, "instrument")
    ticker = _req_str(d, "ticker")
    schedule = d.get("workingScheduleId")
    return Instrument(
        ticker=ticker,
        name=_str(d, "name", required=False) or ticker,
        short_name=_str(d, "shortName", required=False) or ticker.split("_")[0],
        currency=_str(d, "currencyCode", required=False) or _str(d, "currency", required=False) or "",
        type=_str(d, "type", required=False) or "STOCK",
        isin=_str(d, "isin", required=False),
        working_schedule_id=schedule if isinstance(schedule, int) and not isinstance(schedule, bool) else None,
        max_open_quantity=_num(d, "maxOpenQuantity", required=False),
        extended_hours=bool(d.get("extendedHours", False)),
    )


def parse_instruments(data: Any, what: str = "GET /equity/metadata/instruments") -> dict[str, Instrument]:
    def build(d: Any) -> dict[str, Instrument]:
        return {i.ticker: i for i in (_instrument(x) for x in _list(d, "instruments"))}

    return _guard(what, build, data)


def _exchange(d: Any) -> Exchange:
    d = _obj(d, "exchange")
    schedules: dict[int, tuple[TimeEvent, ...]] = {}
    for s in _list(d.get("workingSchedules") or [], "workingSchedules"):
        s = _obj(s, "workingSchedule")
        sid = s.get("id")
        if not isinstance(sid, int) or isinstance(sid, bool):
            raise _Shape("working schedule id is not an integer")
        events = []
        for e in _list(s.get("timeEvents") or [], "timeEvents"):
            e = _obj(e, "timeEvent")
            moment = parse_datetime(_req_str(e, "date"))
            if moment is None:  # "" (no assert: it would escape as a crash, or vanish under -O)
                raise _Shape("a time event has an empty date")
            events.append(TimeEvent(date=moment, type=_req_str(e, "type")))
        schedules[sid] = tuple(sorted(events, key=lambda ev: ev.date))
    ex_id = d.get("id")
    if not isinstance(ex_id, int) or isinstance(ex_id, bool):
        raise _Shape("exchange id is not an integer")
    return Exchange(id=ex_id, name=_str(d, "name", required=False) or str(ex_id), schedules=schedules)


def parse_exchanges(data: Any, what: str = "GET /equity/metadata/exchanges") -> list[Exchange]:
    return _guard(what, lambda d: [_exchange(x) for x in _list(d, "exchanges")], data)


_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


_TAG = re.compile(r"<[^>]*>")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")
_SCRIPT = re.compile(r"<(script|style)[^>]*>.*?</\1>", re.IGNORECASE | re.DOTALL)
BODY_TEXT_MAX = 160  # a sentence, not a page


def body_text(text: str) -> str | None:
    """A short readable text for a body that is not a JSON error: an HTML page's title (else its
    text without tags), or a plain-text body's first words; None when there is nothing to say."""
    if not text or not text.strip():
        return None
    if "<" in text and ">" in text:
        title = _TITLE.search(text)
        raw = title.group(1) if title else _TAG.sub(" ", _SCRIPT.sub(" ", text))
    else:
        raw = text
    clean = _SPACE.sub(" ", html.unescape(raw)).strip()
    if not clean:
        return None
    return clean if len(clean) <= BODY_TEXT_MAX else clean[: BODY_TEXT_MAX - 1].rstrip() + "…"


def parse_error(text: str) -> tuple[str | None, str | None]:
    """(error_type, detail) from any error body shape; (None, None) when the body says nothing.

    Old `{"code": "SellingEquityNotOwned", "clarification": ...}` and problem-JSON
    `{"type": "/api-errors/selling-equity-not-owned", "title", "status", "detail"}` both give
    `("selling-equity-not-owned", detail)`; `{"code", "message"}` (some 401s) reads the same way.
    A body that is not a JSON object (a 429/5xx page, plain text) gives (None, its short text).
    """
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return None, body_text(text)
    if isinstance(data, str):
        return None, body_text(data)
    if not isinstance(data, dict):
        return None, None
    error_type: str | None = None
    raw_type = data.get("type")
    if isinstance(raw_type, str) and raw_type and raw_type != "about:blank":
        error_type = raw_type.rstrip("/").rsplit("/", 1)[-1]
    elif isinstance(data.get("code"), str) and data["code"].strip():
        code = data["code"].strip()
        error_type = code if "-" in code or code.islower() else _CAMEL_BOUNDARY.sub("-", code).lower()
    detail = None
    for field in ("detail", "clarification", "message", "title", "error"):
        value = data.get(field)
        if isinstance(value, str) and value.strip():
            detail = body_text(value)
            break
    return error_type, detail


def error_texts(text: str) -> tuple[str, ...]:
    """Every top-level string of an error body (any shape), for rules that read words from whichever
    field carries them; a non-JSON body gives its own first 300 characters."""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return (text.strip()[:300],) if text and text.strip() else ()
    if not isinstance(data, dict):
        return ()
    return tuple(v.strip() for v in data.values() if isinstance(v, str) and v.strip())
