"""A Babel extractor for the curriculum: every text a learner reads, with its place.

Each message gets a context ``<lesson>/<step>/<field>`` (``<lesson>/title`` for a title,
``module:<id>/title`` for a module), the same the coach looks it up by, so a translation
stays attached to its step when a trainer reorders or adds steps. The lesson's ``notes``
become translator comments. Registered as ``coach_curriculum`` (see babel.cfg).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from bot.course.placement import placement_texts
from bot.course.yaml_lines import LineDict, LineList, parse_yaml

Extracted = tuple[int, str, tuple[str, str], list[str]]
STEP_FIELDS = {
    "message": ("text", "alt"),
    "quiz": ("question", "right", "wrong"),
    "practice": ("prompt", "hint", "success", "target"),
    "checkpoint": ("text",),
}


def extract_curriculum(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[Extracted]:
    """Yield ``(line, "pgettext", (context, text), comments)`` for one curriculum file."""
    data, _ = parse_yaml(fileobj.read().decode("utf-8"), getattr(fileobj, "name", "?"))
    if not isinstance(data, LineDict):
        return
    if "modules" in data:
        yield from _modules(data)
        yield from placement_texts(data)
    elif "steps" in data:
        yield from _lesson(data)


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _modules(manifest: LineDict) -> Iterator[Extracted]:
    modules = manifest.get("modules")
    for module in modules if isinstance(modules, LineList) else []:
        if isinstance(module, LineDict) and (title := _text(module.get("title"))):
            context = f"module:{module.get('id')}/title"
            yield module.line_of("title"), "pgettext", (context, title), ["A module's title."]


def _lesson(lesson: LineDict) -> Iterator[Extracted]:
    lesson_id = lesson.get("id")
    notes = [_text(lesson.get("notes")) or ""] if _text(lesson.get("notes")) else []
    if title := _text(lesson.get("title")):
        yield lesson.line_of("title"), "pgettext", (f"{lesson_id}/title", title), notes
    steps = lesson.get("steps")
    for step in steps if isinstance(steps, LineList) else []:
        if not isinstance(step, LineDict):
            continue
        prefix = f"{lesson_id}/{step.get('id')}"
        yield from _step(step, prefix, "", notes)
        on = step.get("on")
        for channel, texts in on.items() if isinstance(on, LineDict) else ():
            if isinstance(texts, LineDict):
                yield from _step(texts, prefix, f"@{channel}", notes, str(step.get("kind")))


def _step(
    step: LineDict, prefix: str, suffix: str, notes: list[str], kind: str | None = None
) -> Iterator[Extracted]:
    """A step's texts, or one channel's variants of them (``suffix`` ``@web``)."""
    kind = kind or str(step.get("kind"))
    for field in STEP_FIELDS.get(kind, ()):
        if text := _text(step.get(field)):
            yield step.line_of(field), "pgettext", (f"{prefix}/{field}{suffix}", text), notes
    options = step.get("options")
    if kind == "quiz" and isinstance(options, LineList):
        for number, (option, line) in enumerate(zip(options, options.item_lines, strict=False), 1):
            if text := _text(option):
                yield line, "pgettext", (f"{prefix}/option-{number}{suffix}", text), notes
