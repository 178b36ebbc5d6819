"""The external feed in the seed's shape: good, partial, malformed, missing, unreachable - never a crash."""

from __future__ import annotations

import json
import math
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from papishares.config import load_settings
from papishares.entries.feed import load_feed, parse_feed

GOOD = {
    "generated_on": "2024-05-01",
    "indices": {
        "FTSE100": {"name": "FTSE 100", "sections": {
            "breakouts": {"title": "55-day breakouts", "data": [
                {"ticker": "RR.L", "price": 612.4, "atr": 14.2, "atr_percent": 2.3, "profit_percent": 12.0, "pe": 20},
                {"ticker": "BP.L", "price": "455.1", "atr": None, "atr_percent": 1.1, "profit_percent": -3,
                 "pe": "n/a"},
            ]}}},
    },
}


def settings(tmp_path, **env: str):
    return load_settings({"DB_PATH": str(tmp_path / "db.sqlite"), **env}, dotenv_path=None)


def test_a_good_feed_gives_one_row_per_entry() -> None:
    feed = parse_feed(json.dumps(GOOD), "x")
    assert feed.note is None and feed.generated_on == "2024-05-01"
    assert feed.rows["ticker"].tolist() == ["RR.L", "BP.L"]
    first, second = feed.rows.to_dict("records")
    assert first["index_name"] == "FTSE 100" and first["section_title"] == "55-day breakouts"
    assert first["price"] == 612.4
    assert second["price"] == 455.1 and math.isnan(second["atr"]) and math.isnan(second["pe"])


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected shape"),
        (json.dumps({"generated_on": "x"}), "expected shape"),
        (json.dumps({"indices": {}}), "lists no entries"),
    ],
)
def test_malformed_feeds_give_a_note(text: str, words: str) -> None:
    feed = parse_feed(text, "feed.json")
    assert words in feed.note
    assert feed.rows.empty


def test_malformed_parts_are_skipped_and_counted() -> None:
    bad = json.loads(json.dumps(GOOD))
    bad["indices"]["X"] = {"name": "broken", "sections": [1, 2]}
    bad["indices"]["FTSE100"]["sections"]["breakouts"]["data"] += [{"price": 1}, "junk"]
    feed = parse_feed(json.dumps(bad), "f")
    assert len(feed.rows) == 2
    assert "3 malformed" in feed.note


def test_no_feed_configured(tmp_path) -> None:
    feed = load_feed(settings(tmp_path))
    assert not feed.configured and feed.note is None


def test_feed_from_a_file_and_a_missing_file(tmp_path) -> None:
    path = tmp_path / "entries.json"
    path.write_text(json.dumps(GOOD))
    assert len(load_feed(settings(tmp_path, ENTRIES_PATH=str(path))).rows) == 2
    missing = load_feed(settings(tmp_path, ENTRIES_PATH=str(tmp_path / "nope.json")))
    assert "does not exist" in missing.note


@pytest.fixture
def feed_server():
    """A local HTTP server: /good serves the feed, /broken HTML, /fail a 500."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body, status = {"/good": (json.dumps(GOOD), 200), "/broken": ("<html>oops</html>", 200)}.get(
                self.path, ("boom", 500))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_feed_over_http(tmp_path, feed_server) -> None:
    good = load_feed(settings(tmp_path, ENTRIES_URL=feed_server + "/good"))
    assert good.rows["ticker"].tolist() == ["RR.L", "BP.L"]
    assert "not valid JSON" in load_feed(settings(tmp_path, ENTRIES_URL=feed_server + "/broken")).note
    assert "HTTP 500" in load_feed(settings(tmp_path, ENTRIES_URL=feed_server + "/fail")).note


def test_an_unreachable_feed_gives_a_note(tmp_path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    feed = load_feed(settings(tmp_path, ENTRIES_URL=f"http://127.0.0.1:{port}/feed.json"))
    assert "unreachable" in feed.note and feed.rows.empty
