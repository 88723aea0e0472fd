"""Text in the learner's language: catalogs, fallback, plurals, right-to-left."""

from __future__ import annotations

from pathlib import Path

from bot.core.text import N_, CourseText, Np_
from bot.i18n import Catalogs
from tests.conftest import ROOT

PO_HEADER = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\\n"

"""


def write_po(folder: Path, language: str, domain: str, body: str) -> None:
    path = folder / language / "LC_MESSAGES" / f"{domain}.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PO_HEADER + body, encoding="utf-8")


def test_french_and_arabic_are_complete_for_the_interface() -> None:
    catalogs = Catalogs(ROOT / "locales", ["en", "fr", "ar"], "en")
    for language in ("fr", "ar"):
        assert catalogs.render(N_("Choose your language."), language) != "Choose your language."
    assert catalogs.render(N_("Choose your language."), "en") == "Choose your language."


def test_languages_are_named_in_their_own_language_and_arabic_is_right_to_left() -> None:
    catalogs = Catalogs(ROOT / "locales", ["en", "fr", "ar"], "en")
    assert catalogs.names() == {"en": "English", "fr": "Français", "ar": "العربية"}
    assert catalogs.is_rtl("ar") and not catalogs.is_rtl("fr")


def test_the_browsers_language_is_the_first_guess() -> None:
    catalogs = Catalogs(ROOT / "locales", ["en", "fr", "ar"], "en")
    assert catalogs.best_match("fr-FR", "en") == "fr"
    assert catalogs.best_match("ar", "en") == "ar"
    assert catalogs.best_match("de-DE", "en") == "en"
    assert catalogs.best_match(None, "fr") == "fr"


def test_plurals_follow_the_language(tmp_path: Path) -> None:
    write_po(
        tmp_path,
        "fr",
        "messages",
        'msgid "{n} day"\nmsgid_plural "{n} days"\nmsgstr[0] "{n} jour"\nmsgstr[1] "{n} jours"\n',
    )
    catalogs = Catalogs(tmp_path, ["en", "fr"], "en")
    assert catalogs.render(Np_("{n} day", "{n} days", 0), "fr") == "0 jour"
    assert catalogs.render(Np_("{n} day", "{n} days", 2), "fr") == "2 jours"
    assert catalogs.render(Np_("{n} day", "{n} days", 1), "en") == "1 day"
    assert catalogs.render(Np_("{n} day", "{n} days", 0), "en") == "0 days"


def test_a_fuzzy_translation_is_never_shown_and_falls_back(tmp_path: Path) -> None:
    write_po(tmp_path, "en", "curriculum", 'msgctxt "l/s/text"\nmsgid "Hi"\nmsgstr "Hello"\n')
    write_po(
        tmp_path,
        "fr",
        "curriculum",
        '#, fuzzy\nmsgctxt "l/s/text"\nmsgid "Hi"\nmsgstr "Salut (old)"\n\n'
        'msgctxt "l/s/other"\nmsgid "Bye"\nmsgstr "Au revoir"\n',
    )
    catalogs = Catalogs(tmp_path, ["en", "fr"], "en")
    assert catalogs.render(CourseText("l/s/text", "Hi"), "fr") == "Hello"
    assert catalogs.render(CourseText("l/s/other", "Bye"), "fr") == "Au revoir"
    assert catalogs.render(CourseText("l/s/missing", "Source"), "fr") == "Source"


def test_a_translation_with_a_broken_placeholder_falls_back_to_the_source(tmp_path: Path) -> None:
    write_po(tmp_path, "fr", "messages", 'msgid "Hi {name}"\nmsgstr "Salut {nom}"\n')
    catalogs = Catalogs(tmp_path, ["en", "fr"], "en")
    assert catalogs.render(N_("Hi {name}", name="Amina"), "fr") == "Hi Amina"


def test_a_catalog_that_cannot_be_read_leaves_the_other_languages_working(tmp_path: Path) -> None:
    write_po(tmp_path, "fr", "messages", 'msgid "Yes"\nmsgstr "Oui"\n')
    broken = tmp_path / "ar" / "LC_MESSAGES" / "messages.po"
    broken.parent.mkdir(parents=True)
    broken.write_text('msgid "Yes"\nmsgstr "نعم\n\nthis is not a catalog', encoding="utf-8")
    catalogs = Catalogs(tmp_path, ["en", "fr", "ar"], "en")
    assert catalogs.render(N_("Yes"), "fr") == "Oui"
    assert catalogs.render(N_("Yes"), "ar") == "Yes"
