"""Logging set-up: one line per record on stderr, with every configured secret redacted."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from papishares.config import SECRET_FIELDS, Settings


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


def secret_values(*accounts: Settings) -> list[str]:
    """Every configured secret of every account (`SECRET_FIELDS`: keys, tokens, passwords)."""
    # revealed before any set: every Secret equals every other as a str (they all read "********")
    return sorted({v.reveal() for a in accounts for name in SECRET_FIELDS if (v := getattr(a, name))})


def configure_logging(settings: Settings | Sequence[Settings] | None = None, level: str | None = None) -> None:
    level = level or os.environ.get("PAPISHARES_LOG_LEVEL", "INFO")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if settings is not None:
        every = (settings,) if isinstance(settings, Settings) else tuple(settings)
        handler.addFilter(RedactSecrets(secret_values(*every)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if level.upper() in logging._nameToLevel else "INFO")
    for noisy in ("httpx", "httpcore", "yfinance", "urllib3", "peewee"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
