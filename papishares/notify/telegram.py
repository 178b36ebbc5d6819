"""Telegram Bot API `sendMessage` over httpx, with the bot token kept out of every message.

httpx puts the full URL (which holds `bot<TOKEN>`) into its exceptions and its INFO log lines, so
every failure is turned into a `TelegramResult` whose text never contains the URL, and a filter on
the `httpx` logger masks any `/bot<token>/` path that would be logged.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import httpx

from papishares.config import Secret, Settings

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


class TelegramClient:
    """One bot, one chat. `send()` never raises for network or API failures."""

    def __init__(self, api_base: str, token: Secret, chat_id: str, timeout: float = 10.0) -> None:
        self._url = f"{api_base.rstrip('/')}/bot{token.reveal()}/sendMessage"
        self._token = token.reveal()
        self.chat_id = chat_id
        self._http = httpx.Client(timeout=timeout)

    @staticmethod
    def from_settings(settings: Settings) -> TelegramClient | None:
        if not settings.telegram_enabled:
            return None
        assert settings.telegram_bot_token is not None and settings.telegram_chat_id is not None
        return TelegramClient(settings.telegram_api_base, settings.telegram_bot_token, settings.telegram_chat_id,
                              timeout=min(settings.http_timeout, 10.0))

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"TelegramClient(chat_id={self.chat_id!r})"

    def _clean(self, text: str) -> str:
        """Belt and braces: whatever text we build, the token never survives in it."""
        return text.replace(self._token, "********") if self._token else text

    def send(self, text: str, silent: bool = False) -> TelegramResult:
        body = {"chat_id": self.chat_id, "text": text[:MAX_TEXT], "parse_mode": "HTML",
                "disable_web_page_preview": True}
        if silent:  # per-kind "silent" and /mute (papishares.notify.prefs)
            body["disable_notification"] = True
        try:
            response = self._http.post(self._url, json=body)
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
            return TelegramResult(True)
        description = self._clean(str(data.get("description") or response.reason_phrase or "no description"))
        status = response.status_code
        if status == 429:
            params = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
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
        if status == 400 and "chat not found" in description.lower():
            return TelegramResult(False, f"Telegram does not know this chat id (400: {description})")
        if status == 400:
            return TelegramResult(False, f"Telegram refused the message (400: {description})", permanent=True)
        return TelegramResult(False, f"Telegram failed ({status}: {description})")
