"""``coach whatsapp templates``: what an operator submits to Meta, in every language."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.conftest import settings_for
from tests.fakes.whatsapp_graph import APP_SECRET, PHONE_NUMBER_ID, TOKEN, fake_graph

runner = CliRunner()
WAITING = "coach_message_waiting"
NAMES = {
    "coach_lesson_waiting",
    "coach_new_lesson",
    "coach_pause_question",
    "coach_message_waiting",
}


def test_the_templates_are_printed_per_language_to_enter_in_whatsapp_manager() -> None:
    result = runner.invoke(app, ["whatsapp", "templates"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "coach_lesson_waiting · en (English) · UTILITY" in out
    assert "body: Your lesson “{{1}}” is waiting for you. Shall we go on?" in out
    assert "body: Votre leçon «\u00a0{{1}}\u00a0» vous attend. On continue\u00a0?" in out
    assert "coach_lesson_waiting · fa (دری) · UTILITY" in out  # Dari, as WhatsApp's Persian
    assert "quick replies: Continue learning | Later | Pause reminders" in out
    assert "WhatsApp has no templates in ps, ti: those learners get the en templates." in out


def test_with_json_each_template_is_the_body_of_meta_s_create_template_call() -> None:
    result = runner.invoke(app, ["whatsapp", "templates", "--json"])
    assert result.exit_code == 0, result.output
    bodies = json.loads(result.stdout)
    assert {body["name"] for body in bodies} == NAMES
    assert {body["language"] for body in bodies} == {"en", "fr", "ar", "fa", "uk", "ru"}
    assert len(bodies) == len(NAMES) * 6
    assert {body["category"] for body in bodies} == {"UTILITY"}
    (french,) = [b for b in bodies if (b["name"], b["language"]) == ("coach_lesson_waiting", "fr")]
    body, buttons = french["components"]
    assert body == {
        "type": "BODY",
        "text": "Votre leçon «\u00a0{{1}}\u00a0» vous attend. On continue\u00a0?",
        "example": {"body_text": [["Boutons et numéros"]]},
    }
    assert buttons["type"] == "BUTTONS"
    assert [b["type"] for b in buttons["buttons"]] == ["QUICK_REPLY"] * 3
    assert all(len(b["text"]) <= 25 for b in buttons["buttons"])
    (waiting,) = [
        b for b in bodies if (b["name"], b["language"]) == ("coach_message_waiting", "en")
    ]
    assert waiting["components"] == [
        {
            "type": "BODY",
            "text": "You have a new message from the coach. Reply to this message to read it.",
        }
    ]


def test_submitting_needs_the_business_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COACH_WHATSAPP_BUSINESS_ACCOUNT_ID", raising=False)
    result = runner.invoke(app, ["whatsapp", "templates", "--submit"])
    assert result.exit_code == 2
    assert "COACH_WHATSAPP_BUSINESS_ACCOUNT_ID" in result.output


async def test_submit_sends_each_template_for_review_and_says_what_meta_answered() -> None:
    from bot.cli.whatsapp import submit_templates

    result = runner.invoke(app, ["whatsapp", "templates", "--json"])
    bodies = json.loads(result.stdout)
    async with fake_graph() as graph:
        settings = settings_for(
            "sqlite+aiosqlite://",
            whatsapp_token=TOKEN,
            whatsapp_phone_number_id=PHONE_NUMBER_ID,
            whatsapp_app_secret=APP_SECRET,
            whatsapp_verify_token="v",
            whatsapp_api_base=graph.base_url,
            whatsapp_business_account_id="102290129340398",
        )
        first = await submit_templates(settings, bodies[:2])
        again = await submit_templates(settings, bodies[:1])
    assert [line.split(": ", 1)[1].split(" (")[0] for line in first] == ["PENDING", "PENDING"]
    assert set(graph.submitted) == {(b["name"], b["language"]) for b in bodies[:2]}
    assert again == [
        f"{bodies[0]['name']} · {bodies[0]['language']}: refused: "
        "Content in this language already exists."
    ]
