"""Secrets never reach a log line, not even inside a logged exception."""

from __future__ import annotations

import io
import logging

from papishares.app.logs import configure_logging
from papishares.config import load_settings


def test_secrets_are_redacted_from_messages_and_exceptions() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        _check_redaction()
    finally:
        root.handlers[:], root.level = saved[0], saved[1]


def _check_redaction() -> None:
    settings = load_settings({"T212_API_KEY": "KEY-abc-123", "T212_SECRET_KEY": "SECRET-xyz-789",
                              "TELEGRAM_BOT_TOKEN": "555:BOT-token-000", "TELEGRAM_CHAT_ID": "1"}, dotenv_path=None)
    configure_logging(settings, "INFO")
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    handler.setStream(stream)  # type: ignore[attr-defined]
    log = logging.getLogger("papishares.test")
    log.info("calling https://api.telegram.org/bot%s/sendMessage", "555:BOT-token-000")
    try:
        raise RuntimeError("auth failed for KEY-abc-123:SECRET-xyz-789")
    except RuntimeError:
        log.exception("cycle failed")
    text = stream.getvalue()
    assert "cycle failed" in text and "RuntimeError" in text and "********" in text
    for secret in ("KEY-abc-123", "SECRET-xyz-789", "BOT-token-000"):
        assert secret not in text


def test_every_accounts_secrets_and_the_api_token_are_redacted() -> None:
    from papishares.app.logs import secret_values
    from papishares.config import load_accounts

    accounts = load_accounts({"PAPISHARES_ACCOUNTS": "invest,isa", "T212_INVEST_API_KEY": "KEY-one-111",
                              "T212_ISA_API_KEY": "KEY-two-222", "T212_ISA_SECRET_KEY": "SECRET-two-333",
                              "PAPISHARES_API_TOKEN": "TOKEN-api-444"})
    assert secret_values(*accounts) == ["KEY-one-111", "KEY-two-222", "SECRET-two-333", "TOKEN-api-444"]
