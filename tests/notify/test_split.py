"""Splitting long HTML messages: every part within the limit, valid HTML, nothing lost or cut inside a tag."""

from __future__ import annotations

import random
import re
from html import unescape

import pytest

from papishares.notify.split import split_html, visible_length
from tests.fakes.telegram_server import html_error
from tests.fakes.telegram_server import visible_length as telegram_length


def plain(html: str) -> str:
    return unescape(re.sub(r"<[^>]*>", "", html))


def words(parts: list[str]) -> list[str]:
    return " ".join(plain(p) for p in parts).split()


def test_short_text_is_one_part_unchanged() -> None:
    assert split_html("<b>hi</b> &amp; bye", 4096) == ["<b>hi</b> &amp; bye"]


def test_entities_count_as_one_character_and_emoji_as_two() -> None:
    assert visible_length("&amp;&lt;<b>x</b>") == 3
    assert visible_length("📈") == 2 == telegram_length("📈")


def test_paragraphs_break_first_then_lines() -> None:
    text = "a" * 50 + "\n" + "b" * 30 + "\n\n" + "c" * 60
    assert split_html(text, 100) == ["a" * 50 + "\n" + "b" * 30, "c" * 60]
    text = "a" * 50 + "\n" + "b" * 30 + " " + "c" * 40
    assert split_html(text, 100) == ["a" * 50, "b" * 30 + " " + "c" * 40]  # a line beats a word boundary


def test_a_bold_run_across_a_break_is_closed_and_reopened() -> None:
    parts = split_html("<b>" + "word " * 30 + "</b>", 40)
    assert len(parts) > 1
    assert all(p.startswith("<b>") and p.endswith("</b>") and html_error(p) is None for p in parts)


def test_a_link_is_reopened_with_its_attributes() -> None:
    parts = split_html('<a href="https://x.example/?a=1&amp;b=2">' + "go " * 20 + "</a>", 20)
    assert all(p.startswith('<a href="https://x.example/?a=1&amp;b=2">') for p in parts)


def test_a_word_longer_than_the_limit_is_cut_but_never_inside_an_entity() -> None:
    parts = split_html("&amp;" * 30, 7)
    assert all(re.fullmatch(r"(&amp;)+", p) for p in parts) and sum(visible_length(p) for p in parts) == 30


@pytest.mark.parametrize("seed", range(40))
def test_random_messages_split_into_valid_parts_that_keep_every_word(seed: int) -> None:
    rnd = random.Random(seed)
    pieces = []
    for _ in range(rnd.randint(50, 400)):
        word = "".join(rnd.choice("abcxyz€📈") for _ in range(rnd.randint(1, 12)))
        kind = rnd.random()
        if kind < 0.1:
            pieces.append(f"<b>{word} &amp; {word}</b>")
        elif kind < 0.15:
            pieces.append(f'<a href="https://e.example/{word}">{word} {word}</a>')
        elif kind < 0.2:
            pieces.append(f"<i>{word}</i>&lt;")
        else:
            pieces.append(word)
        pieces.append(rnd.choice([" ", " ", " ", "\n", "\n\n"]))
    text = "".join(pieces).strip()
    limit = rnd.choice([30, 100, 500, 4096])
    parts = split_html(text, limit)
    for p in parts:
        assert telegram_length(p) <= limit, p
        assert html_error(p) is None, p
    assert words(parts) == plain(text).split()  # nothing lost, nothing repeated, in order
