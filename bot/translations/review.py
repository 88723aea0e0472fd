"""``coach curriculum check`` for the catalogs: every unusable translation, by file and line."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Message
from babel.messages.pofile import PoFileError, read_po

from bot.course.problems import Problem
from bot.translations.entries import message_problems, sources_of


def catalog_files(locales: Path) -> list[Path]:
    return sorted(locales.glob("*/LC_MESSAGES/*.po"))


def catalog_problems(locales: Path) -> list[Problem]:
    """A catalog that cannot be read, and each translation that would not be shown."""
    problems: list[Problem] = []
    for path in catalog_files(locales):
        shown = str(path.relative_to(locales.parent))
        try:
            with path.open("rb") as handle:
                catalog = read_po(handle, abort_invalid=True)
        except (PoFileError, UnicodeDecodeError, ValueError) as error:
            line = getattr(error, "lineno", 1) or 1
            problems.append(Problem(shown, line, f"the catalog cannot be read: {error}"))
            continue
        for message in catalog:
            if message.id and not message.fuzzy:
                line = message.lineno or 1
                for problem in message_problems(message):
                    problems.append(Problem(shown, line, f"{_name(message)}: {problem}"))
    return problems


def _name(message: Message) -> str:
    return message.context or repr(sources_of(message)[0][:40])
