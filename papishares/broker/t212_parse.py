"""Trading 212 JSON -> models. A shape problem never becomes a KeyError.

One bad item costs one item: lists (positions, orders, instruments, exchanges) are parsed item by
item. An item that cannot be named (no ticker, no id) is skipped; a position that can be named but
whose numbers are unusable (a null `currentPrice`, no `walletImpact`...) is kept with `data_note`
set and its unusable numbers as None, so it still shows, is counted conservatively and is never
sold on. Each of these leaves an `ItemProblem` in the result's `problems` (the results are plain
lists/dicts with that one extra attribute, so every caller that reads them as lists still works).
Only a body that is not a list at all (or a single object that is unreadable) is a
`MalformedResponse`. Unknown enum values (order statuses and types, time-event types) are kept as
they come.

Kept apart from the HTTP client so the shapes can be tested (and reused by the fake server's
tests) without any network.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from papishares.core.errors import MalformedResponse
from papishares.core.models import Account, BrokerPosition, Exchange, Instrument, Order, TimeEvent


class _Shape(Exception):
    """Internal: a field is missing or has the wrong type (turned into MalformedResponse)."""


@dataclass(frozen=True)
class ItemProblem:
    """One item of a broker answer that was skipped or marked, in words a person can act on."""

    kind: str  # position | order | instrument | exchange
    index: int  # its place in the answer (0-based)
    ticker: str | None  # when it can be named
    reason: str  # e.g. "currentPrice is null"
    skipped: bool  # True: left out; False: kept and marked

    @property
    def text(self) -> str:
        who = f"{self.kind} {self.ticker}" if self.ticker else f"{self.kind} #{self.index + 1}"
        if self.skipped:
            what = "left out"
        elif self.kind == "position":
            what = "shown without a stop and never sold on"
        else:
            what = "kept without the unusable part"
        return f"Trading 212 sent an unusable {who} ({self.reason}): {what}"


T = TypeVar("T")
K = TypeVar("K")


class Parsed(list[T]):  # noqa: N801 - reads like the list it is
    """A list of parsed items that also carries the problems met while parsing them."""

    problems: tuple[ItemProblem, ...] = ()


class ParsedMap(dict[K, T]):
    """A dict of parsed items (instruments by ticker) that also carries the problems."""

    problems: tuple[ItemProblem, ...] = ()


def problems_of(value: Any) -> tuple[ItemProblem, ...]:
    """The problems a parsed answer carries; () for anything else (e.g. the demo broker's lists)."""
    return tuple(getattr(value, "problems", ()) or ())


def with_problems(result: Any, problems: list[ItemProblem]) -> Any:
    result.problems = tuple(problems)
    return result


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


def _name_of(d: Any) -> str | None:
    """The ticker of a position/order item, when it can be read at all."""
    if not isinstance(d, dict):
        return None
    for holder in (d, d.get("instrument")):
        if isinstance(holder, dict) and isinstance(holder.get("ticker"), str) and holder["ticker"].strip():
            return holder["ticker"].strip()
    return None


def _soft_num(d: dict[str, Any], field: str, label: str, bad: list[str], *, needed: bool = True) -> float | None:
    """A number, or None with the reason added to `bad` (when the number is needed)."""
    value = d.get(field)
    if value is None:
        if needed:
            bad.append(f"{label} is {'null' if field in d else 'missing'}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        bad.append(f"{label} is not a number")
        return None
    return float(value)


def _soft_date(value: Any) -> Any:
    try:
        return parse_datetime(value)
    except _Shape:
        return None  # an unreadable date is no reason to lose the position


def _position(d: Any) -> BrokerPosition:
    """One position; raises _Shape only when it cannot be named. Unusable numbers become None
    with `data_note` saying which."""
    ticker = _name_of(d)
    if ticker is None:
        raise _Shape("no ticker")
    inst = d.get("instrument") if isinstance(d.get("instrument"), dict) else {}
    bad: list[str] = []
    raw_wallet = d.get("walletImpact")
    if not isinstance(raw_wallet, dict):
        bad.append("walletImpact is " + ("null" if raw_wallet is None else "not an object"))
        wallet: dict[str, Any] = {}
    else:
        wallet = raw_wallet
    quantity = _soft_num(d, "quantity", "quantity", bad)
    current = _soft_num(d, "currentPrice", "currentPrice", bad)
    average = _soft_num(d, "averagePricePaid", "averagePricePaid", bad)
    value = _soft_num(wallet, "currentValue", "walletImpact.currentValue", bad) if wallet else None
    available = _soft_num(d, "quantityAvailableForTrading", "quantityAvailableForTrading", bad, needed=False)
    currency = inst.get("currency") if isinstance(inst.get("currency"), str) else None
    if not currency:
        bad.append("instrument.currency is missing")
    for label, number in (("quantity", quantity), ("currentPrice", current)):
        if number is not None and number <= 0:
            bad.append(f"{label} is {number:g}")
    raw_name, raw_wallet_currency = inst.get("name"), wallet.get("currency")
    name = raw_name if isinstance(raw_name, str) and raw_name else ticker
    return BrokerPosition(
        ticker=ticker,
        name=name,
        currency=currency or "",
        quantity=quantity,  # type: ignore[arg-type]
        # Unknown availability sells nothing (the sell decision then skips "nothing available" and
        # alerts): assuming the whole quantity could sell shares held in pies or by pending orders.
        quantity_available=available if available is not None and available > 0 else 0.0,
        current_price=current,  # type: ignore[arg-type]
        average_price=average,  # type: ignore[arg-type]
        wallet_currency=raw_wallet_currency if isinstance(raw_wallet_currency, str) else "",
        wallet_current_value=value,  # type: ignore[arg-type]
        wallet_total_cost=_soft_num(wallet, "totalCost", "walletImpact.totalCost", [], needed=False),
        unrealised_pnl=_soft_num(wallet, "unrealizedProfitLoss", "", [], needed=False),
        created_at=_soft_date(d.get("createdAt")),
        data_note="; ".join(dict.fromkeys(bad)) or None,
    )


def _items(data: Any, field: str, kind: str, build: Any, name: Any) -> tuple[list[Any], list[ItemProblem]]:
    """Build every item of a list answer on its own; a broken item becomes an ItemProblem."""
    items, problems = [], []
    for i, raw in enumerate(_list(data, field)):
        try:
            item = build(raw)
        except (_Shape, ValueError, TypeError, AttributeError) as exc:
            problems.append(ItemProblem(kind, i, name(raw), str(exc) or type(exc).__name__, skipped=True))
            continue
        note = getattr(item, "data_note", None)
        if note:
            problems.append(ItemProblem(kind, i, getattr(item, "ticker", None), note, skipped=False))
        items.append(item)
    return items, problems


def parse_positions(data: Any, what: str = "GET /equity/positions") -> Parsed[BrokerPosition]:
    def build(d: Any) -> Parsed[BrokerPosition]:
        items, problems = _items(d, "positions", "position", _position, _name_of)
        return with_problems(Parsed(items), problems)

    return _guard(what, build, data)


def _order(d: Any) -> Order:
    d = _obj(d, "order")
    inst = d.get("instrument")
    ticker = _name_of(d)
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


def parse_orders(data: Any, what: str = "GET /equity/orders") -> Parsed[Order]:
    """Pending orders; an order that cannot be read is left out, and its problem names the ticker
    when it can, so the service can keep that position from being sold (it might be a pending sell)."""
    def build(d: Any) -> Parsed[Order]:
        items, problems = _items(d, "orders", "order", _order, _name_of)
        return with_problems(Parsed(items), problems)

    return _guard(what, build, data)


def _text(d: dict[str, Any], field: str) -> str | None:
    """A non-empty string field, else None (a wrong type is treated as missing)."""
    value = d.get(field)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _instrument(d: Any) -> Instrument:
    d = _obj(d, "instrument")
    ticker = _text(d, "ticker")
    if ticker is None:
        raise _Shape("no ticker")
    schedule = d.get("workingScheduleId")
    max_open = d.get("maxOpenQuantity")
    return Instrument(
        ticker=ticker,
        name=_text(d, "name") or ticker,
        # No shortName stays empty: the Yahoo symbol is never guessed from the ticker's text.
        short_name=_text(d, "shortName") or "",
        currency=_text(d, "currencyCode") or _text(d, "currency") or "",
        type=_text(d, "type") or "STOCK",
        isin=_text(d, "isin"),
        working_schedule_id=schedule if isinstance(schedule, int) and not isinstance(schedule, bool) else None,
        max_open_quantity=float(max_open) if isinstance(max_open, int | float) and not isinstance(max_open, bool)
        else None,
        extended_hours=d.get("extendedHours") is True,
    )


def _instrument_name(d: Any) -> str | None:
    return _text(d, "ticker") if isinstance(d, dict) else None


def parse_instruments(data: Any, what: str = "GET /equity/metadata/instruments") -> ParsedMap[str, Instrument]:
    def build(d: Any) -> ParsedMap[str, Instrument]:
        items, problems = _items(d, "instruments", "instrument", _instrument, _instrument_name)
        return with_problems(ParsedMap((i.ticker, i) for i in items), problems)

    return _guard(what, build, data)


def _events(s: dict[str, Any]) -> tuple[TimeEvent, ...]:
    events = []
    for e in _list(s.get("timeEvents") or [], "timeEvents"):
        e = _obj(e, "timeEvent")
        moment = parse_datetime(_req_str(e, "date"))
        if moment is None:  # "" (no assert: it would escape as a crash, or vanish under -O)
            raise _Shape("a time event has an empty date")
        events.append(TimeEvent(date=moment, type=_req_str(e, "type")))  # unknown types are kept
    return tuple(sorted(events, key=lambda ev: ev.date))


def _exchange(d: Any, broken: list[str] | None = None) -> Exchange:
    """One exchange. A schedule with an unreadable time event keeps its id (the instruments on it
    still find their exchange, hence their market data) but none of its events: one event left out
    (a CLOSE) could make a closed market look open, so its hours count as unknown (see
    `market.schedule`)."""
    d = _obj(d, "exchange")
    ex_id = d.get("id")
    if not isinstance(ex_id, int) or isinstance(ex_id, bool):
        raise _Shape("exchange id is not an integer")
    schedules: dict[int, tuple[TimeEvent, ...]] = {}
    for s in _list(d.get("workingSchedules") or [], "workingSchedules"):
        if not isinstance(s, dict) or not isinstance(s.get("id"), int) or isinstance(s.get("id"), bool):
            if broken is not None:
                broken.append("a working schedule without an id")
            continue
        try:
            schedules[s["id"]] = _events(s)
        except _Shape as exc:
            schedules[s["id"]] = ()
            if broken is not None:
                broken.append(f"schedule {s['id']}: {exc}")
    return Exchange(id=ex_id, name=_str(d, "name", required=False) or str(ex_id), schedules=schedules)


def parse_exchanges(data: Any, what: str = "GET /equity/metadata/exchanges") -> Parsed[Exchange]:
    def build(d: Any) -> Parsed[Exchange]:
        items, problems = [], []
        for i, raw in enumerate(_list(d, "exchanges")):
            broken: list[str] = []
            name = raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else None
            try:
                items.append(_exchange(raw, broken))
            except (_Shape, ValueError, TypeError) as exc:
                problems.append(ItemProblem("exchange", i, name, str(exc), skipped=True))
                continue
            if broken:
                problems.append(ItemProblem("exchange", i, name, "; ".join(broken) + " (its hours are unknown)",
                                            skipped=False))
        return with_problems(Parsed(items), problems)

    return _guard(what, build, data)


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
