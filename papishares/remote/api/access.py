"""Who may call the JSON API: PAPISHARES_API_TOKEN as a bearer token (INTERFACE.md, "Access").

`verdict` is the pure rule. `Throttle` counts wrong tokens in the database and journals each one, as
the dashboard does for a wrong password (papishares.ui.auth); past a few, each wrong token's answer
is held 1, 2, 4 ... 10 s, one at a time. The token itself is never logged, journalled or echoed; it
is compared in constant time.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from papishares.store.db import Store

FAILURES_KEY = "api.token_failures"  # kv: {"count": n, "last": t}
FREE_TRIES = 10  # wrong tokens in a row answered at once (a script with an old token is not a guesser)
MAX_WAIT = 10.0  # s: the longest a wrong token's answer is held
QUIET = 900.0  # s without a wrong token that end a run of them
TOKEN_HELP = "send it as the header 'Authorization: Bearer <PAPISHARES_API_TOKEN>'"


@dataclass(frozen=True)
class Verdict:
    """0 = let it through; else the status to answer, its sentence, and whether to send the challenge."""

    status: int = 0
    error: str | None = None
    challenge: bool = False  # WWW-Authenticate: Bearer
    compare: bool = False  # a token was presented and must be compared (and throttled)
    delay: float = 0.0  # s to hold the answer (a repeated wrong token)


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


def penalty(failures: int) -> float:
    """Seconds a wrong token's answer is held after `failures` wrong ones in a row (0 ... 1, 2, 4 ... 10)."""
    if failures <= FREE_TRIES:
        return 0.0
    return min(MAX_WAIT, 2.0 ** min(failures - FREE_TRIES - 1, 16))  # a long run must not overflow


class Throttle:
    """Wrong tokens in a row, counted in the store (a restart or a second process does not reset them),
    each one journalled. A run of them ends after QUIET seconds without one."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def failed(self, client: str, now: float | None = None) -> int:
        now = time.time() if now is None else now
        state = self.store.get_json(FAILURES_KEY) or {}
        count, last = int(state.get("count") or 0), float(state.get("last") or 0.0)
        count = 1 if now - last > QUIET else count + 1
        self.store.set_json(FAILURES_KEY, {"count": count, "last": now})
        self.store.journal("auth", None, "wrong_api_token", f"Wrong API token from {client} ({count} in a row)")
        return count


def check_token(throttle: Throttle, presented: str, expected: str, client: str,
                now: float | None = None) -> Verdict:
    """Compare a presented token. A wrong one is counted and journalled, and past FREE_TRIES its answer
    is held (`delay`, served one at a time by the caller) so guesses cannot go fast, even in parallel.
    The right token is never held: a guesser cannot lock the owner's scripts out."""
    if token_matches(presented, expected):
        return ALLOW
    count = throttle.failed(client, now)
    return Verdict(401, f"Wrong API token: {TOKEN_HELP}.", challenge=True, delay=penalty(count))
