"""A fake Telegram Bot API on 127.0.0.1 (real HTTP): records sendMessage calls, fails on demand.

    with TelegramServer(token="123:ABC") as tg:
        tg.fail_next(500, count=2)        # the next two calls answer 500
        tg.rate_limit_next(retry_after=1) # the next call answers 429 with parameters.retry_after
        tg.down()                         # connections refused until tg.up()
        ... tg.messages -> [{"chat_id": ..., "text": ..., "parse_mode": ...}, ...]
"""

from __future__ import annotations

import json
import threading
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler",
                "span", "blockquote"}


class _EntityCheck(HTMLParser):
    """Telegram's HTML rules, the part that matters: known tags only, balanced, no bare '&'."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.error = self.error or f"Unsupported start tag \"{tag}\""
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.error = self.error or f"Unmatched end tag \"{tag}\""

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            self.error = self.error or f"Unsupported entity \"{name}\""


def html_error(text: str) -> str | None:
    """Why Telegram would refuse `text` with parse_mode HTML, or None."""
    # A bare '&' not starting an entity is refused by Telegram.
    i = text.find("&")
    while i != -1:
        rest = text[i + 1: i + 8]
        if not any(rest.startswith(e) for e in ("lt;", "gt;", "amp;", "quot;", "#")):
            return "Can't parse entities: character '&' is reserved and must be escaped"
        i = text.find("&", i + 1)
    checker = _EntityCheck()
    checker.feed(text)
    checker.close()
    if checker.error is None and checker.stack:
        checker.error = f"Can't find end tag corresponding to start tag \"{checker.stack[-1]}\""
    return f"Can't parse entities: {checker.error}" if checker.error else None


class TelegramServer:
    def __init__(self, token: str = "123456:TEST-token-abcdef", host: str = "127.0.0.1") -> None:
        self.token = token
        self.host = host
        self.messages: list[dict[str, Any]] = []
        self.requests = 0
        self._faults: list[tuple[int, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- control --------------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def fail_next(self, status: int = 500, count: int = 1) -> None:
        with self._lock:
            self._faults.extend((status, {"ok": False, "error_code": status,
                                          "description": "Internal Server Error"}) for _ in range(count))

    def rate_limit_next(self, retry_after: int = 1, count: int = 1) -> None:
        body = {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after}}
        with self._lock:
            self._faults.extend((429, body) for _ in range(count))

    def texts(self) -> list[str]:
        with self._lock:
            return [m["text"] for m in self.messages]

    def start(self) -> TelegramServer:
        server = ThreadingHTTPServer((self.host, self.port), self._handler())
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def down(self) -> None:
        """Stop listening: clients get connection refused (the port is kept for up())."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def up(self) -> None:
        if self._server is None:
            self.start()

    stop = down

    def __enter__(self) -> TelegramServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.down()

    # -- HTTP -----------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with fake._lock:
                    fake.requests += 1
                    fault = fake._faults.pop(0) if fake._faults else None
                if self.path != f"/bot{fake.token}/sendMessage":
                    self._answer(404,
                                 {"ok": False, "error_code": 404, "description": "Not Found"})
                    return
                if fault is not None:
                    self._answer(*fault)
                    return
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    self._answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: bad JSON"})
                    return
                text = str(body.get("text") or "")
                if not text or not body.get("chat_id"):
                    self._answer(400, {"ok": False, "error_code": 400,
                                       "description": "Bad Request: message text is empty"})
                    return
                if body.get("parse_mode") == "HTML":
                    problem = html_error(text)
                    if problem:
                        self._answer(400, {"ok": False, "error_code": 400, "description": f"Bad Request: {problem}"})
                        return
                with fake._lock:
                    fake.messages.append(body)
                    message_id = len(fake.messages)
                self._answer(200, {"ok": True, "result": {"message_id": message_id, "text": text}})

        return Handler
