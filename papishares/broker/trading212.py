"""Trading 212 over HTTP (httpx, sync): auth, the shared rate budget, retries and error mapping.

Reads (GET) are cheap to repeat: they come from the shared cache inside the endpoint's period,
retry a few times on 5xx/timeouts, wait out a 429, and fall back to the last stored answer when the
budget has no slot. Orders are the opposite: they are sent at most once, never retried, and any
answer that does not prove the outcome raises `OrderOutcomeUnknown` for the caller to reconcile.

Secrets: the key and secret are revealed only inside `_T212Auth.auth_flow`, when a request is sent;
httpx errors (which carry the request and its headers) are never re-raised or chained.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable, Generator
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx

from papishares.broker import t212_parse as parse
from papishares.broker.ratebudget import Cached, RateBudget, Reservation, endpoint_key, limit_for, margin_for
from papishares.broker.t212_history import HistoryPage
from papishares.config import Secret, Settings
from papishares.core.errors import (
    AuthError,
    BrokerError,
    BrokerUnavailable,
    LiveOrdersForbidden,
    MalformedResponse,
    MissingScope,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimited,
)
from papishares.core.models import Account, BrokerPosition, Exchange, Instrument, Order, TimeEvent
from papishares.store import instruments as instrument_store
from papishares.store.db import Store
from papishares.store.keys import KeyFamily

log = logging.getLogger(__name__)
T = TypeVar("T")

AUTH_401 = ("Trading 212 rejected the API key (401): check T212_API_KEY/T212_SECRET_KEY and T212_ENV"
            " - a live key does not work on demo")

# The scope each endpoint needs, to say which one a 403 is about.
SCOPES = {
    "GET /equity/account/summary": "account",
    "GET /equity/positions": "portfolio",
    "GET /equity/orders": "orders:read",
    "GET /equity/orders/{id}": "orders:read",
    "POST /equity/orders/market": "orders:execute",
    "POST /equity/orders/limit": "orders:execute",
    "POST /equity/orders/stop": "orders:execute",
    "POST /equity/orders/stop_limit": "orders:execute",
    "DELETE /equity/orders/{id}": "orders:execute",
    "GET /equity/metadata/instruments": "metadata",
    "GET /equity/metadata/exchanges": "metadata",
    "GET /equity/history/orders": "history:orders",
    "GET /equity/history/dividends": "history:dividends",
    "GET /equity/history/transactions": "history:transactions",
}

# After an order the account changed: these cached answers are no longer true.
ORDER_INVALIDATES = ("GET /equity/positions", "GET /equity/orders", "GET /equity/account/summary")


class _T212Auth(httpx.Auth):
    """Basic key:secret, or the legacy bare-key header when no secret is configured."""

    def __init__(self, key: Secret, secret: Secret | None) -> None:
        self._key = key
        self._secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._secret:
            raw = f"{self._key.reveal()}:{self._secret.reveal()}".encode()
            request.headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
        else:
            request.headers["Authorization"] = self._key.reveal()
        yield request

    def __repr__(self) -> str:
        return "_T212Auth(********)"

    def scrub(self, text: str | None) -> str | None:
        """`text` (from the broker's body) with our key and secret masked, should it echo them."""
        if not text:
            return text
        for secret in (self._key, self._secret):
            if secret and secret.reveal() in text:
                text = text.replace(secret.reveal(), "********")
        return text


class _NoAnswer(Exception):
    """Internal: the request got no HTTP answer. `reason` is safe to show (no request, no headers)."""

    def __init__(self, reason: str, reached_server: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reached_server = reached_server


class Trading212Client:
    """The `Broker` protocol over Trading 212's public API v0."""

    INSTRUMENTS_TTL = 6 * 3600.0
    EXCHANGES_TTL = 6 * 3600.0
    MAX_ATTEMPTS = 3  # GET attempts on 5xx / timeout / connection failure
    MAX_429_RETRIES = 2
    PATIENCE = 6.0  # the longest a short-period GET waits for a slot
    RETRY_WINDOW = 8.0  # GET retries stop when their next slot would come later than this

    def __init__(self, settings: Settings, store: Store, *, transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 retry_delays: tuple[float, ...] = (0.25, 0.5, 1.0)) -> None:
        if not settings.t212_api_key:
            raise AuthError("No Trading 212 API key is configured: set T212_API_KEY (and T212_SECRET_KEY)")
        env = settings.environment
        if env == "demo-sim":  # built from Settings meant for the simulator: say which T212 it is
            env = "t212-demo" if settings.t212_env == "demo" else "t212-live"
        self.environment = env
        self.base_url = settings.t212_api_base
        self._allow_live_orders = settings.allow_live_orders
        self._timeout = float(settings.http_timeout)
        self.store = store
        self.clock = clock
        self.sleep = sleep
        self.retry_delays = retry_delays
        self.budget = RateBudget(store, clock=clock, sleep=sleep)
        self._data_time: dict[str, float] = {}
        self._auth = _T212Auth(settings.t212_api_key, settings.t212_secret_key)
        self.rate_headers: dict[str, dict[str, str]] = {}  # endpoint -> the last x-ratelimit-* seen (doctor)
        self._http = httpx.Client(
            base_url=settings.t212_api_base.rstrip("/") + "/",
            timeout=self._timeout,
            transport=transport,
            auth=self._auth,
            headers={"Accept": "application/json", "User-Agent": "papishares"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"Trading212Client(environment={self.environment!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Trading212Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the Broker protocol: reads -----------------------------------------------------------------
    def account_summary(self) -> Account:
        return self._get("/equity/account/summary", parse.parse_account, kind="summary")

    def positions(self) -> list[BrokerPosition]:
        return self._get("/equity/positions", parse.parse_positions, kind="positions")

    def position(self, ticker: str) -> list[BrokerPosition]:
        """One ticker's position (spends the same 1/s budget as `positions()`: prefer that)."""
        return self._get("/equity/positions", parse.parse_positions, params={"ticker": ticker})

    def orders(self) -> list[Order]:
        return self._get("/equity/orders", parse.parse_orders, kind="orders")

    def order(self, order_id: int) -> Order | None:
        return self._get(f"/equity/orders/{int(order_id)}", parse.parse_order, not_found_none=True)

    def probe(self, path: str, params: dict[str, str] | None = None) -> bool:
        """A budgeted GET whose answer is only looked at (doctor's scope checks): True on 200,
        False on 404; MissingScope/AuthError/BrokerError otherwise. GET only: it can never order."""
        return self._get(path, lambda data, key: True, params=params, not_found_none=True,
                         use_cache=False, patience=0.0) is True

    def data_time(self, kind: str) -> float | None:
        if kind not in self._data_time and kind in ("instruments", "exchanges"):
            stored = self._stored_fetched_at(kind)
            if stored is not None:
                self._data_time[kind] = stored
        return self._data_time.get(kind)

    def instruments(self, refresh: bool = False) -> dict[str, Instrument]:
        return self._metadata("instruments", "/equity/metadata/instruments", parse.parse_instruments,
                              self._stored_instruments, self._save_instruments, self.INSTRUMENTS_TTL, refresh)

    def exchanges(self, refresh: bool = False) -> list[Exchange]:
        return self._metadata("exchanges", "/equity/metadata/exchanges", parse.parse_exchanges,
                              self._stored_exchanges, self._save_exchanges, self.EXCHANGES_TTL, refresh)

    def _metadata(self, kind: str, path: str, parser: Callable[[Any, str], T], load: Callable[[], T],
                  save: Callable[[T], None], ttl: float, refresh: bool) -> T:
        """Reference data kept in SQLite for `ttl`; refetched when older, or on `refresh` when the
        rate budget allows (an unknown ticker appeared). Serves what is stored when it cannot fetch."""
        stored = load()
        fetched_at = self._stored_fetched_at(kind)
        if stored and fetched_at is not None and not refresh and self.clock() - fetched_at < ttl:
            self._data_time[kind] = fetched_at
            return self._with_stored_problems(kind, stored)
        fresh = self._refetch(path, parser, bool(stored), kind)
        if fresh is None:
            if fetched_at is not None:
                self._data_time[kind] = fetched_at
            return self._with_stored_problems(kind, stored if stored else load())
        save(fresh)
        # The items skipped or marked travel with the stored metadata (they are reported by name).
        self.store.set_json(KeyFamily.PROBLEMS.of(kind), [asdict(p) for p in parse.problems_of(fresh)])
        return fresh

    def _with_stored_problems(self, kind: str, value: T) -> T:
        try:
            rows = self.store.get_json(KeyFamily.PROBLEMS.of(kind)) or []
            problems = tuple(parse.ItemProblem(**row) for row in rows)
        except (ValueError, TypeError):
            problems = ()
        if isinstance(value, dict):
            return parse.with_problems(parse.ParsedMap(value), list(problems))  # type: ignore[return-value]
        if isinstance(value, list):
            return parse.with_problems(parse.Parsed(value), list(problems))  # type: ignore[return-value]
        return value

    # -- history (issue 11): one page at a time, through the budgeted GET below ---------------------
    def history_page(self, kind: str, path: str, patience: float = 0.0) -> HistoryPage:
        """One page of orders/dividends/transactions history (see papishares.broker.t212_history)."""
        from papishares.broker import t212_history

        return t212_history.fetch_page(self, kind, path, patience)

    # -- the account itself ----------------------------------------------------------------------------
    def reset(self) -> bool:
        """A real account is never reset."""
        return False

    def export_report(self, directory: str | Path) -> Path | None:
        """Trading 212 prepares its CSV report on request: papishares.history.t212_report asks for it."""
        return None

    # -- the Broker protocol: orders (never retried) ------------------------------------------------
    def place_market_order(self, ticker: str, quantity: float, extended_hours: bool = False) -> Order:
        payload = {"ticker": ticker, "quantity": quantity, "extendedHours": bool(extended_hours)}
        return self._send_order("/equity/orders/market", payload, f"market order for {ticker}")

    def place_stop_order(self, ticker: str, quantity: float, stop_price: float,
                         time_validity: str = "GOOD_TILL_CANCEL") -> Order:
        payload = {"ticker": ticker, "quantity": quantity, "stopPrice": stop_price, "timeValidity": time_validity}
        return self._send_order("/equity/orders/stop", payload, f"stop order for {ticker}")

    def order_slot_in(self, method: str, path: str) -> float:
        """Seconds until the shared rate budget allows one more request to this order endpoint (0: now)."""
        return max(0.0, self.budget.next_free(endpoint_key(method, path)) - self.clock())

    def cancel_order(self, order_id: int) -> None:
        self._guard_live("cancel an order")
        path = f"/equity/orders/{int(order_id)}"
        resp = self._send_once("DELETE", path, None, f"cancellation of order {order_id}")
        if resp.status_code == 404:
            raise OrderRejected(f"Trading 212 has no pending order {order_id} to cancel (404)",
                                error_type="entity-not-found", detail=None, status=404)
        if resp.status_code >= 300:
            self._order_failure(resp, "DELETE", path, f"cancellation of order {order_id}")

    # -- reads: the budgeted, cached, retried GET ---------------------------------------------------
    def _get(self, path: str, parser: Callable[[Any, str], T], *, kind: str | None = None,
             params: dict[str, str] | None = None, not_found_none: bool = False, use_cache: bool = True,
             patience: float | None = None) -> T:
        key = endpoint_key("GET", path)
        limit = limit_for(key)
        cache_key = "GET " + path + ("?" + urlencode(sorted(params.items())) if params else "")
        fresh_for = limit.period + margin_for(limit)
        if patience is None:
            patience = min(limit.period + margin_for(limit) + 0.5, self.PATIENCE) if limit.period <= 6 else 0.0
        attempts = 0
        retries_429 = 0
        unavailable: str | None = None  # why the last attempt failed, when it was a 5xx/timeout
        give_up_at = self.clock() + self.RETRY_WINDOW
        while True:
            if unavailable is not None:  # a retry: only if a slot comes before the retry window ends
                patience = max(0.0, min(patience, give_up_at - self.clock()))
            got = self.budget.reserve(key, max_wait=patience, in_flight=self._timeout + 1.0,
                                      cache_key=cache_key if use_cache else None, fresh_for=fresh_for)
            if isinstance(got, Cached):
                return self._serve(got, parser, key, kind)
            if got is None:
                if unavailable is not None:
                    raise BrokerUnavailable(unavailable)
                stale = self.budget.cached(cache_key) if use_cache else None
                if stale is not None:
                    log.info("rate budget for %s spent: serving the answer from %.0f s ago", key,
                             self.clock() - stale.fetched_at)
                    return self._serve(stale, parser, key, kind)
                retry_at = self.budget.next_free(key)
                raise RateLimited(f"Trading 212 rate limit for {key}: no request allowed for "
                                  f"{max(0.0, retry_at - self.clock()):.0f} s and no stored answer", retry_at)
            attempts += 1
            try:
                resp = self._request(got, "GET", path, params=params)
            except _NoAnswer as exc:
                unavailable = (f"Trading 212 is unreachable ({key}: {exc.reason}, "
                               f"{attempts} attempt{'s' if attempts > 1 else ''})")
                if attempts >= self.MAX_ATTEMPTS:
                    raise BrokerUnavailable(unavailable) from None
                self.sleep(self._backoff(attempts))
                continue
            status = resp.status_code
            if status == 200:
                fetched_at = self.clock()
                value = parser(parse.loads(resp.text, key), key)
                if use_cache:
                    self.budget.store_response(cache_key, resp.text, 200, fetched_at)
                if kind:
                    self._data_time[kind] = fetched_at
                return value
            if status == 404 and not_found_none:
                return None  # type: ignore[return-value]
            self._raise_auth(resp, key)
            if status == 429:
                retries_429 += 1
                unavailable = None
                if retries_429 > self.MAX_429_RETRIES:
                    patience = 0.0  # serve the stale answer or RateLimited on the next turn
                else:  # wait for x-ratelimit-reset (the block just set), a few seconds at most
                    patience = min(max(patience, self.budget.next_free(key) - self.clock() + 0.1), self.PATIENCE)
                continue
            if status == 408 or status >= 500:
                unavailable = (f"Trading 212 is unreachable ({key}: HTTP {status}, "
                               f"{attempts} attempt{'s' if attempts > 1 else ''})")
                if attempts >= self.MAX_ATTEMPTS:
                    raise BrokerUnavailable(unavailable)
                self.sleep(self._backoff(attempts))
                continue
            error_type, detail = self._error_of(resp)
            raise BrokerError(f"Trading 212 refused {key} (HTTP {status}"
                              + (f", {error_type}" if error_type else "") + ")" + (f": {detail}" if detail else ""))

    def _serve(self, hit: Cached, parser: Callable[[Any, str], T], key: str, kind: str | None) -> T:
        value = parser(parse.loads(hit.body, key), key)
        if kind:
            self._data_time[kind] = hit.fetched_at
        return value

    def _backoff(self, attempt: int) -> float:
        return self.retry_delays[min(attempt - 1, len(self.retry_delays) - 1)] if self.retry_delays else 0.0

    def _refetch(self, path: str, parser: Callable[[Any, str], T], have_stored: bool, kind: str) -> T | None:
        """Fetch metadata now if the budget allows; None means "keep what is stored"."""
        try:
            # Nothing stored yet: worth waiting a little (another process may be fetching it).
            value = self._get(path, parser, use_cache=False, patience=0.0 if have_stored else self.PATIENCE)
        except (RateLimited, BrokerUnavailable, MalformedResponse) as exc:
            if have_stored:
                log.warning("keeping the stored %s: %s", kind, exc)
                return None
            if isinstance(exc, RateLimited) and self._wait_for_stored(kind):
                return None
            raise
        self._data_time[kind] = self.clock()
        return value

    def _wait_for_stored(self, kind: str) -> bool:
        """Another process holds the slot: give it a few seconds to fill the table."""
        deadline = self.clock() + self.PATIENCE
        while self.clock() < deadline:
            if self._stored_fetched_at(kind) is not None:
                return True
            self.sleep(0.2)
        return False

    # -- orders ------------------------------------------------------------------------------------
    def _guard_live(self, what: str) -> None:
        if self.environment == "t212-live" and not self._allow_live_orders:
            raise LiveOrdersForbidden(
                f"Refusing to {what} in the live Trading 212 account: set PAPISHARES_ALLOW_LIVE_ORDERS=true to allow it")

    def _send_order(self, path: str, payload: dict[str, Any], what: str) -> Order:
        self._guard_live(f"send a {what}")
        resp = self._send_once("POST", path, payload, what)
        if not 200 <= resp.status_code < 300:
            self._order_failure(resp, "POST", path, what)
        try:
            return parse.parse_order(parse.loads(resp.text, f"the {what}"), f"the {what}")
        except MalformedResponse:
            raise OrderOutcomeUnknown(
                f"Trading 212 answered the {what} with an unreadable body: it may have been placed; "
                "check pending orders and positions before any new attempt") from None

    def _send_once(self, method: str, path: str, payload: dict[str, Any] | None, what: str) -> httpx.Response:
        key = endpoint_key(method, path)
        limit = limit_for(key)
        patience = min(limit.period + margin_for(limit) + 0.5, self.PATIENCE) if limit.period <= 6 else 0.0
        got = self.budget.reserve(key, max_wait=patience, in_flight=self._timeout + 1.0)
        if not isinstance(got, Reservation):
            retry_at = self.budget.next_free(key)
            raise RateLimited(f"The {what} was not sent: the Trading 212 rate limit for {key} allows the next one "
                              f"in {max(0.0, retry_at - self.clock()):.0f} s", retry_at)
        try:
            return self._request(got, method, path, json_body=payload)
        except _NoAnswer as exc:
            raise OrderOutcomeUnknown(
                f"Trading 212 gave no answer to the {what} ({exc.reason}): it may or may not have been placed; "
                "check pending orders and positions before any new attempt") from None
        finally:
            self.budget.invalidate(*ORDER_INVALIDATES)

    def _order_failure(self, resp: httpx.Response, method: str, path: str, what: str) -> None:
        key = endpoint_key(method, path)
        status = resp.status_code
        self._raise_auth(resp, key)
        if status == 429:
            raise RateLimited(f"The {what} was not placed: Trading 212 answered 429 (rate limit for {key})",
                              self.budget.next_free(key))
        if status == 408 or status >= 500 or status < 400:
            # Only a 4xx proves the order was not placed; a 5xx, a timeout or anything unexpected
            # (a redirect, an informational answer) leaves the outcome to be reconciled.
            raise OrderOutcomeUnknown(
                f"Trading 212 answered the {what} with HTTP {status}: it may or may not have been placed; "
                "check pending orders and positions before any new attempt")
        error_type, detail = self._error_of(resp)
        message = f"Trading 212 rejected the {what} (HTTP {status}" + (f", {error_type}" if error_type else "") + ")"
        texts = tuple(self._auth.scrub(t) or "" for t in parse.error_texts(resp.text))
        raise OrderRejected(message + (f": {detail}" if detail else ""), error_type=error_type, detail=detail,
                            status=status, texts=texts)

    def _error_of(self, resp: httpx.Response) -> tuple[str | None, str | None]:
        """(type, detail) of an error answer in any shape, with nothing of our secrets in it."""
        error_type, detail = parse.parse_error(resp.text)
        return self._auth.scrub(error_type), self._auth.scrub(detail)

    # -- HTTP --------------------------------------------------------------------------------------
    def _raise_auth(self, resp: httpx.Response, key: str) -> None:
        if resp.status_code == 401:
            raise AuthError(AUTH_401)
        if resp.status_code == 403:
            scope = SCOPES.get(key, "a required")
            raise MissingScope(f"Trading 212 refused {key} (403): the API key lacks the '{scope}' permission; "
                               "enable it for the key in Trading 212 (Settings > API) or use a key that has it",
                               scope)

    def _request(self, slot: Reservation, method: str, path: str, *, params: dict[str, str] | None = None,
                 json_body: dict[str, Any] | None = None) -> httpx.Response:
        key = slot.key
        try:
            resp = self._http.request(method, path.lstrip("/"), params=params,
                                      content=None if json_body is None else json.dumps(json_body),
                                      headers=None if json_body is None else {"Content-Type": "application/json"})
            resp.read()
        except (httpx.ConnectError, httpx.ConnectTimeout):
            # no connection was made, so the server never saw the request: give the slot back
            self.budget.release(slot)
            raise _NoAnswer("connection failed", reached_server=False) from None
        except httpx.TimeoutException:
            self.budget.complete(slot)
            raise _NoAnswer(f"no answer within {self._timeout:g} s", reached_server=True) from None
        except httpx.HTTPError as exc:
            # the class name says enough (RemoteProtocolError, ReadError...); str(exc) is not shown
            self.budget.complete(slot)
            raise _NoAnswer(f"connection failed: {type(exc).__name__}", reached_server=True) from None
        self.budget.complete(slot)
        self.budget.note_response(key, resp.status_code, resp.headers)
        seen = {k.lower(): v for k, v in resp.headers.items() if k.lower().startswith("x-ratelimit-")}
        if seen:
            self.rate_headers[key] = seen
        return resp

    # -- metadata tables ---------------------------------------------------------------------------
    def _stored_fetched_at(self, kind: str) -> float | None:
        return instrument_store.oldest_fetch(self.store, "instruments" if kind == "instruments" else "exchanges")

    def _stored_instruments(self) -> dict[str, Instrument]:
        rows = instrument_store.instruments(self.store)
        return {
            r["ticker"]: Instrument(
                ticker=r["ticker"], name=r["name"] or r["ticker"], short_name=r["short_name"] or "",
                currency=r["currency"] or "", type=r["type"] or "STOCK", isin=r["isin"],
                working_schedule_id=r["working_schedule_id"], max_open_quantity=r["max_open_quantity"],
                extended_hours=bool(r["extended_hours"]))
            for r in rows
        }

    def _save_instruments(self, instruments: dict[str, Instrument]) -> None:
        now = self.clock()
        rows = [(i.ticker, i.name, i.short_name, i.currency, i.type, i.isin, i.working_schedule_id,
                 i.max_open_quantity, int(i.extended_hours), now) for i in instruments.values()]
        instrument_store.replace_instruments(self.store, rows)
        self._data_time["instruments"] = now

    def _stored_exchanges(self) -> list[Exchange]:
        out = []
        for r in instrument_store.exchanges(self.store):
            raw = json.loads(r["schedules"] or "{}")
            schedules = {
                int(sid): tuple(TimeEvent(parse.parse_datetime(d), t) for d, t in events)  # type: ignore[arg-type]
                for sid, events in raw.items()
            }
            out.append(Exchange(id=int(r["id"]), name=r["name"] or str(r["id"]), schedules=schedules))
        return out

    def _save_exchanges(self, exchanges: list[Exchange]) -> None:
        now = self.clock()
        rows = [(e.id, e.name, json.dumps({str(sid): [[ev.date.isoformat(), ev.type] for ev in events]
                                           for sid, events in e.schedules.items()}), now) for e in exchanges]
        instrument_store.replace_exchanges(self.store, rows)
        self._data_time["exchanges"] = now
