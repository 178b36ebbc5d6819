"""The Trading 212 rate budget, shared by every process through the SQLite file.

Trading 212 limits requests per account and per endpoint (1 / 5 s for the summary, 1 / 1 s for
positions, ...). The dashboard, the CLI and the worker all spend the same budget, so the budget
lives in the database (`rate_log`, `rate_block`, `http_cache`), and a slot is reserved inside a
`BEGIN IMMEDIATE` transaction so two processes can never take the same one.

How a request is accounted (why no request can exceed a limit, whatever the latency):
- reserving a slot writes a `rate_log` row stamped `now + in_flight` (pessimistic: we do not know
  when the request will reach the server);
- when the answer arrives the row is re-stamped with the completion time, which is never earlier
  than the moment the server saw the request;
- a new slot is granted only when fewer than `count` rows are newer than `now - period - margin`.
So the server always sees at least `period` between the request that leaves the window and the
next one, on its own clock, with `margin` to spare for timer granularity.

Responses feed it too: `x-ratelimit-remaining: 0` or a 429 blocks the endpoint for every process
until `x-ratelimit-reset` (bounded, so a skewed server clock cannot block us for hours).

The response cache: a GET inside its endpoint's period is answered from `http_cache` instead of
spending a request, and when no slot comes in time the last stored body is served as stale data.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from papishares.store import rate_budget
from papishares.store.db import Store


@dataclass(frozen=True)
class Limit:
    count: int
    period: float  # seconds


# The documented limits (shared/t212/README.md), keyed "METHOD /path" with ids as `{id}`.
LIMITS: dict[str, Limit] = {
    "GET /equity/account/summary": Limit(1, 5),
    "GET /equity/positions": Limit(1, 1),
    "GET /equity/orders": Limit(1, 5),
    "GET /equity/orders/{id}": Limit(1, 1),
    "DELETE /equity/orders/{id}": Limit(50, 60),
    "POST /equity/orders/market": Limit(50, 60),
    "POST /equity/orders/limit": Limit(1, 2),
    "POST /equity/orders/stop": Limit(1, 2),
    "POST /equity/orders/stop_limit": Limit(1, 2),
    "GET /equity/metadata/instruments": Limit(1, 50),
    "GET /equity/metadata/exchanges": Limit(1, 30),
    "GET /equity/history/orders": Limit(6, 60),
    "GET /equity/history/dividends": Limit(6, 60),
    "GET /equity/history/transactions": Limit(6, 60),
    "GET /equity/history/exports": Limit(1, 60),
    "POST /equity/history/exports": Limit(1, 30),
}
# An endpoint not in the table is treated as strictly as the strictest common one.
UNKNOWN_LIMIT = Limit(1, 5)

_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


def endpoint_key(method: str, path: str) -> str:
    """`("GET", "/equity/orders/42?x=1")` -> `"GET /equity/orders/{id}"` (the rate-limit key)."""
    path = path.split("?", 1)[0].rstrip("/") or "/"
    if path.startswith("/api/v0"):
        path = path[len("/api/v0"):]
    return f"{method.upper()} {_ID_SEGMENT.sub('/{id}', path)}"


def limit_for(key: str) -> Limit:
    return LIMITS.get(key, UNKNOWN_LIMIT)


def margin_for(limit: Limit) -> float:
    """Spare time on top of the period: server timer granularity and rounding."""
    return 0.15 + 0.02 * limit.period


@dataclass(frozen=True)
class Reservation:
    key: str
    row_id: int


@dataclass(frozen=True)
class Cached:
    body: str
    status: int
    fetched_at: float


@dataclass(frozen=True)
class Wait:
    """No slot now: the earliest time one may free up, and whether a request is still in flight."""

    until: float
    in_flight: bool


POLL_SECONDS = 0.1


class RateBudget:
    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.store = store
        self.clock = clock
        self.sleep = sleep

    # -- slots ------------------------------------------------------------------------------------
    def try_reserve(self, key: str, in_flight: float = 30.0) -> Reservation | Wait:
        """Take a slot now if the window and any block allow it; else say when to look again."""
        limit = limit_for(key)
        with self.store.transaction():
            now = self.clock()
            blocked = rate_budget.blocked_until(self.store, key)
            if blocked is not None and blocked > now:
                return Wait(blocked, False)
            window_start = now - limit.period - margin_for(limit)
            rate_budget.forget_before(self.store, key, window_start)
            stamps = rate_budget.stamps(self.store, key)
            if len(stamps) < limit.count:
                return Reservation(key, rate_budget.log_request(self.store, key, now + in_flight))
            # enough rows must leave the window: the (len - count)-th oldest decides
            until = stamps[len(stamps) - limit.count] + limit.period + margin_for(limit)
            return Wait(float(until), any(ts > now for ts in stamps))

    def complete(self, reservation: Reservation, at: float | None = None) -> None:
        """The answer (or a failure) came back: stamp the slot with that time, never later than before."""
        at = self.clock() if at is None else at
        rate_budget.complete(self.store, reservation.row_id, at)

    def release(self, reservation: Reservation) -> None:
        """The request never left (no connection): the slot was not spent."""
        rate_budget.release(self.store, reservation.row_id)

    def reserve(self, key: str, *, max_wait: float, in_flight: float = 30.0,
                cache_key: str | None = None, fresh_for: float | None = None) -> Reservation | Cached | None:
        """A slot, or a fresh cached answer (another process may fetch it while we wait), or None.

        Waits at most `max_wait` seconds; None means no slot in time (the caller serves stale data
        or raises RateLimited).
        """
        deadline = self.clock() + max_wait
        while True:
            if cache_key is not None and fresh_for is not None:
                hit = self.cached(cache_key)
                if hit is not None and self.clock() - hit.fetched_at < fresh_for:
                    return hit
            got = self.try_reserve(key, in_flight)
            if isinstance(got, Reservation):
                return got
            now = self.clock()
            # a request in flight elsewhere may still fill the cache before the deadline
            if now >= deadline or (got.until > deadline and not (got.in_flight and cache_key)):
                return None
            self.sleep(max(0.005, min(got.until - now, deadline - now, POLL_SECONDS if got.in_flight else 60)))

    def next_free(self, key: str) -> float:
        """When a slot is expected to be free (now when it is free already). Takes nothing."""
        limit = limit_for(key)
        now = self.clock()
        blocked = rate_budget.blocked_until(self.store, key)
        until = blocked if blocked is not None and blocked > now else now
        stamps = rate_budget.stamps(self.store, key, after=now - limit.period - margin_for(limit))
        if len(stamps) >= limit.count:
            until = max(until, stamps[len(stamps) - limit.count] + limit.period + margin_for(limit))
        return until

    # -- what the server says ---------------------------------------------------------------------
    def block(self, key: str, until: float) -> None:
        """No process may send `key` before `until` (only ever extends an existing block)."""
        rate_budget.block(self.store, key, until)

    def note_response(self, key: str, status: int, headers: Mapping[str, str]) -> float | None:
        """Honour x-ratelimit-remaining / -reset and 429s. Returns the block time set, if any."""
        limit = limit_for(key)
        now = self.clock()
        reset = _float(headers.get("x-ratelimit-reset"))
        remaining = _float(headers.get("x-ratelimit-remaining"))
        # A reset further away than one window means a skewed clock (or seconds vs ms): bound it.
        longest = now + limit.period + margin_for(limit)
        if status == 429:
            until = reset + 0.05 if reset is not None and now < reset <= longest + 60 else longest
            until = min(until, longest + 60)
        elif remaining is not None and remaining <= 0 and reset is not None and reset > now:
            until = min(reset + 0.05, longest)
        else:
            return None
        self.block(key, until)
        return until

    # -- response cache ---------------------------------------------------------------------------
    def cached(self, cache_key: str) -> Cached | None:
        hit = rate_budget.cached(self.store, cache_key)
        return None if hit is None else Cached(*hit)

    def store_response(self, cache_key: str, body: str, status: int = 200, fetched_at: float | None = None) -> None:
        rate_budget.store_response(self.store, cache_key, body, status,
                                   self.clock() if fetched_at is None else fetched_at)

    def invalidate(self, *prefixes: str) -> None:
        """Forget cached answers starting with any prefix (after an order changes the account)."""
        for prefix in prefixes:
            rate_budget.invalidate(self.store, prefix)


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
