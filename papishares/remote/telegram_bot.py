"""Telegram as a remote control: a thin adapter from Bot API updates to `papishares.commands.handlers`
(which answers with the typed command results rendered by `papishares.commands.render_telegram`).

`RemoteControl` runs in its own thread of the worker, so the positions cycle never waits for it:
it long-polls `getUpdates` with a short timeout (it stops within the worker's 5 s shutdown), only
while this worker holds the lease (one bot reader per database; Telegram refuses two). The offset
is stored in SQLite BEFORE an update is handled: nothing is answered twice across restarts (a crash
mid-answer loses that answer rather than repeating an action). Only the configured chat, and in a
group optionally only TELEGRAM_ALLOWED_USERS, is answered; anything else is ignored and journalled.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from papishares.commands import render_telegram
from papishares.commands.accounts import AccountsCommands
from papishares.commands.handlers import Commands, PressResult, Reply, mark_reported, unreported_sells
from papishares.config import Secret, Settings
from papishares.notify.rules import for_account
from papishares.notify.telegram import MAX_TEXT
from papishares.store.db import Store
from papishares.store.keys import Key

log = logging.getLogger(__name__)

OFFSET_KEY = Key.TELEGRAM_OFFSET
POLL_TIMEOUT = 2  # s of long polling per getUpdates: short, so a stop is honoured quickly
MAX_BACKOFF = 30.0


class BotApi:
    """The Bot API methods the remote control uses. Never raises; errors never carry the token."""

    def __init__(self, api_base: str, token: Secret, timeout: float = 10.0) -> None:
        self._base = f"{api_base.rstrip('/')}/bot{token.reveal()}/"
        self._token = token.reveal()
        self._http = httpx.Client(timeout=timeout)
        self.last_error: str | None = None

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return "BotApi(token=********)"

    def call(self, method: str, payload: dict[str, Any] | None = None, files: dict[str, Any] | None = None,
             timeout: float | None = None) -> Any:
        """The method's `result`, or None (the reason in `last_error`, a sentence without the token)."""
        try:
            if files:
                response = self._http.post(self._base + method, data=payload, files=files,
                                           timeout=timeout or httpx.USE_CLIENT_DEFAULT)
            else:
                response = self._http.post(self._base + method, json=payload or {},
                                           timeout=timeout or httpx.USE_CLIENT_DEFAULT)
        except httpx.TimeoutException:
            return self._fail(f"Telegram {method}: no answer in time")
        except (httpx.HTTPError, httpx.InvalidURL) as err:
            return self._fail(f"Telegram {method}: unreachable ({type(err).__name__})")
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict) or data.get("ok") is not True:
            description = str(data.get("description") if isinstance(data, dict) else "") or response.reason_phrase
            return self._fail(f"Telegram {method} failed ({response.status_code}: "
                              f"{description.replace(self._token, '********')})")
        self.last_error = None
        return data.get("result")

    def _fail(self, error: str) -> None:
        self.last_error = error
        return None

    def get_updates(self, offset: int, timeout: int = POLL_TIMEOUT) -> list[dict[str, Any]] | None:
        result = self.call("getUpdates", {"offset": offset, "timeout": timeout,
                                          "allowed_updates": ["message", "callback_query"]},
                           timeout=timeout + 5.0)
        return [u for u in result if isinstance(u, dict)] if isinstance(result, list) else None

    def send(self, chat_id: str, reply: Reply) -> int | None:
        """Send a reply (text, buttons or a photo); the new message's id, or None."""
        markup = ({"inline_keyboard": [[{"text": b.text, "callback_data": b.data} for b in reply.buttons]]}
                  if reply.buttons else None)
        if reply.photo is not None:
            payload: dict[str, Any] = {"chat_id": chat_id, "caption": reply.text[:1024], "parse_mode": "HTML"}
            result = self.call("sendPhoto", payload, files={"photo": ("chart.png", reply.photo, "image/png")},
                               timeout=30.0)
        else:
            payload = {"chat_id": chat_id, "text": reply.text[:MAX_TEXT], "parse_mode": "HTML",
                       "disable_web_page_preview": True}
            if markup:
                payload["reply_markup"] = markup
            result = self.call("sendMessage", payload)
        return int(result["message_id"]) if isinstance(result, dict) and "message_id" in result else None

    def answer_callback(self, query_id: str, text: str) -> bool:
        return self.call("answerCallbackQuery", {"callback_query_id": query_id, "text": text[:200]}) is not None

    def edit(self, chat_id: str, message_id: int, text: str) -> bool:
        """Replace a message's text; its buttons go (a pressed confirmation cannot be pressed again)."""
        return self.call("editMessageText", {"chat_id": chat_id, "message_id": message_id,
                                             "text": text[:MAX_TEXT], "parse_mode": "HTML"}) is not None


