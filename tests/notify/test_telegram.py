"""Telegram delivery over real HTTP to the local fake Bot API: the outbox, escaping, the token."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from papishares.config import Secret, Settings
from papishares.notify import Notifier, outbox, send_test_alert
from papishares.notify.rules import AlertEvent, autosell_event
from papishares.notify.telegram import TelegramClient
from papishares.store.db import Store
from tests.fakes.telegram_server import TelegramServer
from tests.notify.test_rules import position

TOKEN = "987654:SECRET-bot-token-xyz"


@pytest.fixture
def tg() -> Iterator[TelegramServer]:
    with TelegramServer(token=TOKEN) as server:
        yield server


def settings_for(tg: TelegramServer, tmp_path: Path, token: str = TOKEN) -> Settings:
    return Settings(telegram_bot_token=Secret(token), telegram_chat_id="4242", telegram_api_base=tg.base,
                    db_path=tmp_path / "p.db", http_timeout=2.0)


@pytest.fixture
def notifier(tg: TelegramServer, tmp_path: Path) -> Iterator[Notifier]:
    settings = settings_for(tg, tmp_path)
    n = Notifier(settings, Store(settings.db_path))
    yield n
    n.close()


def event(i: int) -> AlertEvent:
    return AlertEvent("test", f"<b>alert {i}</b>", None, f"k{i}")


def test_sends_html_to_the_chat(tg: TelegramServer, notifier: Notifier) -> None:
    assert notifier.emit(event(1)) is True
    assert notifier.emit(event(1)) is False  # same key: once
    result = notifier.flush()
    assert result is not None and result.sent == 1 and result.pending == 0
    assert tg.messages == [{"chat_id": "4242", "text": "<b>alert 1</b>", "parse_mode": "HTML",
                            "disable_web_page_preview": True}]
    assert notifier.flush().sent == 0  # type: ignore[union-attr]


def test_outbox_delivers_after_telegram_recovers_once_in_order(tg: TelegramServer, notifier: Notifier) -> None:
    tg.down()
    for i in range(3):
        notifier.emit(event(i))
    result = notifier.flush()
    assert result is not None and result.sent == 0 and result.pending == 3 and "unreachable" in (result.error or "")
    tg.up()
    notifier.store.execute("UPDATE outbox SET next_attempt_at = 0")  # skip the backoff wait
    tg.fail_next(500)
    assert notifier.flush().sent == 0  # type: ignore[union-attr]
    notifier.store.execute("UPDATE outbox SET next_attempt_at = 0")
    notifier.emit(event(3))
    assert notifier.flush().sent == 4  # type: ignore[union-attr]
    assert notifier.flush().sent == 0  # type: ignore[union-attr]
    assert tg.texts() == [f"<b>alert {i}</b>" for i in range(4)]


def test_429_waits_retry_after_and_keeps_the_order(tg: TelegramServer, notifier: Notifier) -> None:
    notifier.emit(event(1))
    notifier.emit(event(2))
    tg.rate_limit_next(retry_after=1)
    first = notifier.flush()
    assert first is not None and first.sent == 0 and "429" in (first.error or "")
    row = notifier.store.query("SELECT next_attempt_at FROM outbox ORDER BY id LIMIT 1")[0]
    assert row["next_attempt_at"] > time.time() + 0.5
    assert notifier.flush().sent == 0  # type: ignore[union-attr]  # not before retry_after
    time.sleep(1.05)
    assert notifier.flush().sent == 2  # type: ignore[union-attr]
    assert tg.texts() == ["<b>alert 1</b>", "<b>alert 2</b>"]


def test_a_message_telegram_refuses_does_not_block_the_queue(tg: TelegramServer, notifier: Notifier) -> None:
    notifier.emit(AlertEvent("test", "<b>broken & unescaped", None, "bad"))
    notifier.emit(event(2))
    result = notifier.flush()
    assert result is not None and result.failed == 1 and result.sent == 1
    assert tg.texts() == ["<b>alert 2</b>"]


def test_an_s_and_p_fund_name_is_delivered(tg: TelegramServer, notifier: Notifier) -> None:
    p = position("VUSAl_EQ", short_name="VUSA", name="Vanguard S&P 500 UCITS ETF", currency="GBP",
                 current_price=80.0, stop_loss_price=85.0)
    notifier.emit(autosell_event("autosell_placed", p, "Sold 18 at market.", "GBP"))
    assert notifier.flush().sent == 1  # type: ignore[union-attr]
    assert "Vanguard S&amp;P 500 UCITS ETF" in tg.texts()[0]


def test_without_telegram_alerts_still_reach_the_journal(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.db")
    n = Notifier(Settings(db_path=tmp_path / "p.db"), store)
    assert n.emit(event(1)) and n.flush() is None
    assert store.journal_entries(kind="alert")[0]["message"] == "alert 1"
    assert outbox.pending_count(store) == 0


def test_the_bot_token_never_reaches_logs_or_errors(tg: TelegramServer, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # httpx logs each request URL (with the token) at INFO
    good = TelegramClient(tg.base, Secret(TOKEN), "4242", timeout=1.0)
    wrong = TelegramClient(tg.base, Secret("111:WRONG-token-abc"), "4242", timeout=1.0)
    results = [good.send("<b>hi</b>"), wrong.send("hi")]
    tg.fail_next(500)
    results.append(good.send("hi"))
    tg.down()
    results.append(good.send("hi"))
    assert [r.ok for r in results] == [True, False, False, False]
    assert "rejected the bot token" in (results[1].error or "")
    assert "unreachable" in (results[3].error or "")
    logged = caplog.text + " ".join(str(r) for r in results) + repr(good)
    assert "/bot********/sendMessage" in caplog.text  # httpx's own request lines, masked
    for secret in (TOKEN, "WRONG-token-abc"):
        assert secret not in logged
    good.close()
    wrong.close()


def test_send_test_alert_one_line(tg: TelegramServer, tmp_path: Path) -> None:
    settings = settings_for(tg, tmp_path)
    store = Store(settings.db_path)
    assert send_test_alert(settings, store) == "Test alert sent to chat 4242."
    assert "test alert" in tg.texts()[0]
    tg.down()
    answer = send_test_alert(settings, store)
    assert answer.startswith("Test alert not delivered") and TOKEN not in answer
    assert "not configured" in send_test_alert(Settings(db_path=tmp_path / "p.db"), store)


def test_a_macd_crossover_reaches_telegram_once_per_bar_across_restarts(tg: TelegramServer, tmp_path: Path) -> None:
    from dataclasses import replace

    from papishares.notify.rules import evaluate
    from tests.notify.test_rules import snapshot

    settings = settings_for(tg, tmp_path)
    bar1 = position(macd_crossover="BULLISH", last_bar_date="2026-11-23", yahoo_symbol="TSLA")
    for p in (bar1, bar1, bar1, replace(bar1, last_bar_date="2026-11-24"), replace(bar1, last_bar_date="2026-11-24")):
        n = Notifier(settings, Store(settings.db_path))  # a fresh process each time: keys live in SQLite
        n.apply(evaluate(None, snapshot(p), n.keys()))
        n.flush()
        n.close()
    texts = tg.texts()
    assert len(texts) == 2 and all("MACD bullish crossover" in t for t in texts)
    assert "2026-11-23" in texts[0] and "2026-11-24" in texts[1]


def test_a_token_that_makes_an_invalid_url_fails_softly(tg: TelegramServer, tmp_path: Path) -> None:
    """`send()` never raises: an InvalidURL (not an httpx.HTTPError) would stop every worker cycle's flush."""
    client = TelegramClient(tg.base, Secret("123:bad\x01token"), "4242", timeout=1.0)
    try:
        result = client.send("hi")
    finally:
        client.close()
    assert result.ok is False and "bad" not in (result.error or "") and "TELEGRAM" in (result.error or "")


