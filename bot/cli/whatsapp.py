"""``coach whatsapp templates``: the template messages to submit to Meta, in every language.

Outside WhatsApp's 24-hour window the coach may send only templates Meta approved. This
prints them per language, as they are to be entered in WhatsApp Manager, or with ``--json``
as the bodies of Meta's create-message-template call (``POST /{WABA-ID}/message_templates``),
which ``--submit`` makes itself (with ``COACH_WHATSAPP_BUSINESS_ACCOUNT_ID``).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.loading import load_settings

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.core.text import Text

app = typer.Typer(help="WhatsApp: what to set up at Meta.", no_args_is_help=True)


@app.command("templates")
def templates(
    as_json: Annotated[
        bool, typer.Option("--json", help="The bodies of Meta's create-message-template call.")
    ] = False,
    submit: Annotated[
        bool,
        typer.Option(
            "--submit",
            help="Submit them to Meta for review (COACH_WHATSAPP_TOKEN with "
            "whatsapp_business_management, COACH_WHATSAPP_BUSINESS_ACCOUNT_ID).",
        ),
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
    bodies = [
        definition(template, catalogs, code, [samples[code]])
        for template in TEMPLATES
        for code in languages
    ]
    if submit:
        _submit(settings, bodies)
    if as_json:
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


def _submit(settings: Settings, bodies: list[dict[str, Any]]) -> None:
    """Submit every template; exits 1 when Meta refused any, 2 when it cannot be asked."""
    if not settings.whatsapp_token or not settings.whatsapp_business_account_id:
        typer.echo(
            "Set COACH_WHATSAPP_TOKEN and COACH_WHATSAPP_BUSINESS_ACCOUNT_ID (the WhatsApp "
            "Business Account id, in WhatsApp Manager) to submit the templates.",
            err=True,
        )
        raise typer.Exit(2)
    lines = asyncio.run(submit_templates(settings, bodies))
    for line in lines:
        typer.echo(line)
    refused = sum(1 for line in lines if ": refused" in line)
    typer.echo(f"{len(lines) - refused} submitted (Meta reviews them), {refused} refused.")
    raise typer.Exit(1 if refused else 0)


async def submit_templates(settings: Settings, bodies: list[dict[str, Any]]) -> list[str]:
    """Meta's create-message-template call for each body: one line each, what Meta said
    (its own words when it refuses, e.g. a template already there in that language)."""
    import httpx

    assert settings.whatsapp_token is not None
    token = settings.whatsapp_token.get_secret_value()
    path = f"/{settings.whatsapp_business_account_id}/message_templates"
    lines = []
    async with httpx.AsyncClient(
        base_url=settings.whatsapp_api_base.rstrip("/"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ) as client:
        for body in bodies:
            where = f"{body['name']} · {body['language']}"
            try:
                answer = await client.post(path, json=body)
                said = answer.json()
            except (httpx.HTTPError, ValueError) as error:
                lines.append(f"{where}: refused: no answer from Meta ({type(error).__name__})")
                continue
            if answer.is_success:
                lines.append(f"{where}: {said.get('status', 'PENDING')} (id {said.get('id')})")
            else:
                problem = said.get("error") or {}
                words = (
                    problem.get("error_user_msg") or problem.get("message") or answer.reason_phrase
                )
                lines.append(f"{where}: refused: {words}")
    return lines


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
