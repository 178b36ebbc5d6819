"""A fake Telegram Bot API on 127.0.0.1 (real HTTP): records sendMessage calls, fails on demand.

    with TelegramServer(token="123:ABC") as tg:
        tg.fail_next(500, count=2)        # the next two calls answer 500
        tg.rate_limit_next(retry_after=1) # the next call answers 429 with parameters.retry_after
        tg.down()                         # connections refused until tg.up()
        ... tg.messages -> [{"chat_id": ..., "text": ..., "parse_mode": ...}, ...]

The bot side (issue 12): `getUpdates` long polling (offset confirms, timeout waits),
`answerCallbackQuery`, `editMessageText`, `sendPhoto` (multipart, PNG checked); tests play the user:
        tg.user_says("/status", chat_id=77, user_id=9)  # a message in a chat
        tg.press(data, message_id, chat_id=77)          # a press on an inline button
        ... tg.answers (callback answers), tg.edits, tg.photos, tg.wait_updates_drained()

Real-world behaviour (issue 9): `tg.migrate_chat("-4242", "-1004242")` makes the old group answer
400 with `parameters.migrate_to_chat_id` (sendMessage and getChat), as an upgraded supergroup does;
a text over 4096 characters after entity parsing is refused ("message is too long"); `getMe` and
`getChat` answer read-only.
"""

from __future__ import annotations

import json
import threading
import time
from email.parser import BytesParser
from email.policy import HTTP
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