# -- issue 9: Telegram as it really behaves -------------------------------------------------------------
def test_a_group_upgraded_to_a_supergroup_gets_its_alerts_and_the_user_is_told_once(tg: TelegramServer,
                                                                                    tmp_path: Path) -> None:
    from papishares.notify import migration

    tg.migrate_chat("4242", "-1004242")
    settings = settings_for(tg, tmp_path)
    n = Notifier(settings, Store(settings.db_path))
    n.emit(event(1))
    assert n.flush().sent >= 1  # type: ignore[union-attr]
    n.emit(event(2))
    n.flush()
    n.close()
    assert [m["chat_id"] for m in tg.messages if m["text"].startswith("<b>alert")] == ["-1004242", "-1004242"]
    # a new process (the dashboard, the CLI) on the same database goes straight to the new chat
    store = Store(settings.db_path)
    n2 = Notifier(settings, store)
    before = tg.requests
    n2.emit(event(3))
    n2.flush()
    n2.close()
    assert tg.requests == before + 1 and tg.messages[-1]["chat_id"] == "-1004242"
    told = [m for m in tg.messages if "supergroup" in m["text"]]
    assert len(told) == 1 and "TELEGRAM_CHAT_ID=-1004242" in told[0]["text"] and told[0]["chat_id"] == "-1004242"
    assert [e["action"] for e in store.journal_entries(kind="alert")].count("telegram_migrated") == 1
    assert "TELEGRAM_CHAT_ID=-1004242" in (migration.notice(store, "4242") or "")
    assert migration.notice(store, "-1004242") is None  # the user updated the variable: nothing to say
    assert send_test_alert(settings, store) == "Test alert sent to chat -1004242."


