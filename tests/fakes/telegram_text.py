"""Telegram's HTML parse mode: the plain text and entities a message ends up with."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

ENTITY_OF_TAG = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class EntityParseError(ValueError):
    """Text Telegram refuses with "Bad Request: can't parse entities: ..."."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _TelegramHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        self.open: list[tuple[str, int, dict[str, str | None]]] = []
        self.entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ENTITY_OF_TAG:
            raise EntityParseError(f'Unsupported start tag "{tag}"')
        self.open.append((tag, self.length, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            raise EntityParseError(f'Unmatched end tag "{tag}"')
        _, offset, attrs = self.open.pop()
        if self.length == offset:
            return
        entity: dict[str, Any] = {
            "type": ENTITY_OF_TAG[tag],
            "offset": offset,
            "length": self.length - offset,
        }
        if tag == "a":
            entity["url"] = attrs.get("href") or ""
        self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.length += utf16_len(data)


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Return (text, entities) like Telegram; raise EntityParseError where it would refuse."""
    parser = _TelegramHTML()
    parser.feed(source)
    parser.close()
    if parser.open:
        tag = parser.open[-1][0]
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{tag}"')
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.parts), entities


def rendered(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The text and entities a message shows; only HTML markup is interpreted."""
    if (parse_mode or "").lower() == "html":
        return parse_html(text)
    return text, []
