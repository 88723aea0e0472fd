"""Translators' workflow: extraction, status, checks, and never showing a broken translation."""

from __future__ import annotations

import json
from pathlib import Path

from babel.messages.extract import extract_from_dir
from typer.testing import CliRunner

from bot.cli import app
from bot.core.text import N_, CourseText
from bot.i18n import Catalogs
from bot.services.rendering import RLM, right_to_left
from tests.conftest import JOURNEY_COURSE, ROOT

runner = CliRunner()
LANGUAGES = ["en", "fr", "ar", "fa_AF", "ps", "uk", "ru", "ti"]
PO = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

"""


def test_the_status_shows_the_course_and_eight_complete_languages() -> None:
    result = runner.invoke(app, ["curriculum", "status", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {
        "modules",
        "lessons",
        "practice_tasks",
        "competences",
        "estimated_minutes",
        "languages",
    }
    assert set(report["estimated_minutes"].values()) <= {1, 2, 3}
    assert report["lessons"] >= 30 and report["modules"] >= 7
    assert report["practice_tasks"] >= 20 and len(report["competences"]) >= 10
    assert list(report["languages"]) == LANGUAGES
    for code, domains in report["languages"].items():
        for domain in ("messages", "curriculum"):
            shares = domains[domain]
            assert shares["missing"] == 0 and shares["fuzzy"] == 0, (code, domain, shares)
            assert shares["translated"] == 1
            assert shares["unreviewed"] == (0 if code == "en" else 1), (code, domain)


def test_the_extractor_gives_every_lesson_text_its_place_and_the_trainers_notes() -> None:
    found = {
        context: (message, comments)
        for _file, _line, message, comments, context in extract_from_dir(
            str(ROOT), method_map=[("curriculum/warmup/*.yaml", "coach_curriculum")]
        )
    }
    message, comments = found["warmup-buttons/sky/option-1"]
    assert message == "Blue"
    assert any("OK" in comment for comment in comments)
    assert found["warmup-buttons/title"][0] == "Buttons and numbers"
    assert "warmup-buttons/type-ok/hint" in found


def broken_catalogs(folder: Path) -> Path:
    fr = folder / "locales" / "fr" / "LC_MESSAGES"
    fr.mkdir(parents=True)
    (fr / "messages.po").write_text(
        PO
        + 'msgid "Continue: {title}"\nmsgstr "Continuer : {titre}"\n\n'
        + 'msgid "Lessons done: {done} of {total}"\nmsgstr "Leçons : {done}"\n\n'
        + 'msgid "Hello"\nmsgstr "<b>Bonjour"\n\n'
        + 'msgid "Yes"\nmsgstr "'
        + "Oui " * 1100
        + '"\n',
        encoding="utf-8",
    )
    ar = folder / "locales" / "ar" / "LC_MESSAGES"
    ar.mkdir(parents=True)
    (ar / "messages.po").write_text(PO + 'msgid "Yes"\nmsgstr "نعم\n\nmsgid', encoding="utf-8")
    return folder / "locales"


def test_broken_translations_are_reported_with_the_catalog_file_and_line(tmp_path: Path) -> None:
    locales = broken_catalogs(tmp_path)
    result = runner.invoke(
        app, ["curriculum", "check", str(JOURNEY_COURSE), "--locales", str(locales)]
    )
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(
        line.startswith("locales/fr/LC_MESSAGES/messages.po:5:") and "{titre}" in line
        for line in lines
    )
    assert any(":8:" in line and "drops placeholders: {total}" in line for line in lines)
    assert any(":11:" in line and "markup" in line for line in lines)
    assert any(":14:" in line and "too long" in line for line in lines)
    assert any(
        line.startswith("locales/ar/LC_MESSAGES/messages.po:") and "cannot be read" in line
        for line in lines
    )


def test_a_broken_translation_is_never_shown_the_fallback_is(tmp_path: Path) -> None:
    catalogs = Catalogs(broken_catalogs(tmp_path), ["en", "fr", "ar"], "en")
    assert catalogs.render(N_("Continue: {title}", title="X"), "fr") == "Continue: X"
    assert (
        catalogs.render(N_("Lessons done: {done} of {total}", done=1, total=2), "fr")
        == "Lessons done: 1 of 2"
    )
    assert catalogs.render(N_("Hello"), "fr") == "Hello"
    assert catalogs.render(N_("Yes"), "fr") == "Yes"
    assert catalogs.render(N_("Yes"), "ar") == "Yes"


def test_a_changed_lesson_text_shows_the_source_not_the_old_translation(tmp_path: Path) -> None:
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "curriculum.po").write_text(
        PO + '#, fuzzy\n#| msgid "Hello."\nmsgctxt "l/s/text"\n'
        'msgid "Hello there."\nmsgstr "Bonjour."\n',
        encoding="utf-8",
    )
    catalogs = Catalogs(tmp_path, ["en", "fr"], "en")
    assert catalogs.render(CourseText("l/s/text", "Hello there."), "fr") == "Hello there."


def test_right_to_left_lines_start_with_a_direction_mark() -> None:
    assert right_to_left("www.ameli.fr\n\n3 خطوات") == f"{RLM}www.ameli.fr\n\n{RLM}3 خطوات"
    assert right_to_left(f"{RLM}نعم") == f"{RLM}نعم"


def test_every_offered_language_has_its_own_name_and_direction() -> None:
    catalogs = Catalogs(ROOT / "locales", LANGUAGES, "en")
    assert catalogs.names()["fa_AF"] == "دری"
    assert [code for code in LANGUAGES if catalogs.is_rtl(code)] == ["ar", "fa_AF", "ps"]
    assert catalogs.best_match("prs", "en") == "fa_AF"
