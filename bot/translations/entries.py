"""What makes one translation unusable: it is then never shown, the fallback is."""

from __future__ import annotations

import re
from collections import Counter

from babel.messages.catalog import Message

from bot.course.chat_text import chat_length

PLACEHOLDER = re.compile(r"\{(\w*)\}")
TAG = re.compile(r"</?([A-Za-z][\w-]*)[^<>]*>")
CHAT_LIMIT = 4096
LONGER_THAN = 3.0  # a translation three times the source's length is suspicious in any language


def entry_problems(
    source: str, translation: str, plural_sources: tuple[str, ...] = ()
) -> list[str]:
    """What is wrong with one translation, in plain words; empty when it may be shown."""
    problems = []
    wanted = set(PLACEHOLDER.findall(source))
    for other in plural_sources:
        wanted |= set(PLACEHOLDER.findall(other))
    found = set(PLACEHOLDER.findall(translation))
    if extra := found - wanted - {"n"}:
        problems.append(f"the translation has placeholders the source does not: {_braced(extra)}")
    if missing := set(PLACEHOLDER.findall(source)) - found - ({"n"} if plural_sources else set()):
        problems.append(f"the translation drops placeholders: {_braced(missing)}")
    if translation.count("{") != translation.count("}"):
        problems.append("the translation has an unmatched { or }")
    if Counter(TAG.findall(source)) != Counter(TAG.findall(translation)):
        problems.append("the translation breaks the markup: its <tags> differ from the source")
    length = chat_length(translation)
    if length > CHAT_LIMIT:
        problems.append(
            f"the translation is too long for one chat message: {length} > {CHAT_LIMIT}"
        )
    elif length > LONGER_THAN * chat_length(source) + 40:
        problems.append(
            f"the translation is far longer than the source ({length} against "
            f"{chat_length(source)} characters)"
        )
    return problems


def _braced(names: set[str]) -> str:
    return ", ".join(f"{{{name}}}" for name in sorted(names))


def sources_of(message: Message) -> list[str]:
    """The source text, and its plural form when there is one."""
    ids = message.id
    return [str(i) for i in ids] if isinstance(ids, list | tuple) else [str(ids)]


def translations_of(message: Message) -> list[str]:
    """Every form of the translation (one, or one per plural form); empty strings included."""
    raw = message.string
    return [str(t) for t in raw] if isinstance(raw, list | tuple) else [str(raw or "")]


def message_problems(message: Message) -> list[str]:
    """Every problem of one catalog entry, each said once."""
    sources = sources_of(message)
    found: list[str] = []
    for text in translations_of(message):
        if text:
            new = entry_problems(sources[0], text, tuple(sources[1:]))
            found += [problem for problem in new if problem not in found]
    return found
