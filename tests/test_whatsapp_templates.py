"""WhatsApp's 24-hour window: after a day of silence, reminders go as approved templates in
the learner's language, and nothing goes as free text until the learner writes again."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from bot.app import Coach
from bot.delivery.errors import Rejected
from bot.i18n import Catalogs
from bot.store.outbox import Button, OutboundMessage
from bot.store.tables import OutboxRow
from tests.conftest import ROOT
from tests.fakes.whatsapp_graph import FakeGraph
from tests.telegram_learner import drained
from tests.whatsapp_learner import (
    WallClock,
    WhatsAppLearner,
    coach_on_whatsapp,
    nudge_sweep,
    on_clock,
    outbox,
)

AMINA = "33612345678"
MONDAY_MORNING = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # 10:30 in Paris


async def amina_chooses(coach: Coach, graph: FakeGraph, language: str) -> WhatsAppLearner:
    learner = WhatsAppLearner(coach, graph, AMINA, "Amina")
    await learner.says("hello")
    await learner.taps(language)
    return learner


async def test_after_two_silent_days_the_reminder_comes_as_a_template_and_a_tap_goes_on(
    database_url: str, engine: object
) -> None:
    clock = WallClock(MONDAY_MORNING)
    async with coach_on_whatsapp(database_url) as (coach, graph):
        on_clock(coach, graph, clock)
        learner = await amina_chooses(coach, graph, "English")
        await learner.taps("Basics")
        said = await learner.taps("First steps (2 min)")
        assert said[1:] == ["Hello there.\n\n1. Next ➡️"]

        clock.advance(days=2)  # Wednesday, 10:30 in Paris: 48 hours of silence
        assert await nudge_sweep(coach).sweep(clock()) == 1
        await drained(coach)
        reminder = graph.to(AMINA)[-1]
        assert (reminder.type, reminder.template) == ("template", "coach_lesson_waiting")
        assert (reminder.language, reminder.params) == ("en", ["First steps"])
        assert [payload for payload, _ in reminder.choices] == [
            "nudge:go",
            "nudge:later",
            "nudge:pause",
        ]
        assert graph.outside_window == 0  # no free text was even tried

        said = await learner.taps_quick_reply(reminder, 0)  # "Continue learning"
        assert "Hello there.\n\n1. Next ➡️" in said
        assert all(m.type != "template" for m in learner.last)
        assert graph.outside_window == 0


async def test_the_reminder_template_is_in_the_learner_s_language(
    database_url: str, engine: object
) -> None:
    clock = WallClock(MONDAY_MORNING)
    async with coach_on_whatsapp(database_url) as (coach, graph):
        on_clock(coach, graph, clock)
        await amina_chooses(coach, graph, "Français")
        clock.advance(days=2)
        assert await nudge_sweep(coach).sweep(clock()) == 1
        await drained(coach)
        reminder = graph.to(AMINA)[-1]
        assert (reminder.template, reminder.language) == ("coach_new_lesson", "fr")


async def test_within_the_window_a_reminder_is_an_ordinary_message_with_buttons(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):
        await WhatsAppLearner(coach, graph, AMINA, "Amina").says("hello")
        delivery = coach.channels["whatsapp"].delivery
        assert delivery is not None
        kept = {"template": {"name": "coach_new_lesson", "language": "en", "params": []}}
        buttons = (Button("1. Continue learning", "nudge:go"), Button("2. Later", "nudge:later"))
        reminder = OutboundMessage(7, "whatsapp", AMINA, "Hello!", buttons, kept, None, "en")
        assert await delivery.deliver(reminder) == graph.sent[-1].id
        sent = graph.sent[-1]
        assert (sent.type, sent.template, sent.body) == (
            "interactive",
            None,
            "Hello!\n\n1. Continue learning\n2. Later",
        )


async def coach_writes(coach: Coach, text: str) -> None:
    """A message the coach starts (such as a volunteer's answer), written to the outbox."""
    now = coach.service.clock()
    async with coach.store.unit_of_work() as uow:
        count = len(await uow.outbox.after("whatsapp", AMINA, 0))
        await uow.outbox.add(
            OutboxRow(
                channel="whatsapp",
                chat_id=AMINA,
                text=text,
                language="en",
                dedupe_key=f"test:{count}",
                status="pending",
                not_before=now,
                attempts=0,
                created_at=now,
            )
        )
    assert coach.sender is not None
    coach.sender.wake()


async def test_other_messages_wait_held_until_the_learner_writes_and_are_never_free_text(
    database_url: str, engine: object, caplog: pytest.LogCaptureFixture
) -> None:
    clock = WallClock(MONDAY_MORNING)
    async with coach_on_whatsapp(database_url) as (coach, graph):
        on_clock(coach, graph, clock)
        learner = await amina_chooses(coach, graph, "English")
        clock.advance(hours=25)
        before = len(graph.to(AMINA))
        with caplog.at_level(logging.INFO):
            await coach_writes(coach, "Nadia answered: see you on Tuesday.")
            await coach_writes(coach, "Nadia: bring your phone charger.")
            await drained(coach)
        told = graph.to(AMINA)[before:]
        assert [(m.type, m.template) for m in told] == [("template", "coach_message_waiting")]
        assert [row.status for row in (await outbox(coach, AMINA))[-2:]] == ["held", "held"]
        held_lines = [r.getMessage() for r in caplog.records if "held" in r.getMessage()]
        assert held_lines and all("Nadia" not in line and AMINA not in line for line in held_lines)

        said = await learner.says("hello")
        assert said[:2] == [
            "Nadia answered: see you on Tuesday.",
            "Nadia: bring your phone charger.",
        ]
        assert graph.outside_window == 0
        assert {row.status for row in (await outbox(coach, AMINA))} <= {"sent"}


async def test_a_message_refused_with_131047_goes_as_its_template(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):
        await WhatsAppLearner(coach, graph, AMINA, "Amina").says("hello")
        delivery = coach.channels["whatsapp"].delivery
        assert delivery is not None
        kept = {"template": {"name": "coach_new_lesson", "language": "en", "params": []}}
        reminder = OutboundMessage(7, "whatsapp", AMINA, "Hello!", (), kept, None, "en")
        graph.fail_next(AMINA, 400, 131047)  # Meta's clock says the day is over
        assert await delivery.deliver(reminder) == graph.sent[-1].id
        assert graph.sent[-1].template == "coach_new_lesson"


async def test_a_template_not_approved_yet_keeps_the_reminder_waiting_and_tells_the_operator(
    database_url: str, engine: object, caplog: pytest.LogCaptureFixture
) -> None:
    clock = WallClock(MONDAY_MORNING)
    async with coach_on_whatsapp(database_url) as (coach, graph):
        on_clock(coach, graph, clock)
        await amina_chooses(coach, graph, "English")
        graph.approved = set()
        clock.advance(days=2)
        with caplog.at_level(logging.WARNING):
            assert await nudge_sweep(coach).sweep(clock()) == 1
            await drained(coach)
        reminder = (await outbox(coach, AMINA))[-1]
        assert reminder.status == "held"
        assert reminder.last_error == "whatsapp 132001: template not approved"
        assert any("coach whatsapp templates" in r.getMessage() for r in caplog.records)
        assert graph.outside_window == 0
        # She writes again: the window is open, the reminder goes as an ordinary message.
        said = await WhatsAppLearner(coach, graph, AMINA, "Amina").says("hello")
        assert said[0].startswith("Hello! A new lesson is waiting for you.")
        await drained(coach)
        again = next(row for row in await outbox(coach, AMINA) if row.id == reminder.id)
        assert again.status == "sent" and graph.outside_window == 0


def test_every_template_has_its_text_in_each_language_whatsapp_knows() -> None:
    from bot.channels.whatsapp.templates import MESSAGE_WAITING, TEMPLATES, body_text, meta_code

    catalogs = Catalogs(ROOT / "locales", ["en", "fr", "ar", "fa_AF", "ps"], "en")
    for template in TEMPLATES:
        english = body_text(template, catalogs, "en")
        assert english.count("{{1}}") == len(template.params)
        assert "{" not in english.replace("{{1}}", "")
        french = body_text(template, catalogs, "fr")
        if template is MESSAGE_WAITING:  # a new sentence: English until it is translated
            assert french in (english, catalogs.render(MESSAGE_WAITING.body, "fr"))
        else:
            assert french != english and french.count("{{1}}") == len(template.params)
    assert (meta_code("fa_AF"), meta_code("ps"), meta_code("en")) == ("fa", None, "en")


def test_131047_without_a_template_is_a_clear_failure() -> None:
    from pywa_async.errors import WhatsAppError

    from bot.channels.whatsapp.errors import outcome

    error = WhatsAppError.from_dict({"code": 131047, "message": "Re-engagement message"})
    refused = outcome(error)
    assert isinstance(refused, Rejected) and "no template" in str(refused)
