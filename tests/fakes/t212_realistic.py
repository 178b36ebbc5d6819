"""Real-shaped Trading 212 data for the emulator, from JSON files under tests/fixtures/t212/.

`real/` is an account as real users reported it (../shared/t212/README.md): 8-decimal quantities,
nulls where the spec allows none, London lines without the `l` (CSP1_EQ, IITU_EQ), Xetra lines
(SAPd_EQ, SXR8d_EQ), renamed tickers (FB_US_EQ is META; BRK_B_US_EQ is BRK.B), instruments that
accept fewer than 4 decimals, pending orders with `side` and null prices. `errors/` holds each
error body shape seen: problem-JSON, legacy `{code, clarification}`, `{code, message}`, empty,
plain text and HTML pages.

    FakeTrading212(scenario="real")                                     # or POST /__admin/scenario
    server.inject("GET", "/equity/positions", "fixture", fixture="errors/html_502.html", status=502)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.t212_server import FakeTrading212

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "t212"
CONTENT_TYPES = {".json": "application/json", ".html": "text/html; charset=utf-8", ".txt": "text/plain"}


def fixture_path(name: str) -> Path:
    path = (FIXTURES / name).resolve()
    if FIXTURES not in path.parents or not path.is_file():
        raise ValueError(f"no fixture {name!r} under tests/fixtures/t212")
    return path


def fixture_json(name: str) -> Any:
    return json.loads(fixture_path(name).read_text(encoding="utf-8"))


def fixture_body(name: str) -> tuple[bytes, str]:
    """A fixture's bytes as served, and its content type (by extension)."""
    path = fixture_path(name)
    return path.read_bytes(), CONTENT_TYPES.get(path.suffix, "application/octet-stream")


def error_fixture(name: str, **values: Any) -> dict[str, Any]:
    """An error body from errors/`name`, with `{n}`-style placeholders in its strings filled in."""
    text = fixture_path(f"errors/{name}").read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return json.loads(text)


def with_nulls(fake: FakeTrading212, ticker: str, view: dict[str, Any]) -> dict[str, Any]:
    """A position's JSON with the fields the scenario serves as null (dotted paths) set to None."""
    for dotted in fake.nulls.get(ticker, ()):
        target = view
        *parents, leaf = dotted.split(".")
        for name in parents:
            target = target[name] if isinstance(target.get(name), dict) else {}
        target[leaf] = None
    return view


def _null_paths(item: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key, value in item.items():
        if value is None:
            out.append(prefix + key)
        elif isinstance(value, dict):
            out.extend(_null_paths(value, prefix + key + "."))
    return out


def load(fake: FakeTrading212) -> None:
    """The `real` scenario (called by `load_scenario`, under the lock, after `reset_state`)."""
    from tests.fakes.t212_server import Position

    fake.deviations = {"nulls"}  # the spec referee checks these answers without their nulls
    account = fixture_json("real/account.json")
    fake.account_id, fake.currency, fake.cash = account["id"], account["currency"], float(account["cash"])
    fake.instruments = {i["ticker"]: i for i in fixture_json("real/instruments.json")}
    fake.precision = {t: int(n) for t, n in fixture_json("real/precision.json").items() if not t.startswith("_")}
    fake.exchanges = [{"id": e["id"], "name": e["name"], "schedules": {s["id"]: True for s in e["workingSchedules"]}}
                      for e in fixture_json("real/exchanges.json")]
    for item in fixture_json("real/positions.json"):
        ticker = item["instrument"]["ticker"]
        average = float(item["averagePricePaid"])
        price = item["currentPrice"]
        fake.positions[ticker] = Position(ticker, float(item["quantity"]), average,
                                          average if price is None else float(price),
                                          float(item.get("quantityInPies") or 0.0))
        fake.nulls[ticker] = tuple(_null_paths(item))
    for order in fixture_json("real/orders.json"):
        fake.orders[int(order["id"])] = dict(order)
    fake.next_order_id = max([fake.next_order_id, *fake.orders])
