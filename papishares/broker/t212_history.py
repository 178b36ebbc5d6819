"""History pages from Trading 212 (`/equity/history/orders|dividends|transactions`) and the CSV export.

One page per call, through the client's budgeted GET (the shared rate budget, 429 handling,
5xx retries, x-ratelimit-* blocks), never cached: a history page is read once and stored by the
sync (papishares.history.sync). `nextPagePath` comes in three forms (a full path, a bare query
string, null/""): `next_request` turns each into (path, params) for the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from papishares.core.errors import MalformedResponse

PATHS = {
    "orders": "/equity/history/orders",
    "dividends": "/equity/history/dividends",
    "transactions": "/equity/history/transactions",
}
PAGE_LIMIT = 50  # the documented maximum


@dataclass(frozen=True)
class HistoryPage:
    items: list[dict[str, Any]]
    next_path: str | None  # as the broker gave it (normalised: None at the end)
    not_found: bool = False  # 404 on this page (a known bug on later pages)


def first_request(kind: str) -> str:
    return f"{PATHS[kind]}?limit={PAGE_LIMIT}"


def normalise_next(kind: str, raw: Any) -> str | None:
    """`nextPagePath` as a path relative to the API root with its query, or None at the end.

    "/api/v0/equity/history/orders?limit=50&cursor=1" -> "/equity/history/orders?limit=50&cursor=1";
    "limit=50&cursor=1" or "?limit=50&cursor=1" -> the endpoint's path with that query;
    a full URL keeps only its path and query (never its host: credentials go only to the base URL).
    """
    if raw is None or not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    if "://" in text:
        parts = urlsplit(text)
        text = parts.path + (f"?{parts.query}" if parts.query else "")
    if text.startswith("?"):
        return PATHS[kind] + text
    if not text.startswith("/"):
        if "=" in text.split("/", 1)[0]:
            return f"{PATHS[kind]}?{text}"
        text = "/" + text
    if text.startswith("/api/v0/"):
        text = text[len("/api/v0"):]
    if not text.startswith("/equity/history/"):
        text = PATHS[kind] + ("?" + text.split("?", 1)[1] if "?" in text else "")
    return text


def split_request(path: str) -> tuple[str, dict[str, str]]:
    """"/equity/history/orders?limit=50&cursor=1" -> ("/equity/history/orders", {"limit": "50", "cursor": "1"})."""
    base, _, query = path.partition("?")
    return base, dict(parse_qsl(query, keep_blank_values=True))


def parse_page(kind: str, data: Any) -> HistoryPage:
    """The page's items (objects only: anything else costs that item) and its next path."""
    if not isinstance(data, dict) or not isinstance(data.get("items", []), list):
        raise MalformedResponse(f"Trading 212 answered the {kind} history with an unexpected shape")
    items = [i for i in data.get("items") or [] if isinstance(i, dict)]
    return HistoryPage(items, normalise_next(kind, data.get("nextPagePath")))


def fetch_page(client: Any, kind: str, path: str, patience: float) -> HistoryPage:
    """One history page through `Trading212Client._get` (budgeted, uncached). 404 -> not_found."""
    base, params = split_request(path)
    page = client._get(base, lambda data, _key: parse_page(kind, data), params=params or None,
                       not_found_none=True, use_cache=False, patience=patience)
    if page is None:
        return HistoryPage([], None, not_found=True)
    return page
