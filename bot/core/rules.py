"""What the coach offers and how it reminds, as configuration hands it to the core."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

from bot.core.nudges import NudgePolicy


@dataclass(frozen=True)
class Place:
    """A drop-in place where volunteers meet learners, with its weekly opening hours.

    ``hours`` are (weekday 0=Monday, start, end) in the place's own time zone."""

    id: str
    name: str
    hours: tuple[tuple[int, time, time], ...] = ()
    timezone: str = "Europe/Paris"


@dataclass(frozen=True)
class HandoffRules:
    topics: tuple[str, ...] = ("phone", "email", "admin", "documents", "safety")
    places: tuple[Place, ...] = ()
    help_words: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Rules:
    """``languages`` maps each offered language code to its own name; ``timezones`` are
    the time zones a learner can pick from, the default first."""

    languages: dict[str, str]
    timezones: tuple[str, ...] = ("Europe/Paris",)
    nudges: NudgePolicy = field(default_factory=NudgePolicy)
    handoff: HandoffRules = field(default_factory=HandoffRules)
    stop_words: dict[str, frozenset[str]] = field(default_factory=dict)
    forget_words: dict[str, frozenset[str]] = field(default_factory=dict)
    data_words: dict[str, frozenset[str]] = field(default_factory=dict)  # as /data does
    request_kept_days: int = 30  # what a request said is kept this long after it closes
    draft_languages: frozenset[str] = frozenset()  # whose translations are not yet reviewed


def said_alone(
    text: str, words: dict[str, frozenset[str]], language: str | None, trim: str = "!.¡ "
) -> bool:
    """Whether ``text``, alone, is one of the words a catalog lists (``stop_words``,
    ``forget_words``…): the learner's language's, else English's; case and ``trim``'s
    punctuation around it do not matter."""
    listed = words.get(language or "", words.get("en", frozenset()))
    return text.strip().strip(trim).lower() in listed
