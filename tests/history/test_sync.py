"""History sync against the local Trading 212 emulator: every nextPagePath form, its known bugs,
incremental walks, a crash resumed without duplicates, and the rate limit never exceeded."""

from __future__ import annotations

import pytest

from papishares.broker.t212_history import normalise_next
from papishares.broker.trading212 import Trading212Client
from papishares.config import Settings
from papishares.history import sync as history_sync
from papishares.history.sync import sync
from papishares.store.db import Store
from tests.fakes.t212_history import history_of, order_item
from tests.fakes.t212_server import FakeTrading212


def counts(store: Store) -> tuple[int, int, int]:
    return tuple(store.execute(f"SELECT count(*), count(DISTINCT id) FROM {t}")[0][0]  # type: ignore[return-value]
                 for t in ("hist_orders", "hist_dividends", "hist_transactions"))


@pytest.fixture
def client(t212_settings: Settings, store: Store) -> Trading212Client:
    return Trading212Client(t212_settings, store)


@pytest.mark.parametrize("form", ["full", "query", "qmark", "url", "rotate"])
@pytest.mark.parametrize("end", [None, ""])
def test_every_next_page_form_and_end(t212_server: FakeTrading212, client: Trading212Client, store: Store,
                                      form: str, end: str | None) -> None:
    book = history_of(t212_server)
    book.generate(orders=120, dividends=60, transactions=51)
    book.next_form, book.end_form = form, end
    report = sync(store, client, patience=0.0)
    assert report.complete, report.to_json()
    assert counts(store) == (120, 60, 51)
    assert t212_server.count("GET", "/equity/history/orders") == 3  # 50 + 50 + 20, limit=50
    assert t212_server.count("GET", "/equity/history/transactions") == 2  # string cursor + time


def test_normalise_next_forms() -> None:
    path = "/equity/history/orders?limit=50&cursor=17"
    for raw in ("/api/v0/equity/history/orders?limit=50&cursor=17", "limit=50&cursor=17", "?limit=50&cursor=17",
                "https://other.example/api/v0/equity/history/orders?limit=50&cursor=17"):
        assert normalise_next("orders", raw) == path
    assert normalise_next("orders", None) is None and normalise_next("orders", "") is None
    assert normalise_next("orders", 42) is None


def test_idempotent_and_incremental(t212_server: FakeTrading212, client: Trading212Client, store: Store) -> None:
    book = history_of(t212_server)
    book.generate(orders=100)
    sync(store, client, kinds=["orders"])
    before = store.query("SELECT * FROM hist_orders ORDER BY id")
    t212_server.reset_counters()
    t212_server.advance(61)
    # new fills arrive on top: the head walk reads the first page, which already holds known items: stop
    newest = max(int(i["fill"]["filledAt"][:4]) for i in book.orders)
    assert newest == 2025
    for n in range(3):
        book.orders.append(order_item(50_000 + n, "AAPL_US_EQ", "BUY", 1, 10.0, 1_800_000_000_000 + n))
    report = sync(store, client, kinds=["orders"])
    assert report.kinds["orders"].new_items == 3 and report.kinds["orders"].pages == 1
    after = store.query("SELECT * FROM hist_orders ORDER BY id")
    assert len(after) == 103
    assert [r for r in after if r["id"] in {b["id"] for b in before}] == before  # re-reading changed nothing


def test_crash_mid_sync_resumes_without_duplicates(t212_server: FakeTrading212, client: Trading212Client,
                                                   store: Store) -> None:
    history_of(t212_server).generate(orders=200)

    class Crashing:
        def __init__(self, inner: Trading212Client, after: int) -> None:
            self.inner, self.left = inner, after

        def history_page(self, kind: str, path: str, patience: float = 0.0) -> object:
            if self.left == 0:
                raise KeyboardInterrupt("process killed mid-sync")
            self.left -= 1
            return self.inner.history_page(kind, path, patience)

    with pytest.raises(KeyboardInterrupt):
        sync(store, Crashing(client, 2), kinds=["orders"])
    assert counts(store)[0] == 100
    assert history_sync.in_progress(store)
    report = sync(store, client, kinds=["orders"])
    assert report.kinds["orders"].pages == 2 and report.complete  # went on from page 3
    assert store.execute("SELECT count(*), count(DISTINCT id) FROM hist_orders")[0] == (200, 200)
    assert t212_server.count("GET", "/equity/history/orders") == 4


