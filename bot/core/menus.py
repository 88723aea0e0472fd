"""Menus: languages, the course's modules and lessons, progress."""

from __future__ import annotations

from datetime import date

from bot.core import payloads
from bot.core.effects import Choice, Reply
from bot.core.handoff import talk_choice
from bot.core.progress import current_streak, lessons_done, progress_bar
from bot.core.state import LearnerState, LessonStatus, RequestStatus
from bot.core.text import N_, CourseText, Np_, Verbatim
from bot.course.model import Course, Lesson, Module


def language_choice(languages: dict[str, str]) -> Reply:
    """Offer every language by its own name, e.g. ``Français``, ``العربية``."""
    choices = tuple(
        Choice(Verbatim(name), payloads.language(code)) for code, name in languages.items()
    )
    return Reply((N_("Choose your language."),), choices)


def lesson_title(lesson: Lesson) -> CourseText:
    return CourseText(f"{lesson.id}/title", lesson.title)


def module_title(module: Module) -> CourseText:
    return CourseText(f"module:{module.id}/title", module.title)


def main_menu(state: LearnerState, course: Course) -> Reply:
    choices: list[Choice] = []
    current = course.lesson(state.current_lesson) if state.current_lesson else None
    if current is not None:
        label = N_("Continue: {title}", title=lesson_title(current))
        choices.append(Choice(label, payloads.lesson(current.id)))
    for module in course.modules:
        choices.append(Choice(module_title(module), payloads.module(module.id)))
    choices.append(Choice(N_("My progress"), payloads.PROGRESS))
    request = state.request
    if request is not None and request.status is RequestStatus.CLAIMED:
        choices.append(talk_choice(request))
    else:
        choices.append(Choice(N_("🙋 Talk to a person"), payloads.handoff("ask")))
    choices.append(Choice(N_("Language"), payloads.LANGUAGE))
    if state.text_only:
        choices.append(Choice(N_("Pictures on"), payloads.TEXT_ONLY))
    else:
        choices.append(Choice(N_("Save data: no pictures"), payloads.TEXT_ONLY))
    return Reply((N_("What would you like to do?"),), tuple(choices))


def module_menu(state: LearnerState, module: Module) -> Reply:
    choices = []
    for lesson in module.lessons:
        progress = state.lesson_progress(lesson.id)
        if progress is None:
            label = N_(
                "{title} ({minutes} min)", title=lesson_title(lesson), minutes=lesson.minutes
            )
        elif progress.status is LessonStatus.DONE:
            label = N_("✅ {title}", title=lesson_title(lesson))
        else:
            label = N_("▶️ {title}", title=lesson_title(lesson))
        choices.append(Choice(label, payloads.lesson(lesson.id)))
    choices.append(Choice(N_("Back to the menu"), payloads.MENU))
    header = N_("{module}: choose a lesson.", module=module_title(module))
    return Reply((header,), tuple(choices))


def progress_report(state: LearnerState, course: Course, today: date) -> Reply:
    """What ``/progress`` shows: lessons done, the streak and a bar."""
    total = len(course.lessons)
    done = lessons_done(state, course)
    streak = current_streak(state, today)
    parts = (
        N_("Lessons done: {done} of {total}", done=done, total=total),
        Verbatim(progress_bar(done, total)),
        Np_("Streak: {n} day in a row", "Streak: {n} days in a row", streak),
    )
    return Reply(parts, (Choice(N_("Back to the menu"), payloads.MENU),))
