"""Split an HTML (parse_mode HTML) message into parts Telegram accepts, on safe boundaries. Pure.

Telegram's limit is 4096 characters after entity parsing: tags do not count, `&amp;` counts as one
character, and lengths are UTF-16 code units (an emoji counts two). A part breaks, by preference,
between paragraphs, then between lines, then between words, and only as a last resort inside a word;
never inside a tag or an entity. Tags open at a break are closed at the end of the part and opened
again (with their attributes) at the start of the next.

>>> split_html("<b>ab</b>\\n\\ncd", limit=3)
['<b>ab</b>', 'cd']
>>> split_html("<b>abc def</b>", limit=4)
['<b>abc</b>', '<b>def</b>']
>>> split_html("x &amp; y", limit=10)
['x &amp; y']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LIMIT = 4096
_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|[\s\S]")
_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z][\w-]*)")


@dataclass(frozen=True)
class _Token:
    raw: str
    width: int  # visible length in UTF-16 code units (0 for a tag)
    tag: str | None = None  # the tag name for a tag token
    closing: bool = False


def _tokens(text: str) -> list[_Token]:
    out = []
    for m in _TOKEN.finditer(text):
        raw = m.group(0)
        if raw.startswith("<") and len(raw) > 1:
            t = _TAG.match(raw)
            out.append(_Token(raw, 0, t.group(2).lower() if t else None, bool(t and t.group(1))))
        elif raw.startswith("&") and len(raw) > 1:
            out.append(_Token(raw, 1))
        else:
            out.append(_Token(raw, len(raw.encode("utf-16-le")) // 2))
    return out


def visible_length(text: str) -> int:
    """The length Telegram counts: text after tags are removed and entities decoded (UTF-16 units)."""
    return sum(t.width for t in _tokens(text))


def _break_after(tokens: list[_Token], start: int, end: int, limit: int) -> int:
    """The index after which to break tokens[start:end] (end exclusive, all fitting): the best boundary."""
    for sep, min_share in (("\n\n", 0.3), ("\n", 0.3), (" ", 0.0)):
        best = None
        width = 0
        for i in range(start, end):
            width += tokens[i].width
            if sep == "\n\n":
                hit = tokens[i].raw == "\n" and i + 1 < len(tokens) and tokens[i + 1].raw == "\n"
            else:
                hit = tokens[i].raw == sep
            if hit and i > start and width >= limit * min_share:
                best = i
        if best is not None:
            return best
    return end - 1


def split_html(text: str, limit: int = LIMIT) -> list[str]:
    """`text` as one or more parts, each at most `limit` visible characters, tags balanced in each."""
    if visible_length(text) <= limit:
        return [text]
    tokens = _tokens(text)
    parts: list[str] = []
    open_tags: list[_Token] = []  # the start tags in force at the current position
    i = 0
    while i < len(tokens):
        # how far this part may go
        width, end = 0, i
        while end < len(tokens) and width + tokens[end].width <= limit:
            width += tokens[end].width
            end += 1
        end = max(end, i + 1)  # a single token wider than the limit still moves on
        prefix = "".join(t.raw for t in open_tags)
        if end >= len(tokens):
            body = tokens[i:]
            parts.append(prefix + "".join(t.raw for t in body))
            break
        cut = _break_after(tokens, i, end, limit)
        body = tokens[i:cut + 1]
        stack = list(open_tags)
        for t in body:
            _track(stack, t)
        # the separator itself (space/newline) is dropped at the break: trailing whitespace goes
        chunk = "".join(t.raw for t in body).rstrip() if body[-1].raw.isspace() else "".join(t.raw for t in body)
        closing = "".join(f"</{t.tag}>" for t in reversed(stack))
        parts.append(prefix + chunk + closing)
        open_tags = stack
        i = cut + 1
        while i < len(tokens) and tokens[i].raw in ("\n", " "):  # no part starts with the break's blanks
            i += 1
    return [p for p in parts if visible_length(p) > 0 and p.strip()]


def _track(stack: list[_Token], t: _Token) -> None:
    if t.tag is None:
        return
    if t.closing:
        for k in range(len(stack) - 1, -1, -1):
            if stack[k].tag == t.tag:
                del stack[k]
                break
    elif not t.raw.rstrip(">").endswith("/"):
        stack.append(t)
