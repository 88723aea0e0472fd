"""How complete each language is, for both domains, measured against the code and course now."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import PoFileError, read_po

import bot
from bot.course.extract import extract_curriculum
from bot.course.model import Course, PracticeStep
from bot.course.timing import estimate
from bot.translations.entries import message_problems, sources_of, translations_of

Key = tuple[str | None, str]
KEYWORDS: dict[str, Any] = {"N_": None, "Np_": (1, 2)}


def interface_texts() -> set[Key]:
    """Every interface text in the code, as ``pybabel extract`` finds it."""
    found = extract_from_dir(
        Path(bot.__file__).parent, method_map=[("**.py", "python")], keywords=KEYWORDS
    )
    keys: set[Key] = set()
    for _file, _line, message, _comments, context in found:
        keys.add((context, message[0] if isinstance(message, tuple) else message))
    return keys


def lesson_texts(curriculum: Path) -> set[Key]:
    """Every lesson text in the curriculum files now (not in a possibly old template)."""
    keys: set[Key] = set()
    for path in sorted(curriculum.rglob("*.yaml")):
        with path.open("rb") as handle:
            for _line, _function, (context, text), _comments in extract_curriculum(
                handle, {}, (), {}
            ):
                keys.add((context, text))
    return keys


@dataclass(frozen=True)
class Coverage:
    """Shares of a domain's texts: translated (reviewed or not), fuzzy, missing, unreviewed."""

    translated: float
    fuzzy: float
    missing: float
    unreviewed: float

    def as_json(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in self.__dict__.items()}


def coverage(po: Path, texts: set[Key], source: bool) -> Coverage:
    """A usable translation counts as translated; a broken one counts as missing."""
    if source:
        return Coverage(1.0, 0.0, 0.0, 0.0)
    entries = {(m.context, sources_of(m)[0]): m for m in _read(po) if m.id}
    counts: Counter[str] = Counter()
    for key in texts:
        message = entries.get(key)
        if message is None or not all(translations_of(message)):
            counts["missing"] += 1
        elif message.fuzzy:
            counts["fuzzy"] += 1
        elif message_problems(message):
            counts["missing"] += 1
        else:
            counts["translated"] += 1
            counts["unreviewed"] += "unreviewed" in message.flags
    total = len(texts) or 1
    return Coverage(
        *(counts[name] / total for name in ("translated", "fuzzy", "missing", "unreviewed"))
    )


def _read(po: Path) -> list[Message]:
    """The catalog's entries; none when it is absent or unreadable (the check reports that)."""
    try:
        with po.open("rb") as handle:
            return list(read_po(handle))
    except (OSError, PoFileError, UnicodeDecodeError, ValueError):
        return []


def course_figures(course: Course) -> dict[str, Any]:
    lessons = course.lessons
    competences: Counter[str] = Counter(item.competence for item in lessons if item.competence)
    return {
        "modules": len(course.modules),
        "lessons": len(course.lessons),
        "practice_tasks": sum(isinstance(s, PracticeStep) for item in lessons for s in item.steps),
        "competences": dict(sorted(competences.items())),
        "estimated_minutes": {item.id: estimate(item).minutes for item in lessons},
    }


def status(course: Course, curriculum: Path, locales: Path, languages: list[str]) -> dict[str, Any]:
    """Everything ``coach curriculum status --json`` prints."""
    texts = {"messages": interface_texts(), "curriculum": lesson_texts(curriculum)}
    report = course_figures(course)
    report["languages"] = {
        code: {
            domain: coverage(
                locales / code / "LC_MESSAGES" / f"{domain}.po",
                keys,
                code == course.source_language,
            ).as_json()
            for domain, keys in texts.items()
        }
        for code in languages
    }
    return report
