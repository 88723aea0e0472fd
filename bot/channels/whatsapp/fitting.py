"""Text fitted to WhatsApp's short fields: button and row titles, template buttons."""

from __future__ import annotations


def shorten(text: str, most: int) -> str:
    """``text`` in at most ``most`` characters, cut on a word boundary when one is near."""
    if len(text) <= most:
        return text
    cut = text[: most - 1]
    space = cut.rfind(" ")
    if space >= most // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"
