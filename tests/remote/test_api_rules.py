"""The API's pure parts, exhaustively: the access rule, the bearer header, the wrong-token hold, the
answers built from a snapshot, and the throttle's count in a real SQLite store."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest

from papishares.commands import api_queries
from papishares.core.models import Account, Order, PositionView, Snapshot
from papishares.remote.api import access
from papishares.remote.api.routes import _wanted, sentence
from papishares.store.db import Store


@pytest.mark.parametrize(("write", "configured", "presented", "signin"),
                         list(itertools.product([False, True], repeat=4)))
def test_verdict_covers_every_case(write: bool, configured: bool, presented: bool, signin: bool) -> None:
    v = access.verdict(write=write, token_configured=configured, presented=presented, signin_configured=signin)
    if configured:
        expected = (0, True) if presented else (401, False)
        assert (v.status, v.compare) == expected
        assert v.challenge is (not presented)
    elif write:
        assert v.status == 403 and "PAPISHARES_API_TOKEN" in (v.error or "") and not v.challenge
    elif signin:
        assert v.status == 401 and v.challenge and "PAPISHARES_API_TOKEN" in (v.error or "")
    else:
        assert v == access.ALLOW


@pytest.mark.parametrize(("header", "token"), [
    (None, None), ("", None), ("Bearer", None), ("Bearer   ", None), ("Basic abc", None), ("Bearer abc", "abc"),
    ("bearer abc", "abc"), ("BEARER  abc ", "abc"), ("Token abc", None),
])
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert access.bearer_token(header) == token


def test_token_matches_only_itself() -> None:
    assert access.token_matches("s3cret", "s3cret")
    for other in ("", "s3cre", "s3crett", "S3cret", "s3cret "):
        assert not access.token_matches(other, "s3cret")
    assert access.token_matches("pässwörd", "pässwörd")


def test_penalty_after_the_free_tries() -> None:
    free = access.FREE_TRIES
    assert [access.penalty(n) for n in range(free + 1)] == [0.0] * (free + 1)
    assert [access.penalty(free + k) for k in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert access.penalty(10_000) == access.MAX_WAIT


def test_throttle_counts_in_the_store_and_a_quiet_spell_ends_the_run(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    throttle = access.Throttle(store)
    t = 1_000_000.0
    for n in range(1, access.FREE_TRIES + 3):
        v = access.check_token(throttle, "wrong", "right", "127.0.0.1", now=t + n)
        assert v.status == 401 and v.challenge and v.delay == access.penalty(n)
    assert access.check_token(throttle, "right", "right", "127.0.0.1", now=t + 50) == access.ALLOW
    assert access.Throttle(Store(tmp_path / "t.db")).failed("x", now=t + 60) == access.FREE_TRIES + 3
    assert throttle.failed("x", now=t + 60 + access.QUIET + 1) == 1
    journal = store.journal_entries(kind="auth")
    assert len(journal) == access.FREE_TRIES + 4
    assert all(e["action"] == "wrong_api_token" and "wrong" not in e["message"].split("(")[0] for e in journal)


@pytest.mark.parametrize(("body", "wanted"), [(b"", None), (b"  \n", None), (b'{"auto_sell": true}', True),
                                              (b'{"auto_sell": false}', False)])
def test_autosell_body(body: bytes, wanted: bool | None) -> None:
    assert _wanted(body) is wanted


@pytest.mark.parametrize("body", [b"{", b"null", b"true", b"[]", b'"on"', b"{}", b'{"auto_sell": null}',
                                  b'{"auto_sell": 0}', b'{"auto_sell": "true"}', b'{"auto_sell": true, "a": 1}',
                                  b"\xff"])
def test_autosell_body_refused(body: bytes) -> None:
    from papishares.remote.api.routes import ApiError

    with pytest.raises(ApiError) as err:
        _wanted(body)
    assert err.value.status == 400 and err.value.error.endswith(".")


def test_sentence() -> None:
    assert sentence("configuration error: X") == "Configuration error: X."
    assert sentence("Done.") == "Done."
    assert sentence("  ") == "Something went wrong."


def _view(ticker: str, profit: float, **kw: object) -> PositionView:
    values: dict[str, object] = dict(
        ticker=ticker, short_name=ticker[:4], name=f"{ticker} plc", currency="USD", quantity=10.0,
        quantity_available=10.0, average_price=100.0, current_price=100.0 + profit, profit_pct=profit,
        max_price=100.0 + max(profit, 0), stop_loss_price=90.0, stop_loss_percentage=10.0, stop_loss_note=None,
        manual_stop_loss_price=None, manual_stop_loss_quantity=0.0, macd_signal=None, macd_crossover=None,
        sma_17=None)
    values.update(kw)
    return PositionView(**values)  # type: ignore[arg-type]


def _snapshot(**kw: object) -> Snapshot:
    values: dict[str, object] = dict(
        generated_at=datetime(2026, 11, 24, 14, 3, tzinfo=UTC), environment="t212-demo",
        account=Account("GBP", 15000.0, 2500.0),
        positions=(_view("A", 1.5), _view("B", 12.0), _view("C", -4.0, sma_17=math.nan)),
        orders=(Order(1, "A", "STOP", "NEW", -5.0, stop_price=90.0, limit_price=89.0),
                Order(2, "Z", "LIMIT", "NEW", 2.0, side="BUY", limit_price=50.0, stop_price=1.0),
                Order(3, "B", "STOP_LIMIT", "NEW", -1.0, stop_price=80.0, limit_price=79.0, currency="USD"),
                Order(4, "B", "MARKET", "NEW", -1.0, limit_price=1.0)),
        total_risk_pct=3.1, total_risk_threshold_pct=7.0)
    values.update(kw)
    return Snapshot(**values)  # type: ignore[arg-type]


def test_positions_payload_in_the_seed_shape() -> None:
    snap = _snapshot()
    body = api_queries.positions_payload(snap, True, None, 12.34)
    assert [p["ticker"] for p in body["positions"]] == ["B", "A", "C"]
    assert body["total_risk"] == 3.1 and body["auto_sell"] is True
    assert body["stale"] is False and body["age_seconds"] == 12.3 and "stale_reason" not in body
    assert body["positions"][2]["sma_17"] is None  # NaN is no JSON
    assert body["positions"][0] == {**snap.positions[1].to_json()}


def test_stale_when_the_service_says_so_or_the_cache_has_a_problem() -> None:
    marked = _snapshot(stale=True, broker_note="Broker down. Showing data from 2 min ago.")
    assert api_queries.snapshot_payload(marked, None, 120.0)["stale_reason"].startswith("Broker down")
    body = api_queries.snapshot_payload(_snapshot(), "The broker cannot be reached: refused", 30.0)
    assert (body["stale"], body["age_seconds"], body["stale_reason"]) == (True, 30.0, "The broker cannot be "
                                                                                       "reached: refused")
    assert body["positions"] and body["account"]["currency"] == "GBP"


def test_orders_payload() -> None:
    rows = api_queries.orders_payload(_snapshot(), managed={3}, names={"Z": "Zed Inc"}, currencies={"Z": "EUR"})
    by_id = {r["id"]: r for r in rows}
    assert (by_id[1]["stop_price"], by_id[1]["limit_price"], by_id[1]["side"], by_id[1]["quantity"]) == \
        (90.0, None, "SELL", -5.0)
    assert (by_id[2]["limit_price"], by_id[2]["stop_price"], by_id[2]["name"], by_id[2]["currency"]) == \
        (50.0, None, "Zed Inc", "EUR")
    assert (by_id[3]["stop_price"], by_id[3]["limit_price"], by_id[3]["managed"]) == (80.0, 79.0, True)
    assert (by_id[4]["stop_price"], by_id[4]["limit_price"]) == (None, None)
    assert by_id[1]["name"] == "A plc" and by_id[1]["currency"] == "USD" and not by_id[1]["managed"]


def test_journal_payload() -> None:
    rows = [{"id": 2, "ts": 1764000000.5, "kind": "autosell", "ticker": None, "action": "on",
             "message": "Auto-sell switched on", "data": None}]
    assert api_queries.journal_payload(rows) == {"entries": [{
        "at": "2025-11-24T16:00:00Z", "kind": "autosell", "ticker": None, "action": "on",
        "message": "Auto-sell switched on"}]}


def test_json_safe() -> None:
    assert api_queries.json_safe({"a": [math.inf, -math.inf, math.nan, 1.5, (2, "x")], "b": None}) == \
        {"a": [None, None, None, 1.5, [2, "x"]], "b": None}


def test_listening_sockets_get_nodelay_and_no_descriptor_leaks() -> None:
    import os
    import socket

    from papishares.remote.api.server import listening_sockets_nodelay

    with socket.socket() as listener, socket.socket() as idle:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        before = len(os.listdir("/proc/self/fd"))
        assert listening_sockets_nodelay() >= 1
        assert len(os.listdir("/proc/self/fd")) == before
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        assert idle.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0  # not listening: left alone
