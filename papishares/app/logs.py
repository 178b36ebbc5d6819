"""Logging set-up: one line per record on stderr, with every configured secret redacted."""

from __future__ import annotations

import logging
import os

from papishares.config import Settings


class RedactSecrets(logging.Filter):
    """Replace any secret value that slips into a log record (defence in depth)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def redact(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "********")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            if any(s in message for s in self.secrets):
                record.msg, record.args = self.redact(message), None
            if record.exc_info and not record.exc_text:  # a logged exception's text too
                record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        return True


def secret_values(settings: Settings) -> list[str]:
    return [s.reveal() for s in (settings.t212_api_key, settings.t212_secret_key, settings.telegram_bot_token,
                                  settings.dashboard_password) if s]


def configure_logging(settings: Settings | None = None, level: str | None = None) -> None:
    level = level or os.environ.get("PAPISHARES_LOG_LEVEL", "INFO")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if settings is not None:
        handler.addFilter(RedactSecrets(secret_values(settings)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if level.upper() in logging._nameToLevel else "INFO")
    for noisy in ("httpx", "httpcore", "yfinance", "urllib3", "peewee"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