def test_a_long_message_arrives_in_order_each_part_once(tg: TelegramServer, notifier: Notifier) -> None:
    lines = [f"<b>{i:04d}</b> S&amp;P line {'x' * 60}" for i in range(200)]  # ~15k visible characters
    notifier.emit(AlertEvent("test", "\n".join(lines), None, "long"))
    notifier.emit(event(9))
    tg.fail_next(500)  # the first part fails once
    assert notifier.flush().sent == 0  # type: ignore[union-attr]
    notifier.store.execute("UPDATE outbox SET next_attempt_at = 0")
    result = notifier.flush()
    assert result is not None and result.sent == 2 and result.pending == 0
    first = len(tg.texts())
    assert tg.texts()[-1] == "<b>alert 9</b>"
    notifier.store.execute("UPDATE outbox SET next_attempt_at = 0")
    # now the 3rd part fails: parts 1 and 2 are not sent again on the retry
    notifier.emit(AlertEvent("test", "\n".join(lines), None, "long2"))
    tg.messages.clear()
    calls = []

    def flaky(text: str) -> object:
        calls.append(text)
        if len(calls) == 3:
            tg.fail_next(500)
        return notifier.telegram.send(text)  # type: ignore[union-attr]

    outbox.flush(notifier.store, flaky)  # type: ignore[arg-type]
    notifier.store.execute("UPDATE outbox SET next_attempt_at = 0")
    outbox.flush(notifier.store, flaky)  # type: ignore[arg-type]
    texts = tg.texts()
    assert first >= 5 and len(calls) == len(texts) + 1  # one failed call; no part delivered twice
    joined = "\n".join(t for t in texts if "line" in t)
    assert [int(m) for m in re.findall(r"<b>(\d{4})</b>", joined)] == list(range(200))  # each line once, in order
    from tests.fakes.telegram_server import visible_length

    assert all(visible_length(t) <= 4096 for t in texts)


def test_a_text_over_the_limit_is_refused_by_the_fake_as_by_telegram(tg: TelegramServer) -> None:
    client = TelegramClient(tg.base, Secret(TOKEN), "4242", timeout=2.0)
    raw = client._post("sendMessage", {"chat_id": "4242", "text": "y" * 4097, "parse_mode": "HTML"})
    assert raw.ok is False and "too long" in (raw.error or "")
    assert client.send("y" * 9000).ok and [len(t) for t in tg.texts()] == [4096, 4096, 808]
    client.close()
