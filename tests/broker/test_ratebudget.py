"""The shared rate budget on a real SQLite file: windows, blocks from headers, the response cache."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from papishares.broker.ratebudget import (
    LIMITS,
    Cached,
    RateBudget,
    Reservation,
    Wait,
    endpoint_key,
    limit_for,
    margin_for,
)
from papishares.store.db import Store

POSITIONS = "GET /equity/positions"
SUMMARY = "GET /equity/account/summary"
MARKET = "POST /equity/orders/market"


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def budget(store: Store, clock: FakeClock) -> RateBudget:
    return RateBudget(store, clock=clock, sleep=clock.sleep)


@pytest.mark.parametrize(
    ("method", "path", "key"),
    [
        ("GET", "/equity/positions?ticker=AAPL_US_EQ", POSITIONS),
        ("get", "/api/v0/equity/orders/12345", "GET /equity/orders/{id}"),
        ("DELETE", "/equity/orders/7/", "DELETE /equity/orders/{id}"),
        ("POST", "/equity/orders/stop_limit", "POST /equity/orders/stop_limit"),
    ],
)
def test_endpoint_key_normalises_ids_queries_and_prefix(method: str, path: str, key: str) -> None:
    assert endpoint_key(method, path) == key
    assert key in LIMITS


def test_documented_limits() -> None:
    assert (limit_for(SUMMARY).count, limit_for(SUMMARY).period) == (1, 5)
    assert (limit_for(MARKET).count, limit_for(MARKET).period) == (50, 60)
    assert limit_for("GET /equity/metadata/instruments").period == 50
    assert limit_for("GET /equity/something/new").count == 1  # unknown: strict


def test_one_per_window_counted_from_completion(budget: RateBudget, clock: FakeClock) -> None:
    first = budget.try_reserve(POSITIONS, in_flight=10)
    assert isinstance(first, Reservation)
    # in flight: the slot is held pessimistically until the answer comes back
    waiting = budget.try_reserve(POSITIONS)
    assert isinstance(waiting, Wait) and waiting.in_flight
    clock.now += 0.3
    budget.complete(first)
    waiting = budget.try_reserve(POSITIONS)
    assert isinstance(waiting, Wait) and not waiting.in_flight
    margin = margin_for(limit_for(POSITIONS))
    assert waiting.until == pytest.approx(clock.now + 1.0 + margin)
    clock.now = waiting.until - 0.01
    assert isinstance(budget.try_reserve(POSITIONS), Wait)
    clock.now = waiting.until + 0.001
    assert isinstance(budget.try_reserve(POSITIONS), Reservation)


def test_fifty_per_minute_then_wait_for_the_oldest(budget: RateBudget, clock: FakeClock) -> None:
    start = clock.now
    for _ in range(50):
        slot = budget.try_reserve(MARKET)
        assert isinstance(slot, Reservation)
        budget.complete(slot)
        clock.now += 0.1
    refused = budget.try_reserve(MARKET)
    assert isinstance(refused, Wait)
    assert refused.until == pytest.approx(start + 60 + margin_for(limit_for(MARKET)))


def test_reserve_waits_briefly_then_gives_up(budget: RateBudget, clock: FakeClock) -> None:
    budget.complete(budget.try_reserve(POSITIONS))  # type: ignore[arg-type]
    start = clock.now
    assert isinstance(budget.reserve(POSITIONS, max_wait=2.0), Reservation)
    assert 1.0 < clock.now - start < 1.5
    budget.complete(budget.try_reserve(SUMMARY))  # type: ignore[arg-type]
    start = clock.now
    assert budget.reserve(SUMMARY, max_wait=2.0) is None  # 5 s window: no point waiting
    assert clock.now == start


def test_remaining_zero_blocks_until_reset_bounded(budget: RateBudget, clock: FakeClock) -> None:
    until = budget.note_response(SUMMARY, 200, {"x-ratelimit-remaining": "0",
                                                "x-ratelimit-reset": str(clock.now + 3)})
    assert until == pytest.approx(clock.now + 3.05)
    waiting = budget.try_reserve(SUMMARY)
    assert isinstance(waiting, Wait) and waiting.until == pytest.approx(clock.now + 3.05)
    # a server clock hours ahead cannot block us beyond one window
    until = budget.note_response(POSITIONS, 200, {"x-ratelimit-remaining": "0",
                                                  "x-ratelimit-reset": str(clock.now + 7200)})
    assert until == pytest.approx(clock.now + 1 + margin_for(limit_for(POSITIONS)))
    assert budget.note_response(POSITIONS, 200, {"x-ratelimit-remaining": "3"}) is None


def test_429_blocks_every_process(tmp_path: Path, clock: FakeClock) -> None:
    a = RateBudget(Store(tmp_path / "shared.db"), clock=clock, sleep=clock.sleep)
    b = RateBudget(Store(tmp_path / "shared.db"), clock=clock, sleep=clock.sleep)
    a.note_response(POSITIONS, 429, {"x-ratelimit-reset": str(clock.now + 1)})
    assert isinstance(b.try_reserve(POSITIONS), Wait)
    assert b.next_free(POSITIONS) == pytest.approx(clock.now + 1.05)
    # no reset header at all: a whole window
    a.note_response(SUMMARY, 429, {})
    assert b.next_free(SUMMARY) == pytest.approx(clock.now + 5 + margin_for(limit_for(SUMMARY)))


def test_cache_inside_period_answers_instead_of_a_request(budget: RateBudget, clock: FakeClock) -> None:
    slot = budget.try_reserve(POSITIONS)
    assert isinstance(slot, Reservation)
    budget.complete(slot)
    budget.store_response("GET /equity/positions", "[]", 200)
    fresh_for = 1 + margin_for(limit_for(POSITIONS))
    clock.now += 0.5
    hit = budget.reserve(POSITIONS, max_wait=3, cache_key="GET /equity/positions", fresh_for=fresh_for)
    assert isinstance(hit, Cached) and hit.body == "[]"
    clock.now += fresh_for  # outside the period: a real request, and the slot is free again
    got = budget.reserve(POSITIONS, max_wait=0, cache_key="GET /equity/positions", fresh_for=fresh_for)
    assert isinstance(got, Reservation)


def test_cache_never_goes_back_in_time_and_invalidates_by_prefix(budget: RateBudget, clock: FakeClock) -> None:
    budget.store_response("GET /equity/orders", "new", fetched_at=clock.now)
    budget.store_response("GET /equity/orders", "old", fetched_at=clock.now - 10)
    assert budget.cached("GET /equity/orders").body == "new"  # type: ignore[union-attr]
    budget.store_response("GET /equity/orders/42", "one")
    budget.store_response("GET /equity/positions?ticker=RRl_EQ", "rr")
    budget.store_response("GET /equity/account/summary", "sum")
    budget.invalidate("GET /equity/orders", "GET /equity/positions")
    assert budget.cached("GET /equity/orders") is None
    assert budget.cached("GET /equity/orders/42") is None
    assert budget.cached("GET /equity/positions?ticker=RRl_EQ") is None
    assert budget.cached("GET /equity/account/summary") is not None


def _hammer(db: str, start: float, end: float, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    budget = RateBudget(Store(db))
    granted = []
    time.sleep(max(0.0, start - time.time()))  # both race over the same window, however slow their start
    while time.time() < end:
        got = budget.reserve(POSITIONS, max_wait=0.2)
        if isinstance(got, Reservation):
            budget.complete(got)
            granted.append(time.time())
    out.put(granted)


def test_two_processes_never_share_a_slot(tmp_path: Path) -> None:
    db = str(tmp_path / "shared.db")
    Store(db).close()  # migrate once before the race
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start = time.time() + 8.0
    procs = [ctx.Process(target=_hammer, args=(db, start, start + 2.5, out)) for _ in range(2)]
    for p in procs:
        p.start()
    grants = sorted(out.get(timeout=30) + out.get(timeout=30))
    for p in procs:
        p.join(timeout=10)
    assert 2 <= len(grants) <= 3
    gaps = [b - a for a, b in zip(grants, grants[1:], strict=False)]
    assert min(gaps) >= 1.0, gaps
