"""The placement: at first contact, "Can you already …?" questions that suggest where to begin.

Nothing is stored: where the learner is in the questions is in the payloads of the answers
offered last (``state.choices``). The first "no" suggests that question's module; "yes" to
every question suggests the module after the last one asked about. "Skip", or anything
else, leads to the usual menu, and any lesson can be taken at any time.
"""

from __future__ import annotations

from bot.core import payloads
from bot.core.buttons import press
from bot.core.effects import Choice, Effect, Record, Reply
from bot.core.events import Inbound
from bot.core.lesson import Outcome
from bot.core.menus import lesson_title, main_menu, module_title
from bot.core.state import LearnerState
from bot.core.text import N_, CourseText
from bot.core.turn_context import Turn, not_understood
from bot.course.model import Course, Module
from bot.course.placement import PlacementQuestion

PREFIX = "place:"
SKIP = f"{PREFIX}skip"
# Set by the turn that ends a newcomer's first contact: choosing the language, or the time
# zone right after it where several are offered.
SETUP_DONE = ("language_set", "timezone_set")


def yes(module_id: str) -> str:
    return f"{PREFIX}yes/{module_id}"


def no(module_id: str) -> str:
    return f"{PREFIX}no/{module_id}"


def is_answer(payload: str) -> bool:
    return payload.startswith(PREFIX)


def question(asked: PlacementQuestion, first: bool) -> Reply:
    """One question with "Yes", "No" and "Skip"; the first one says why it is asked."""
    said = CourseText(asked.context, asked.question)
    why = N_("A few quick questions, so I can suggest where to start. You can skip them.")
    choices = (
        Choice(N_("Yes"), yes(asked.module_id)),
        Choice(N_("No"), no(asked.module_id)),
        Choice(N_("Skip"), SKIP),
    )
    return Reply((why, said) if first else (said,), choices)


def at_first_contact(
    before: LearnerState,
    after: LearnerState,
    event: Inbound,
    course: Course,
    effects: list[Effect],
) -> list[Effect]:
    """The first question instead of the menu that ends a newcomer's first contact.

    Not in a group (each answer would be a post for everyone there), not for a learner who
    already began a lesson or asked for a person, not after ``/start help``.
    """
    setup = any(isinstance(e, Record) and e.name in SETUP_DONE for e in effects)
    newcomer = not after.progress and after.current_lesson is None and after.request is None
    if (
        not course.placement
        or not setup
        or not newcomer
        or event.sender.group
        or (before.language is not None and not _choosing_zone(before))
        or not effects
        or effects[-1] != main_menu(after, course)
    ):
        return effects
    return [*effects[:-1], Record("placement_asked"), question(course.placement[0], first=True)]


def _choosing_zone(state: LearnerState) -> bool:
    """The time zones were the options offered last (at first contact, or by /timezone)."""
    offered = [payloads.parse(choice) for choice in state.choices]
    return bool(offered) and all(p is not None and p.action == "tz" for p in offered)


def press_or_answer(turn: Turn, raw: str) -> Outcome:
    """A button, or its number typed: an answer to the question asked last, or any other."""
    if not is_answer(raw):
        return press(turn, raw)
    if raw in turn.state.choices and turn.state.language is not None:
        return answer(turn.state, turn.course, raw)
    return not_understood(turn, N_("This button is from an earlier message."), "stale")


def answer(state: LearnerState, course: Course, payload: str) -> Outcome:
    """A "Yes", "No" or "Skip" offered last (pressed, or its number typed)."""
    if payload == SKIP:
        return state, [Record("placement_skipped"), main_menu(state, course)]
    said, _, module_id = payload.removeprefix(PREFIX).partition("/")
    record = Record("placement_answered", {"module": module_id, "answer": said})
    asked = [q.module_id for q in course.placement]
    if said == "no":
        return state, [record, *_suggest(state, course, course.module(module_id))]
    if said == "yes" and module_id in asked:
        following = asked.index(module_id) + 1
        if following < len(asked):
            return state, [record, question(course.placement[following], first=False)]
        return state, [record, *_suggest(state, course, _module_after(course, module_id))]
    # The course changed under the question: the menu, where everything is.
    return state, [record, main_menu(state, course)]


def _module_after(course: Course, module_id: str) -> Module | None:
    ids = [module.id for module in course.modules]
    if module_id not in ids or ids.index(module_id) + 1 >= len(ids):
        return None
    return course.modules[ids.index(module_id) + 1]


def _suggest(state: LearnerState, course: Course, module: Module | None) -> list[Effect]:
    """The module to start with and a button to begin it; past the last module, the menu."""
    menu = main_menu(state, course)
    if module is None or not module.lessons:
        praise = N_("You already know a lot!")
        return [Record("placement_suggested"), Reply((praise, *menu.parts), menu.choices)]
    done = state.done_lessons()
    first = next((lesson for lesson in module.lessons if lesson.id not in done), module.lessons[0])
    suggestion = N_("Let's start with {module}.", module=module_title(module))
    choices = (
        Choice(N_("Start: {title}", title=lesson_title(first)), payloads.lesson(first.id)),
        Choice(N_("Choose from the menu"), payloads.MENU),
    )
    record = Record("placement_suggested", {"module": module.id})
    return [record, Reply((suggestion,), choices)]