def test_404_on_a_later_page_is_retried_then_the_walk_ends(t212_server: FakeTrading212, client: Trading212Client,
                                                            store: Store) -> None:
    book = history_of(t212_server)
    book.generate(orders=150)
    book.not_found_on_page, book.not_found_times = 2, 1
    first = sync(store, client, kinds=["orders"])
    assert not first.complete and "404" in (first.kinds["orders"].note or "")
    assert counts(store)[0] == 50
    t212_server.advance(61)
    second = sync(store, client, kinds=["orders"])  # the 404 cleared: it goes on from the kept cursor
    assert second.complete and counts(store)[0] == 150

    store2 = Store(store.path.parent / "other.db")
    c2 = Trading212Client(client_settings(client), store2)
    book.not_found_times = 10
    for _ in range(history_sync.MAX_404):
        t212_server.advance(61)
        sync(store2, c2, kinds=["orders"])
    assert not history_sync.in_progress(store2)
    assert "older items may be missing" in history_sync.state(store2, "orders")["note"]


def client_settings(client: Trading212Client) -> Settings:
    from tests.conftest import t212_settings_for

    return t212_settings_for(_server_of(client), client.store.path)


_SERVERS: dict[str, FakeTrading212] = {}


def _server_of(client: Trading212Client) -> FakeTrading212:
    return _SERVERS[client.base_url]


@pytest.fixture(autouse=True)
def _remember(t212_server: FakeTrading212) -> None:
    _SERVERS[t212_server.base_url] = t212_server


def test_a_repeated_page_ends_the_walk(t212_server: FakeTrading212, client: Trading212Client, store: Store) -> None:
    book = history_of(t212_server)
    book.generate(orders=200)
    book.repeat_on_page = 2
    report = sync(store, client, kinds=["orders"])
    assert report.complete and "repeated" in (report.kinds["orders"].note or "")
    assert t212_server.count("GET", "/equity/history/orders") == 2  # page 2 points at itself: not read again
    assert counts(store)[0] == 100


def test_full_resync_fills_a_skipped_block(t212_server: FakeTrading212, client: Trading212Client,
                                           store: Store) -> None:
    book = history_of(t212_server)
    book.generate(orders=150)
    book.skip_after_page, book.skip_items = 1, 10
    sync(store, client, kinds=["orders"])
    assert counts(store)[0] == 140
    book.skip_after_page = None
    t212_server.advance(61)
    sync(store, client, kinds=["orders"], full=True)
    assert counts(store)[0] == 150


def test_paced_by_the_budget_and_resumed(t212_server: FakeTrading212, client: Trading212Client, store: Store) -> None:
    """9 pages at 6 / min: the first call takes the 6 free slots and stops; the next goes on."""
    history_of(t212_server).generate(orders=450)
    first = sync(store, client, kinds=["orders"], patience=0.0)
    assert first.kinds["orders"].pages == 6 and not first.complete
    assert "rate budget" in (first.kinds["orders"].note or "")
    t212_server.advance(61)
    store.execute("UPDATE rate_log SET ts = ts - 70")  # a minute and its margin passed
    store.execute("DELETE FROM rate_block")  # the x-ratelimit-reset block passed too
    second = sync(store, client, kinds=["orders"], patience=0.0)
    assert second.complete and counts(store)[0] == 450
    assert t212_server.violations_total == 0


def test_missing_scope_is_a_note(t212_server: FakeTrading212, client: Trading212Client, store: Store) -> None:
    t212_server.inject("GET", "/equity/history/dividends", "error", status=403, error_type="forbidden",
                       detail="Scope(history:dividends) missing for API key")
    report = sync(store, client, kinds=["dividends"])
    assert "history:dividends" in (report.kinds["dividends"].note or "")
