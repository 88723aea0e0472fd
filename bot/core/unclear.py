"""Translations that are still drafts, said so: a learner whose language's catalogs are not
yet reviewed is told once, at first contact, that the translations are new, and finds
"🤔 Unclear" beside "Next" under each lesson message. Tapping it (or typing its number)
tells the trainers which message, in which language, was unclear (an event with ids only)
and leaves the learner where they were."""

from __future__ import annotations

from dataclasses import replace

from bot.core import payloads
from bot.core.effects import Choice, Effect, Record, Reply
from bot.core.lesson import Outcome
from bot.core.rules import Rules
from bot.core.text import N_, Msg
from bot.core.turn_context import Turn, not_understood

FLAGGED = "unclear_flagged"
LABEL = N_("🤔 Unclear")


def drafts_notice(language: str | None, rules: Rules) -> Msg | None:
    """The line said once, at first contact, to a learner whose language is a draft."""
    if language not in rules.draft_languages:
        return None
    return N_(
        "🌍 The translations into your language are new. If a message is unclear, "
        "tap “🤔 Unclear” under it: the trainers will see it."
    )


def with_unclear(effects: list[Effect], language: str | None, rules: Rules) -> list[Effect]:
    """Beside each lesson message's "Next", in a draft language, the way to say it is unclear."""
    if language not in rules.draft_languages:
        return effects
    return [_offered(effect) if isinstance(effect, Reply) else effect for effect in effects]


def _offered(reply: Reply) -> Reply:
    for choice in reply.choices:
        found = payloads.parse(choice.payload)
        if found is not None and found.action == "next":
            flag = Choice(LABEL, payloads.unclear(*found.args))
            return replace(reply, choices=(*reply.choices, flag))
    return reply


def flag(turn: Turn, lesson_id: str, step_id: str) -> Outcome:
    """Tell the trainers; the learner stays where they were (their choices are unchanged)."""
    lesson = turn.course.lesson(lesson_id)
    if lesson is None or lesson.step_index(step_id) is None:
        return not_understood(turn, N_("This button is from an earlier message."), "stale")
    data = {"lesson": lesson_id, "step": step_id, "language": turn.state.language}
    thanks = N_("🙏 Thank you: the trainers will look at this message.")
    return turn.state, [Record(FLAGGED, data), Reply((thanks,))]