class RemoteControl:
    """The polling thread. `holds_lease()` gates it: only the acting worker reads the bot's updates."""

    def __init__(self, settings: Settings, commands: Commands | AccountsCommands, store: Store,
                 holds_lease: Callable[[], bool], api: BotApi | None = None, poll_timeout: int = POLL_TIMEOUT) -> None:
        assert settings.telegram_bot_token is not None and settings.telegram_chat_id is not None
        self.settings = settings
        self.commands = commands
        self.store = store
        self.holds_lease = holds_lease
        self.api = api or BotApi(settings.telegram_api_base, settings.telegram_bot_token,
                                 timeout=min(settings.http_timeout, 10.0))
        self.poll_timeout = poll_timeout
        self.chat_id = str(settings.telegram_chat_id)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.handled = 0

    @staticmethod
    def from_settings(settings: Settings, commands: Commands | AccountsCommands, store: Store,
                      holds_lease: Callable[[], bool]) -> RemoteControl | None:
        if not settings.telegram_enabled:
            return None
        return RemoteControl(settings, commands, store, holds_lease)

    # -- the thread ------------------------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="papishares-telegram", daemon=True)
        self._thread.start()

    def stop(self, wait: float = 1.0) -> None:
        """Ask the thread to end; a long poll in flight ends by itself within POLL_TIMEOUT (daemon)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(wait)
        if self._thread is None or not self._thread.is_alive():
            self.api.close()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            if not self.holds_lease():
                self._stop.wait(0.5)
                continue
            try:
                ok = self.poll_once()
            except Exception:  # noqa: BLE001 - the remote control must outlive a bug in one update
                log.exception("Telegram update handling failed; continuing")
                ok = False
            failures = 0 if ok else failures + 1
            if failures:
                self._stop.wait(min(MAX_BACKOFF, 2.0 ** failures))

    # -- one poll --------------------------------------------------------------------------------
    def poll_once(self) -> bool:
        """Report finished sales, fetch updates and answer them. False when Telegram failed."""
        self.report_sells()
        offset = int(self.store.get(OFFSET_KEY) or 0)
        updates = self.api.get_updates(offset, self.poll_timeout)
        if updates is None:
            log.warning("%s", self.api.last_error)
            return False
        for update in sorted(updates, key=lambda u: int(u.get("update_id") or 0)):
            update_id = int(update.get("update_id") or 0)
            if update_id < offset:
                continue
            offset = update_id + 1
            self.store.set(OFFSET_KEY, str(offset))  # before answering: never answered twice
            self.handle(update)
        if updates:
            self.report_sells()
        return True

    def allowed(self, chat: dict[str, Any], user: dict[str, Any]) -> bool:
        chat_ok = str(chat.get("id")) == self.chat_id or (
            bool(chat.get("username")) and f"@{chat.get('username')}".lower() == self.chat_id.lower())
        users = self.settings.telegram_allowed_users
        return chat_ok and (not users or _int(user.get("id")) in users)

    def handle(self, update: dict[str, Any]) -> None:
        started = time.monotonic()
        message = update.get("message")
        query = update.get("callback_query")
        if isinstance(message, dict):
            chat, user = message.get("chat") or {}, message.get("from") or {}
            if not self.allowed(chat, user):
                self._ignored(update, chat, user)
                return
            reply = self.commands.handle(str(message.get("text") or ""), str(chat.get("id")), str(user.get("id")))
            if reply is None:
                return
            self._send(str(chat.get("id")), reply)
        elif isinstance(query, dict):
            msg = query.get("message") or {}
            chat, user = msg.get("chat") or {}, query.get("from") or {}
            if not self.allowed(chat, user):
                self._ignored(update, chat, user)
                self.api.answer_callback(str(query.get("id")), "Not allowed.")
                return
            try:
                result = self.commands.press(str(query.get("data") or ""), str(chat.get("id")), str(user.get("id")))
            except Exception as err:  # noqa: BLE001 - the press gets an answer, never a traceback
                log.exception("button press failed")
                result = PressResult(f"Failed ({type(err).__name__}); see the worker log.", None)
            self.api.answer_callback(str(query.get("id")), result.answer)
            if result.edit and msg.get("message_id"):
                self.api.edit(str(chat.get("id")), int(msg["message_id"]), result.edit)
            if result.reply is not None:
                self._send(str(chat.get("id")), result.reply)
        else:
            return
        self.handled += 1
        log.debug("Telegram update %s answered in %.3f s", update.get("update_id"), time.monotonic() - started)

    def _send(self, chat_id: str, reply: Reply) -> None:
        message_id = self.api.send(chat_id, reply)
        if message_id is None:
            log.warning("reply not delivered: %s", self.api.last_error)
        elif reply.confirmation:
            self.commands.attach_message(reply.confirmation, message_id)

    def _ignored(self, update: dict[str, Any], chat: dict[str, Any], user: dict[str, Any]) -> None:
        self.store.journal("telegram", None, "ignored",
                           f"Ignored a Telegram update from chat {chat.get('id')} (user {user.get('id')}): "
                           "not the configured chat or user",
                           {"update_id": update.get("update_id"), "chat": chat.get("id"), "user": user.get("id")})

    def report_sells(self) -> None:
        """Tell the chat what became of each confirmed /sell (edit the confirmation, else a new message)."""
        for account, store in self.commands.sell_stores():
            for row in unreported_sells(store):
                text = for_account(render_telegram.sell_outcome(row["ticker"], row["status"], row["note"]), account)
                chat = str(row["chat_id"] or self.chat_id)
                done = bool(row["message_id"]) and self.api.edit(chat, int(row["message_id"]), text)
                if not done:
                    done = self.api.send(chat, Reply(text)) is not None
                if done:
                    mark_reported(store, row["key"])


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

