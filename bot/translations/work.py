"""Translation work: every text of a language's catalog with its state, and marking one reviewed.

The catalogs stay the only record: a text is reviewed when its entry has no ``unreviewed``
flag, and marking it reviewed removes that flag from the ``.po`` file, nothing else. The file
is written by Babel as ``pybabel update`` writes it (same order, width 76, previous source
texts kept), through a temporary file renamed over it; a catalog that would come out with
more than that one line changed is left as it is.
"""

from __future__ import annotations

import gettext
import hashlib
import os
import re
import stat
import tempfile
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, unescape, write_po

from bot.translations.entries import message_problems, sources_of, translations_of

DOMAINS = ("messages", "curriculum")
STATES = ("missing", "fuzzy", "unreviewed", "reviewed")
UNREVIEWED = "unreviewed"
WIDTH = 76  # pybabel's default, which `make translations` keeps
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


@dataclass(frozen=True)
class Entry:
    """One text of a catalog as a translator sees it; ``line`` is its msgid's line in the file."""

    context: str | None
    sources: tuple[str, ...]
    translations: tuple[str, ...]
    state: str
    notes: tuple[str, ...] = ()
    previous: str = ""  # the source text a fuzzy translation was made for, when known
    line: int = 0

    @property
    def key(self) -> str:
        """Names the text in a form and a URL, whatever its length or characters."""
        return text_key(self.context, self.sources[0])

    @property
    def seen(self) -> str:
        """Names the translation as shown, so a form never approves one changed since."""
        return digest("\x00".join(self.translations))


@dataclass(frozen=True)
class Catalogue:
    """A language's catalog of one domain: its texts in the template's order, its plural forms."""

    entries: tuple[Entry, ...]
    plural_examples: tuple[str, ...]  # per plural form, numbers that take it

    def counts(self) -> Counter[str]:
        return Counter(entry.state for entry in self.entries)


class Outcome(Enum):
    MARKED = "marked"
    ALREADY = "already reviewed"
    NOT_FOUND = "no such text"
    NOT_DRAFT = "not a usable translation"
    CHANGED = "changed since shown"
    READ_ONLY = "read-only"
    UNEXPECTED_FORM = "not in pybabel's form"


def text_key(context: str | None, source: str) -> str:
    return digest(f"{context or ''}\x04{source}")


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def catalog_path(locales: Path, code: str, domain: str) -> Path:
    return locales / code / "LC_MESSAGES" / f"{domain}.po"


def state_of(message: Message | None) -> str:
    """As ``coach curriculum status`` counts: a broken translation is missing, as it is unused."""
    if message is None or not all(translations_of(message)):
        return "missing"
    if message.fuzzy:
        return "fuzzy"
    if message_problems(message):
        return "missing"
    return UNREVIEWED if UNREVIEWED in message.flags else "reviewed"


def read_catalog(path: Path, code: str | None) -> Catalog | None:
    """The catalog; None when the file is absent (a broken one raises, for the caller to say)."""
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=code)


def previous_source(message: Message) -> str:
    """The source a fuzzy translation was made for, from its ``#| msgid`` lines (which Babel
    reads as a comment, and writes back as ``# | msgid``)."""
    found: list[str] = []
    for comment in message.user_comments:
        keyword, _, rest = comment[2:].partition(" ")
        if comment.startswith("| ") and keyword in ("msgid", "msgid_plural"):
            found.append(rest)
        elif comment.startswith("| ") and found:  # wrapped like any comment
            found[-1] += " " + comment[2:]
    return " / ".join("".join(unescape(part) for part in QUOTED.findall(text)) for text in found)


def catalogue(locales: Path, code: str, domain: str) -> Catalogue:
    """Every text of the template, then any the catalog has that the template lacks."""
    own = read_catalog(catalog_path(locales, code, domain), code)
    template = read_catalog(locales / f"{domain}.pot", None)  # its plural forms are English
    found = {key_of(m): m for m in own or () if m.id}
    wanted = {key_of(m): m for m in template or () if m.id}
    forms = (own or Catalog(locale=code)).num_plurals
    entries = [_entry(found.get(key), message, forms) for key, message in wanted.items()]
    entries += [_entry(m, m, forms) for key, m in found.items() if key not in wanted]
    return Catalogue(tuple(entries), plural_examples(own or Catalog(locale=code)))


