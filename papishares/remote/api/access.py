"""Who may call the JSON API: PAPISHARES_API_TOKEN as a bearer token (INTERFACE.md, "Access").

`verdict` is the pure rule. `Throttle` slows a repeated wrong token down exactly as the dashboard
slows a wrong password (papishares.ui.auth.wait_after: free tries, then 1, 2, 4 ... 300 s, counted
in the database so a restart or a second process does not reset it) and journals each one. The
token itself is never logged, journalled or echoed; it is compared in constant time.
"""

from __future__ import annotations

import hmac
import math
import time
from dataclasses import dataclass

from papishares.store.db import Store
from papishares.ui.auth import wait_after

FAILURES_KEY = "api.token_failures"  # kv: {"count": n, "last": t}
TOKEN_HELP = "send it as the header 'Authorization: Bearer <PAPISHARES_API_TOKEN>'"


@dataclass(frozen=True)
class Verdict:
    """0 = let it through; else the status to answer, its sentence, and whether to send the challenge."""

    status: int = 0
    error: str | None = None
    challenge: bool = False  # WWW-Authenticate: Bearer
    compare: bool = False  # a token was presented and must be compared (and throttled)
    retry_after: int = 0  # s, with a 429


ALLOW = Verdict()


def verdict(*, write: bool, token_configured: bool, presented: bool, signin_configured: bool) -> Verdict:
    """The access rule before any comparison: with a token configured every call presents one; without,
    reads are open only while the dashboard has no sign-in, and writes are never open."""
    if token_configured:
        if not presented:
            return Verdict(401, f"This endpoint needs the API token: {TOKEN_HELP}.", challenge=True)
        return Verdict(compare=True)
    if write:
        return Verdict(403, "Changing anything through the API needs a token: set PAPISHARES_API_TOKEN where "
                            f"the dashboard runs and {TOKEN_HELP}.")
    if signin_configured:
        return Verdict(401, "The dashboard has a sign-in, so the API needs a token too: set "
                            f"PAPISHARES_API_TOKEN where the dashboard runs and {TOKEN_HELP}.", challenge=True)
    return ALLOW


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None for any other header or none."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


def token_matches(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


class Throttle:
    """Wrong tokens in a row, kept in the store: each one journalled, and after a few each attempt waits."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _state(self) -> tuple[int, float]:
        state = self.store.get_json(FAILURES_KEY) or {}
        return int(state.get("count") or 0), float(state.get("last") or 0.0)

    def wait_left(self, now: float | None = None) -> float:
        """Seconds before the next token may be tried (0: now)."""
        now = time.time() if now is None else now
        count, last = self._state()
        return max(0.0, last + wait_after(count) - now)

    def failed(self, client: str, now: float | None = None) -> int:
        now = time.time() if now is None else now
        count = self._state()[0] + 1
        self.store.set_json(FAILURES_KEY, {"count": count, "last": now})
        self.store.journal("auth", None, "wrong_api_token", f"Wrong API token from {client} ({count} in a row)")
        return count

    def succeeded(self, now: float | None = None) -> None:
        if self._state()[0]:
            self.store.set_json(FAILURES_KEY, {"count": 0, "last": time.time() if now is None else now})


def check_token(throttle: Throttle, presented: str, expected: str, client: str,
                now: float | None = None) -> Verdict:
    """Compare a presented token; while a wrong-token wait runs, nothing is compared (429)."""
    left = throttle.wait_left(now)
    if left > 0:
        wait = math.ceil(left)
        return Verdict(429, f"Too many wrong API tokens: try again in {wait} s.", retry_after=wait)
    if token_matches(presented, expected):
        throttle.succeeded(now)
        return ALLOW
    throttle.failed(client, now)
    return Verdict(401, f"Wrong API token: {TOKEN_HELP}.", challenge=True)