class _Visible(HTMLParser):
    """The text Telegram counts against its limit: tags removed, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def visible_length(text: str) -> int:
    """Length after entity parsing, in UTF-16 code units (how Telegram counts)."""
    parser = _Visible()
    parser.feed(text)
    parser.close()
    return len("".join(parser.chunks).encode("utf-16-le")) // 2


MAX_TEXT = 4096


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

BOT_METHODS = frozenset({"getUpdates", "answerCallbackQuery", "editMessageText", "sendPhoto"})


class TelegramServer:
    def __init__(self, token: str = "123456:TEST-token-abcdef", host: str = "127.0.0.1") -> None:
        self.token = token
        self.host = host
        self.messages: list[dict[str, Any]] = []
        self.requests = 0
        self._faults: list[tuple[int, dict[str, Any]]] = []
        self.migrated: dict[str, str] = {}  # old group chat id -> its supergroup's id
        self.bot_username = "papishares_test_bot"
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self._bot_init()

    # -- the bot side: updates the user sends, what the bot did with them ------------------------
    def _bot_init(self) -> None:
        self.updates: list[dict[str, Any]] = []  # not yet confirmed by an offset
        self.next_update_id = 1000
        self.answers: list[dict[str, Any]] = []  # answerCallbackQuery bodies
        self.edits: list[dict[str, Any]] = []  # editMessageText bodies
        self.photos: list[dict[str, Any]] = []  # sendPhoto: chat_id, caption, png (bytes), ...
        self.polls: list[dict[str, Any]] = []  # getUpdates calls: offset, timeout, at
        self._updates_cv = threading.Condition(self._lock)
        self._sent_by_id: dict[int, dict[str, Any]] = {}

    def _push_update(self, kind: str, payload: dict[str, Any]) -> int:
        with self._updates_cv:
            self.next_update_id += 1
            self.updates.append({"update_id": self.next_update_id, kind: payload})
            self._updates_cv.notify_all()
            return self.next_update_id

    def user_says(self, text: str, chat_id: int = 77, user_id: int = 9, chat_type: str = "private") -> int:
        """A user message arrives in `chat_id`; returns its update_id."""
        message = {"message_id": 100000 + self.next_update_id, "date": int(time.time()), "text": text,
                   "chat": {"id": chat_id, "type": chat_type}, "from": {"id": user_id, "is_bot": False}}
        return self._push_update("message", message)

    def press(self, data: str, message_id: int, chat_id: int = 77, user_id: int = 9) -> int:
        """The user presses an inline button carrying `data` under the bot's message `message_id`."""
        query = {"id": f"cb{self.next_update_id + 1}", "data": data, "from": {"id": user_id, "is_bot": False},
                 "message": {"message_id": message_id, "chat": {"id": chat_id, "type": "private"}}}
        return self._push_update("callback_query", query)

    def pending_updates(self) -> int:
        with self._lock:
            return len(self.updates)

    def buttons(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        """The inline buttons of a sent (or edited) message, flattened."""
        markup = message.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [b for row in markup.get("inline_keyboard", []) for b in row]

    def _get_updates(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        offset = int(body.get("offset") or 0)
        timeout = min(float(body.get("timeout") or 0), 50.0)
        with self._updates_cv:
            self.polls.append({"offset": offset, "timeout": timeout, "at": time.time()})
            if offset:  # Telegram forgets every update below the offset: they are confirmed
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            deadline = time.monotonic() + timeout
            while not self.updates and time.monotonic() < deadline:
                self._updates_cv.wait(deadline - time.monotonic())
            result = list(self.updates[: int(body.get("limit") or 100)])
        return 200, {"ok": True, "result": result}

    def _answer_callback(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not body.get("callback_query_id"):
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: query id is empty"}
        with self._lock:
            self.answers.append(body)
        return 200, {"ok": True, "result": True}

    def _edit_message(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        text = str(body.get("text") or "")
        problem = html_error(text) if body.get("parse_mode") == "HTML" else None
        if problem:
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {problem}"}
        with self._lock:
            sent = self._sent_by_id.get(int(body.get("message_id") or 0))
            if sent is None or str(sent.get("chat_id")) != str(body.get("chat_id")):
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message to edit not found"}
            self.edits.append(body)
        return 200, {"ok": True, "result": {"message_id": body["message_id"], "text": text}}

    def _send_photo(self, content_type: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        if "multipart/form-data" not in content_type:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: there is no photo in the request"}
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[str(name)] = part.get_payload(decode=True)
        photo = fields.pop("photo", None)
        if not photo or not photo.startswith(b"\x89PNG\r\n\x1a\n"):
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: IMAGE_PROCESS_FAILED"}
        entry = {k: v.decode() for k, v in fields.items()}
        entry["png"] = photo
        with self._lock:
            self.photos.append(entry)
            message_id = 50000 + len(self.photos)
        return 200, {"ok": True, "result": {"message_id": message_id}}

    def _bot_method(self, method: str, content_type: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        """The bot-side methods (BOT_METHODS); sendMessage is handled as before."""
        if method == "sendPhoto":
            return self._send_photo(content_type, raw)
        handlers = {"getUpdates": self._get_updates, "answerCallbackQuery": self._answer_callback,
                    "editMessageText": self._edit_message}
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: bad JSON"}
        return handlers[method](body)

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

    def migrate_chat(self, old: str, new: str) -> None:
        """The group `old` was upgraded to the supergroup `new` (ids as strings, like the config)."""
        with self._lock:
            self.migrated[str(old)] = str(new)

    def _migrated_answer(self, chat_id: Any) -> tuple[int, dict[str, Any]] | None:
        new = self.migrated.get(str(chat_id))
        if new is None:
            return None
        return 400, {"ok": False, "error_code": 400,
                     "description": "Bad Request: group chat was upgraded to a supergroup chat",
                     "parameters": {"migrate_to_chat_id": int(new)}}

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
                prefix = f"/bot{fake.token}/"
                if self.path.startswith(prefix) and self.path[len(prefix):] in BOT_METHODS:
                    self._answer(*(fault or fake._bot_method(self.path[len(prefix):],
                                                             self.headers.get("Content-Type") or "", raw)))
                    return
                if self.path in (f"/bot{fake.token}/getMe", f"/bot{fake.token}/getChat"):
                    if fault is not None:
                        self._answer(*fault)
                    else:
                        self._read_method(self.path.rsplit("/", 1)[1], raw)
                    return
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
                moved = fake._migrated_answer(body.get("chat_id"))
                if moved is not None:
                    self._answer(*moved)
                    return
                if (visible_length(text) if body.get("parse_mode") == "HTML" else len(text)) > MAX_TEXT:
                    self._answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"})
                    return
                if body.get("parse_mode") == "HTML":
                    problem = html_error(text)
                    if problem:
                        self._answer(400, {"ok": False, "error_code": 400, "description": f"Bad Request: {problem}"})
                        return
                with fake._lock:
                    fake.messages.append(body)
                    message_id = len(fake.messages)
                    fake._sent_by_id[message_id] = body
                self._answer(200, {"ok": True, "result": {"message_id": message_id, "text": text}})

            def _read_method(self, method: str, raw: bytes) -> None:
                if method == "getMe":
                    self._answer(200, {"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "Papishares",
                                                              "username": fake.bot_username}})
                    return
                try:
                    chat_id = json.loads(raw or b"{}").get("chat_id")
                except (ValueError, AttributeError):
                    chat_id = None
                moved = fake._migrated_answer(chat_id)
                if moved is not None:
                    self._answer(*moved)
                elif not chat_id:
                    self._answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})
                else:
                    self._answer(200, {"ok": True, "result": {"id": chat_id, "type": "group", "title": "Alerts"}})

        return Handler