def key_of(message: Message) -> tuple[str | None, str]:
    return message.context, sources_of(message)[0]


def _entry(own: Message | None, source: Message, forms: int) -> Entry:
    """``own``: the language's entry, if any; ``source``: where the source text is read."""
    sources = tuple(sources_of(source))
    blank = ("",) * (forms if len(sources) > 1 else 1)
    translations = tuple(translations_of(own)) if own else blank
    previous = previous_source(own) if own is not None and own.fuzzy else ""
    return Entry(
        source.context,
        sources,
        translations,
        state_of(own),
        tuple(comment for comment in source.auto_comments if comment),
        previous,
        (own.lineno or 0) if own else 0,
    )


def plural_examples(catalog: Catalog | None) -> tuple[str, ...]:
    """For each plural form, the first few counts that use it: ``0``, ``1``, ``3–10`` …"""
    if catalog is None or catalog.num_plurals < 2:
        return ()
    rule = gettext.c2py(catalog.plural_expr)
    numbers: dict[int, list[int]] = {form: [] for form in range(catalog.num_plurals)}
    for n in range(200):
        form = rule(n)
        if form in numbers and len(numbers[form]) < 3:
            numbers[form].append(n)
    return tuple(
        ", ".join(map(str, found)) + ("…" if len(found) == 3 else "") for found in numbers.values()
    )


def writable(path: Path) -> bool:
    """Whether a marking may be written: the folder and file writable, their modes allowing it
    (a catalog nobody may write is left alone even by a coach that runs as root)."""
    try:
        modes = [os.stat(place).st_mode for place in (path.parent, path)]
    except OSError:
        return False
    return all(stat.S_IMODE(mode) & 0o222 for mode in modes) and all(
        os.access(place, os.W_OK) for place in (path.parent, path)
    )


def mark_reviewed(path: Path, code: str, key: str, seen: str) -> Outcome:
    """Remove the ``unreviewed`` flag of one text, if the translation is still the one shown."""
    if not writable(path):
        return Outcome.READ_ONLY
    before = path.read_bytes()
    catalog = read_po(BytesIO(before), locale=code)
    message = next((m for m in catalog if m.id and text_key(*key_of(m)) == key), None)
    if message is None:
        return Outcome.NOT_FOUND
    entry = _entry(message, message, catalog.num_plurals)
    if entry.seen != seen:
        return Outcome.CHANGED
    if entry.state == "reviewed":
        return Outcome.ALREADY
    if entry.state != UNREVIEWED:
        return Outcome.NOT_DRAFT
    message.flags.discard(UNREVIEWED)
    after = BytesIO()
    write_po(after, catalog, width=WIDTH, include_previous=True)
    if not one_flag_line(before.decode().splitlines(), after.getvalue().decode().splitlines()):
        return Outcome.UNEXPECTED_FORM
    try:
        replace_file(path, after.getvalue(), before)
    except FileExistsError:
        return Outcome.CHANGED
    except OSError:  # a read-only mount, or no permission after all
        return Outcome.READ_ONLY
    return Outcome.MARKED


def one_flag_line(before: list[str], after: list[str]) -> bool:
    """Whether ``after`` is ``before`` with one ``#,`` line dropped or shortened, and no other."""
    if len(before) - len(after) not in (0, 1):
        return False
    first = next((i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b), None)
    if first is None:
        return len(before) == len(after) + 1 and before[-1].startswith("#,")
    if not before[first].startswith("#,"):
        return False
    if len(before) == len(after):
        return after[first].startswith("#,") and before[first + 1 :] == after[first + 1 :]
    return before[first + 1 :] == after[first:]


def replace_file(path: Path, content: bytes, expected: bytes) -> None:
    """Write ``content`` beside ``path`` and rename it over, unless the file changed meanwhile."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(name, stat.S_IMODE(path.stat().st_mode))
        if path.read_bytes() != expected:  # saved by someone else since it was read
            raise FileExistsError(path)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
