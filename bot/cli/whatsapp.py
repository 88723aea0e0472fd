"""``coach whatsapp templates``: the template messages to submit to Meta, in every language.

Outside WhatsApp's 24-hour window the coach may send only templates Meta approved. This
prints them per language, as they are to be entered in WhatsApp Manager, or with ``--json``
as the bodies of Meta's create-message-template call (``POST /{WABA-ID}/message_templates``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.loading import load_settings

if TYPE_CHECKING:
    from bot.core.text import Text

app = typer.Typer(help="WhatsApp: what to set up at Meta.", no_args_is_help=True)


@app.command("templates")
def templates(
    as_json: Annotated[
        bool, typer.Option("--json", help="The bodies of Meta's create-message-template call.")
    ] = False,
) -> None:
    """Print the templates to submit in WhatsApp Manager, in every language."""
    from bot.channels.whatsapp.templates import TEMPLATES, body_text, button_texts, definition
    from bot.channels.whatsapp.templates import meta_code as code_of
    from bot.i18n import Catalogs

    settings = load_settings()
    catalogs = Catalogs(settings.locales_path, settings.languages, settings.fallback_language)
    languages = [code for code in catalogs.languages if code_of(code) is not None]
    missing = [code for code in catalogs.languages if code_of(code) is None]
    first = _first_lesson_title(settings.curriculum_path)
    samples = {code: catalogs.render(first, code) for code in languages}
    if as_json:
        bodies = [
            definition(template, catalogs, code, [samples[code]])
            for template in TEMPLATES
            for code in languages
        ]
        typer.echo(json.dumps(bodies, ensure_ascii=False, indent=2))
        return
    typer.echo(
        "WhatsApp templates: in WhatsApp Manager, Message templates, create each one below "
        "(category Utility) in each language, with the same name; the coach uses them once "
        "Meta approves them.\n"
    )
    for template in TEMPLATES:
        for code in languages:
            name = catalogs.languages[code].name
            typer.echo(f"{template.name} · {code_of(code)} ({name}) · UTILITY")
            typer.echo(f"  body: {body_text(template, catalogs, code)}")
            if template.params:
                typer.echo(f"  sample for {{{{1}}}}: {samples[code]}")
            if template.buttons:
                quick = " | ".join(button_texts(template, catalogs, code))
                typer.echo(f"  quick replies: {quick}")
        typer.echo("")
    if missing:
        typer.echo(
            f"WhatsApp has no templates in {', '.join(missing)}: those learners get the "
            f"{settings.fallback_language} templates."
        )


def _first_lesson_title(curriculum: Path) -> Text:
    """The first lesson's title: the sample Meta's review asks for ``{{1}}``."""
    from bot.core.menus import lesson_title
    from bot.core.text import Verbatim
    from bot.course.holder import CourseHolder
    from bot.course.problems import CourseError

    try:
        lessons = CourseHolder.load(curriculum).course.lessons
    except CourseError:
        lessons = ()
    return lesson_title(lessons[0]) if lessons else Verbatim("First steps")
