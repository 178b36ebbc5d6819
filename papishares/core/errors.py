"""Typed errors. Every message is one sentence a user can act on and never holds a secret."""

from __future__ import annotations


class PapisharesError(Exception):
    """Base of every expected failure: front ends print `str(err)`, never a traceback."""


class BrokerError(PapisharesError):
    """The broker could not give what was asked."""


class AuthError(BrokerError):
    """401/403: the key is wrong, for the other environment, or lacks a scope. Not retried."""


class MissingScope(AuthError):
    """403: the key is valid but lacks the permission (scope) an endpoint needs."""

    def __init__(self, message: str, scope: str) -> None:
        super().__init__(message)
        self.scope = scope


class BrokerUnavailable(BrokerError):
    """Connection failure, timeout or 5xx after the bounded retries."""


class RateLimited(BrokerError):
    """The shared rate budget (or a 429) forbids a request now and no stored answer exists."""

    def __init__(self, message: str, retry_at: float | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class MalformedResponse(BrokerError):
    """The broker answered with a body that is not the expected JSON."""


class OrderRejected(BrokerError):
    """The broker refused an order (4xx with an error body). The order was not placed."""

    def __init__(self, message: str, error_type: str | None = None, detail: str | None = None,
                 status: int | None = None, texts: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.detail = detail
        self.status = status
        # every string the body carried (type, code, title, detail, clarification, message): a rule
        # such as the allowed quantity precision may sit in any of them
        self.texts = texts


class OrderOutcomeUnknown(BrokerError):
    """An order request timed out or got a 5xx: it may or may not have been placed. Never resend blindly."""


class LiveOrdersForbidden(PapisharesError):
    """An order was about to go to the live environment without PAPISHARES_ALLOW_LIVE_ORDERS=true."""


class MarketDataError(PapisharesError):
    """Market data could not be fetched; callers fall back to cached bars."""
