"""The template messages the coach sends outside WhatsApp's 24-hour window, all in one place.

WhatsApp takes free-form messages only within 24 hours of the learner's last message; after
that, only templates Meta approved. Each template's body is a sentence of the interface
catalog, so each language has its own text once translated; its parameters become Meta's
positional ``{{1}}``, ``{{2}}``. ``coach whatsapp templates`` prints them for the operator to
submit in WhatsApp Manager (or as the JSON of Meta's create-message-template call).

A reminder to a learner quiet for more than 24 hours goes as ``coach_lesson_waiting`` (the
lesson's title as ``{{1}}``), ``coach_new_lesson`` or ``coach_pause_question``, with the
reminder's buttons as quick replies; any other message waits, held, and the learner gets
``coach_message_waiting`` once, so that replying opens the window and brings it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pywa.types.templates import TemplateLanguage

from bot.channels.whatsapp.fitting import shorten
from bot.core import payloads
from bot.core.nudges import ASK_PAUSE_TEXT, CONTINUE_LABEL, LATER_LABEL, PAUSE_LABEL
from bot.core.text import N_, Msg, Text
from bot.i18n import Catalogs

CATEGORY = "UTILITY"
BUTTON_TEXT = 25  # a quick-reply button's title, at most
PARAMETER_TEXT = 60  # a body parameter short enough for any reviewer and any phone
# Catalog languages WhatsApp knows under another code (Dari is written as Persian).
META_CODES = {"fa_AF": "fa"}
KNOWN_CODES = frozenset(language.value for language in TemplateLanguage)


@dataclass(frozen=True)
class Template:
    """One template: ``body`` names its parameters; ``params`` gives their order ({{1}}…)."""

    name: str
    body: Msg
    params: tuple[str, ...] = ()
    buttons: tuple[tuple[Msg, str], ...] = ()  # quick replies: label, payload sent back


REMINDER_BUTTONS = (
    (CONTINUE_LABEL, payloads.NUDGE_GO),
    (LATER_LABEL, payloads.NUDGE_LATER),
    (PAUSE_LABEL, payloads.NUDGE_PAUSE),
)
LESSON_WAITING = Template(
    "coach_lesson_waiting",
    N_("Your lesson “{title}” is waiting for you. Shall we go on?"),
    ("title",),
    REMINDER_BUTTONS,
)
NEW_LESSON = Template(
    "coach_new_lesson",
    N_("Hello! A new lesson is waiting for you. It takes only 2 minutes."),
    buttons=REMINDER_BUTTONS,
)
PAUSE_QUESTION = Template("coach_pause_question", ASK_PAUSE_TEXT, buttons=REMINDER_BUTTONS)
MESSAGE_WAITING = Template(
    "coach_message_waiting",
    N_("You have a new message from the coach. Reply to this message to read it."),
)
TEMPLATES = (LESSON_WAITING, NEW_LESSON, PAUSE_QUESTION, MESSAGE_WAITING)
BY_NAME = {template.name: template for template in TEMPLATES}


def meta_code(language: str) -> str | None:
    """WhatsApp's code for a catalog language; None when WhatsApp has no templates in it."""
    code = META_CODES.get(language, language)
    return code if code in KNOWN_CODES else None


def template_language(language: str, fallback: str) -> str:
    """The catalog language a template goes in: the learner's, or the fallback's when
    WhatsApp has no templates in theirs (Pashto, Tigrinya)."""
    return language if meta_code(language) is not None else fallback


def body_text(template: Template, catalogs: Catalogs, language: str) -> str:
    """The body in ``language``, its parameters as ``{{1}}``, ``{{2}}`` …"""
    numbered = {name: f"{{{{{n}}}}}" for n, name in enumerate(template.params, 1)}
    return catalogs.render(Msg(template.body.msgid, numbered), language)


def button_texts(template: Template, catalogs: Catalogs, language: str) -> list[str]:
    return [shorten(catalogs.render(label, language), BUTTON_TEXT) for label, _ in template.buttons]


def reminder_template(text: Text, catalogs: Catalogs, language: str) -> dict[str, Any]:
    """What an outbox row keeps (``media``) to send a reminder as a template outside the
    window: the template for the reminder's text, its language and its parameters."""
    in_language = template_language(language, catalogs.fallback)
    params: list[str] = []
    if text == ASK_PAUSE_TEXT:
        template = PAUSE_QUESTION
    elif isinstance(text, Msg) and text.params.get("title") is not None:
        template = LESSON_WAITING
        title = catalogs.render(text.params["title"], in_language)
        params = [title[:PARAMETER_TEXT]]
    else:
        template = NEW_LESSON
    return {"template": sent_template(template, in_language, params)}


def sent_template(template: Template, language: str, params: list[str]) -> dict[str, Any]:
    code = meta_code(language)
    assert code is not None, "templates go in a language WhatsApp knows"
    return {"name": template.name, "language": code, "params": params}


def components(kept: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``components`` of a send-template call: body parameters, quick-reply payloads."""
    template = BY_NAME[str(kept["name"])]
    parts: list[dict[str, Any]] = []
    if kept.get("params"):
        texts = [{"type": "text", "text": str(value)} for value in kept["params"]]
        parts.append({"type": "body", "parameters": texts})
    for index, (_label, payload) in enumerate(template.buttons):
        parts.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": payload}],
            }
        )
    return parts


def definition(
    template: Template, catalogs: Catalogs, language: str, examples: list[str]
) -> dict[str, Any]:
    """The body of Meta's create-message-template call (``POST /{WABA-ID}/message_templates``)
    for one template in one catalog language."""
    code = meta_code(language)
    assert code is not None
    body: dict[str, Any] = {"type": "BODY", "text": body_text(template, catalogs, language)}
    if template.params:
        body["example"] = {"body_text": [examples[: len(template.params)]]}
    parts: list[dict[str, Any]] = [body]
    if template.buttons:
        buttons = [
            {"type": "QUICK_REPLY", "text": text}
            for text in button_texts(template, catalogs, language)
        ]
        parts.append({"type": "BUTTONS", "buttons": buttons})
    return {
        "name": template.name,
        "language": code,
        "category": CATEGORY,
        "parameter_format": "POSITIONAL",
        "components": parts,
    }
