"""Interface and lesson text in the learner's language, from gettext catalogs.

Catalogs are read from the ``.po`` files at start: fuzzy entries are left out, so a
changed source text falls back along the chain (learner's language, the configured
fallback, the source) instead of showing a stale translation.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from babel.units import format_unit

from bot.core.handoff import next_slots
from bot.core.text import (
    CourseText,
    DataSize,
    DropIns,
    LocalDateTime,
    LocalTime,
    Msg,
    Text,
    Verbatim,
)
from bot.translations.entries import message_problems

log = logging.getLogger(__name__)
DOMAINS = ("messages", "curriculum")
# Names CLDR gives differently from what speakers call their language.
OWN_NAMES = {"fa_AF": "دری"}
# Codes phones and browsers send for a language offered under another code.
ALIASES = {"prs": "fa_AF", "fa": "fa_AF"}


def load_catalog(path: Path, locale: str) -> tuple[Translations, bool] | None:
    """Read one ``.po`` file into translations without its fuzzy entries, and whether it
    holds drafts (translations flagged ``unreviewed``); None if broken."""
    try:
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=locale, abort_invalid=True)
        drafts = any(m.id and "unreviewed" in m.flags for m in catalog)
        for message in list(catalog):
            if message.id and message_problems(message):
                log.warning(
                    "%s:%s: translation not used (see coach curriculum check)", path, message.lineno
                )
                catalog.delete(message.id, message.context)
        buffer = BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        return Translations(buffer), drafts
    except Exception as error:  # a broken catalog must not stop the other languages
        log.warning("catalog %s could not be read: %s", path, error)
        return None


def local_datetime(moment: datetime, code: str) -> str:
    """A day and a time in the learner's words, e.g. ``mar. 1 déc. 14:00``."""
    day = format_skeleton("MMMMEEEEd", moment, locale=code)
    return f"{day} {format_time(moment, format='short', locale=code)}"


def data_size(size: int, code: str) -> str:
    """``12 kB``, ``1.4 MB`` (``12 ko`` in French): rounded up, never zero."""
    if size < 1_000_000:
        return format_unit(max(1, -(-size // 1000)), "digital-kilobyte", "short", locale=code)
    return format_unit(round(size / 1_000_000, 1), "digital-megabyte", "short", locale=code)


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    rtl: bool


class Catalogs:
    """Every configured language's catalogs, each falling back to the next in the chain."""

    def __init__(self, locales: Path, languages: list[str], fallback: str) -> None:
        self.locales = locales  # read at start; the translation work pages read it again
        self.fallback = fallback
        self.languages: dict[str, Language] = {}
        self._translations: dict[tuple[str, str], NullTranslations] = {}
        drafts: set[str] = set()  # languages whose catalogs hold drafts: learners are told
        for code in languages:
            try:
                locale = Locale.parse(code)
            except (ValueError, UnknownLocaleError):
                log.warning("language %s is not a known locale; left out", code)
                continue
            name = OWN_NAMES.get(code) or locale.get_display_name(locale) or code
            rtl = locale.character_order == "right-to-left"
            self.languages[code] = Language(code, name[:1].upper() + name[1:], rtl)
        for domain in DOMAINS:
            fallen = self._load(locales, fallback, domain)
            base = fallen[0] if fallen is not None else NullTranslations()
            self._translations[(fallback, domain)] = base
            for code in self.languages:
                if code == fallback:
                    continue
                loaded = self._load(locales, code, domain)
                if loaded is None:
                    self._translations[(code, domain)] = base
                    continue
                own, has_drafts = loaded
                own.add_fallback(base)
                self._translations[(code, domain)] = own
                if has_drafts:
                    drafts.add(code)
        self.drafts = frozenset(drafts)

    @staticmethod
    def _load(locales: Path, code: str, domain: str) -> tuple[Translations, bool] | None:
        path = locales / code / "LC_MESSAGES" / f"{domain}.po"
        return load_catalog(path, code) if path.exists() else None

    def names(self) -> dict[str, str]:
        return {code: language.name for code, language in self.languages.items()}

    def first_offered(self, codes: Iterable[str | None], default: str) -> str:
        """The first of ``codes`` the coach offers, else ``default``."""
        return next((str(code) for code in codes if code in self.languages), default)

    def best_match(self, hint: str | None, default: str) -> str:
        """The offered language closest to a browser's or Telegram's language code."""
        if hint:
            exact = hint.replace("-", "_")
            for candidate in (exact, exact.split("_")[0]):
                candidate = ALIASES.get(candidate, candidate)
                if candidate in self.languages:
                    return candidate
        return default if default in self.languages else self.fallback

    def translator(self, code: str, domain: str) -> NullTranslations:
        return self._translations.get((code, domain)) or self._translations[(self.fallback, domain)]

    def render(self, text: Text, code: str) -> str:
        """Turn one piece of text into the learner's language."""
        if isinstance(text, Verbatim):
            return text.text
        if isinstance(text, LocalTime):
            return format_time(text.moment, format="short", locale=code)
        if isinstance(text, DataSize):
            return data_size(text.size, code)
        if isinstance(text, LocalDateTime):
            return local_datetime(text.moment, code)
        if isinstance(text, DropIns):
            lines = []
            for place in text.places:
                times = ", ".join(local_datetime(m, code) for m in next_slots(place, text.now))
                lines.append(f"\n• {place.name}: {times}" if times else f"\n• {place.name}")
            return "".join(lines)
        if isinstance(text, CourseText):
            found = self.translator(code, "curriculum").pgettext(text.context, text.source)
            return found if isinstance(found, str) else text.source
        return self._render_msg(text, code)

    def _render_msg(self, msg: Msg, code: str) -> str:
        messages = self.translator(code, "messages")
        if msg.plural is not None and msg.n is not None:
            template = messages.ngettext(msg.msgid, msg.plural, msg.n)
            source = msg.msgid if msg.n == 1 else msg.plural
        else:
            template = messages.gettext(msg.msgid)
            source = msg.msgid
        params = {key: self._param(value, code) for key, value in msg.params.items()}
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            log.warning("translation of %r in %s has broken placeholders", msg.msgid, code)
            return source.format(**params)

    def _param(self, value: Any, code: str) -> Any:
        if isinstance(value, Text):
            return self.render(value, code)
        if isinstance(value, int) and not isinstance(value, bool):
            return _decimal(value, code)
        return value

    def is_rtl(self, code: str) -> bool:
        language = self.languages.get(code)
        return language.rtl if language else False


@functools.lru_cache(maxsize=4096)
def _decimal(value: int, code: str) -> str:
    """A whole number as the language writes it (Babel works it out anew each time)."""
    return str(format_decimal(value, locale=code))
