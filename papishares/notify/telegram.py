"""Telegram Bot API `sendMessage` over httpx, with the bot token kept out of every message.

httpx puts the full URL (which holds `bot<TOKEN>`) into its exceptions and its INFO log lines, so
every failure is turned into a `TelegramResult` whose text never contains the URL, and a filter on
the `httpx` logger masks any `/bot<token>/` path that would be logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from papishares.config import Secret, Settings
from papishares.notify.split import split_html

log = logging.getLogger(__name__)

TOKEN_IN_PATH = re.compile(r"/bot[^/\s]+/")
MAX_TEXT = 4096  # Telegram's limit for one message


class _MaskBotToken(logging.Filter):
    """Mask `/bot<token>/` in records of the httpx logger (it logs every request URL at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/bot" in message:
            record.msg, record.args = TOKEN_IN_PATH.sub("/bot********/", message), None
        return True


_httpx_logger = logging.getLogger("httpx")
if not any(isinstance(f, _MaskBotToken) for f in _httpx_logger.filters):
    _httpx_logger.addFilter(_MaskBotToken())


@dataclass(frozen=True)
class TelegramResult:
    """What became of one sendMessage. `error` is a sentence fit for a log or a page (no token)."""

    ok: bool
    error: str | None = None
    retry_after: float | None = None  # seconds, from a 429's parameters.retry_after
    permanent: bool = False  # Telegram refused this very message (400): retrying it cannot help
    migrate_to: str | None = None  # the group became a supergroup: its new chat id
    info: dict[str, Any] | None = None  # the `result` of a read call (getMe, getChat)


Migrated = Callable[[str, str], None]  # (old chat id, new chat id)


class TelegramClient:
    """One bot, one chat. `send()` never raises for network or API failures."""

    def __init__(self, api_base: str, token: Secret, chat_id: str, timeout: float = 10.0,
                 on_migrate: Migrated | None = None) -> None:
        self._api = f"{api_base.rstrip('/')}/bot{token.reveal()}/"
        self._url = self._api + "sendMessage"
        self._token = token.reveal()
        self.chat_id = chat_id
        self.on_migrate = on_migrate
        self._http = httpx.Client(timeout=timeout)

    @staticmethod
    def from_settings(settings: Settings, store: Any = None) -> TelegramClient | None:
        """The configured bot and chat. With the store: the chat a supergroup upgrade moved it to
        (persisted, so every process delivers there), and upgrades seen from now on are persisted."""
        if not settings.telegram_enabled:
            return None
        assert settings.telegram_bot_token is not None and settings.telegram_chat_id is not None
        chat, on_migrate = settings.telegram_chat_id, None
        if store is not None:
            from papishares.notify import migration

            chat = migration.current_chat(store, chat)
            on_migrate = migration.recorder(store, settings.telegram_chat_id)
        return TelegramClient(settings.telegram_api_base, settings.telegram_bot_token, chat,
                              timeout=min(settings.http_timeout, 10.0), on_migrate=on_migrate)

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"TelegramClient(chat_id={self.chat_id!r})"

    def _clean(self, text: str) -> str:
        """Belt and braces: whatever text we build, the token never survives in it."""
        return text.replace(self._token, "********") if self._token else text

    def send(self, text: str, silent: bool = False) -> TelegramResult:
        """Deliver `text`, split on safe boundaries when over Telegram's limit (parts in order; the
        first failure stops). A "group upgraded to a supergroup" answer is followed once to the new chat."""
        result = TelegramResult(False, "empty message")
        for part in split_html(text, MAX_TEXT):
            result = self._send_one(part, silent)
            if not result.ok:
                break
        return result

    def _send_one(self, text: str, silent: bool = False) -> TelegramResult:
        extra = {"disable_notification": True} if silent else {}  # per-kind "silent" and /mute (notify.prefs)
        result = self._post("sendMessage", {"chat_id": self.chat_id, "text": text, "parse_mode": "HTML",
                                            "disable_web_page_preview": True, **extra})
        if result.migrate_to and result.migrate_to != self.chat_id:
            old, self.chat_id = self.chat_id, result.migrate_to
            log.warning("Telegram chat %s became supergroup %s: delivering there", old, self.chat_id)
            if self.on_migrate is not None:
                self.on_migrate(old, self.chat_id)
            retry = self._post("sendMessage", {"chat_id": self.chat_id, "text": text, "parse_mode": "HTML",
                                               "disable_web_page_preview": True, **extra})
            return TelegramResult(retry.ok, retry.error, retry.retry_after, retry.permanent, self.chat_id)
        return result

    def get_me(self) -> TelegramResult:
        """getMe: checks the token without sending anything (`info` holds the bot's username)."""
        return self._post("getMe", {})

    def get_chat(self) -> TelegramResult:
        """getChat: can the bot see the chat? (an upgraded group answers with its new id, `migrate_to`)"""
        return self._post("getChat", {"chat_id": self.chat_id})

    def _post(self, method: str, body: dict[str, Any]) -> TelegramResult:
        try:
            response = self._http.post(self._api + method, json=body)
        except httpx.TimeoutException:
            return TelegramResult(False, "Telegram did not answer in time")
        except httpx.HTTPError as err:
            # str(err) may hold the URL and so the token: name only the kind of failure.
            return TelegramResult(False, f"Telegram unreachable ({type(err).__name__})")
        except httpx.InvalidURL:  # not an HTTPError: a stray character in the token or the base URL
            return TelegramResult(False, "the Telegram URL is invalid: check TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE")
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if response.status_code == 200 and data.get("ok") is True:
            result = data.get("result")
            return TelegramResult(True, info=result if isinstance(result, dict) else None)
        description = self._clean(str(data.get("description") or response.reason_phrase or "no description"))
        status = response.status_code
        if status == 429:
            raw_params = data.get("parameters")
            params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
            try:
                retry = float(params.get("retry_after", 5))
            except (TypeError, ValueError):
                retry = 5.0
            retry = min(max(retry, 1.0), 3600.0) if retry == retry else 5.0  # NaN or nonsense: neither spin nor stall
            return TelegramResult(False, f"Telegram asks to wait {retry:.0f} s (429)", retry_after=retry)
        if status in (401, 404):
            return TelegramResult(False, f"Telegram rejected the bot token ({status}: {description})")
        if status == 403:
            return TelegramResult(False, f"the bot cannot write to this chat (403: {description})")
        raw_params = data.get("parameters")
        params = raw_params if isinstance(raw_params, dict) else {}
        moved = params.get("migrate_to_chat_id")
        if status == 400 and isinstance(moved, int | str) and str(moved).lstrip("-").isdigit():
            return TelegramResult(False, f"the group became a supergroup with chat id {moved} (400: {description})",
                                  migrate_to=str(moved))
        if status == 400 and "chat not found" in description.lower():
            return TelegramResult(False, f"Telegram does not know this chat id (400: {description})")
        if status == 400:
            return TelegramResult(False, f"Telegram refused the message (400: {description})", permanent=True)
        return TelegramResult(False, f"Telegram failed ({status}: {description})")
