"""What the coach offers and how it reminds, as configuration hands it to the core."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.nudges import NudgePolicy


@dataclass(frozen=True)
class Rules:
    """``languages`` maps each offered language code to its own name; ``timezones`` are
    the time zones a learner can pick from, the default first."""

    languages: dict[str, str]
    timezones: tuple[str, ...] = ("Europe/Paris",)
    nudges: NudgePolicy = field(default_factory=NudgePolicy)
