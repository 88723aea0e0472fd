"""Lesson text that says something else on some channels, where their gestures differ."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# The channels a step's text can vary for: each one's ``Capabilities.name``.
CHANNELS = ("web", "telegram", "whatsapp", "matterbridge")


class Wording(str):
    """Lesson text with what it says instead on some channels (``on``: channel → text).

    It is the default text wherever a plain string is read, so code that knows nothing of
    channels shows the default."""

    on: Mapping[str, str]

    def __new__(cls, text: str, on: Mapping[str, str] | None = None) -> Wording:
        made = super().__new__(cls, text)
        made.on = MappingProxyType(dict(on or {}))
        return made
