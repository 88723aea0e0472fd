"""Chat message length as chat apps count it, and splitting a text that is too long."""

from __future__ import annotations

import re

CAPTION_LIMIT = 1024  # a text sent with an image or audio goes as its caption
_SENTENCE_END = re.compile(r"(?<=[.!?؟።])\s+")


def chat_length(text: str) -> int:
    """Length as chat apps count it: UTF-16 code units, so an emoji may count as two."""
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int) -> list[str]:
    """Cut a text into messages of at most ``limit``: at paragraphs, else lines, else sentences."""
    if chat_length(text) <= limit:
        return [text]
    for pattern in (r"\n\s*\n", r"\n", _SENTENCE_END.pattern, r"\s+"):
        pieces = [p for p in re.split(pattern, text) if p.strip()]
        if len(pieces) > 1:
            separator = "\n\n" if pattern == r"\n\s*\n" else ("\n" if pattern == r"\n" else " ")
            return _pack(pieces, separator, limit)
    return _hard_cut(text, limit)


def _pack(pieces: list[str], separator: str, limit: int) -> list[str]:
    messages: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{separator}{piece}" if current else piece
        if chat_length(candidate) <= limit:
            current = candidate
            continue
        if current:
            messages.append(current)
        if chat_length(piece) <= limit:
            current = piece
        else:
            *whole, current = split_message(piece, limit)
            messages.extend(whole)
    if current:
        messages.append(current)
    return messages


def _hard_cut(text: str, limit: int) -> list[str]:
    messages, current = [], ""
    for character in text:
        if chat_length(current + character) > limit:
            messages.append(current)
            current = ""
        current += character
    return [*messages, current] if current else messages
