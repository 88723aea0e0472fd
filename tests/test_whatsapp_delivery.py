"""WhatsApp delivery: the Cloud API's errors in the sender's terms, and what follows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.channels.whatsapp.channel import client
from bot.channels.whatsapp.delivery import WhatsAppDelivery, shorten
from bot.delivery.errors import DeliveryError, Rejected, RetryAfter, Transient, Unreachable
from bot.delivery.sender import Delivery
from bot.services.coach import utc_now
from bot.store.media import MediaCache
from bot.store.outbox import Button, OutboundMessage
from tests.conftest import JOURNEY_COURSE
from tests.fakes import whatsapp_webhooks as hook
from tests.fakes.telegram_people import SAMPLE_PNG
from tests.fakes.whatsapp_graph import PHONE_NUMBER_ID, TOKEN
from tests.telegram_learner import drained, free_port, small_course
from tests.whatsapp_learner import WhatsAppLearner, coach_on_whatsapp, learner_row, outbox

AMINA = "33612345678"


def message(text: str, *labels: str) -> OutboundMessage:
    buttons = tuple(Button(f"{n}. {label}", f"p{n}") for n, label in enumerate(labels, 1))
    return OutboundMessage(1, "whatsapp", AMINA, text, buttons, None, None, "en")


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, 131056, RetryAfter),  # the pair rate: too many messages to one learner
        (429, 130429, RetryAfter),  # the number's throughput
        (400, 131026, Unreachable),  # the learner blocked the business, or left WhatsApp
        (400, 131047, Rejected),  # the 24-hour window is closed (templates: not yet)
        (500, 1, Transient),
        (503, 2, Transient),
        (400, 131009, Rejected),
    ],
)
async def test_each_cloud_api_error_means_what_the_sender_does_about_it(
    database_url: str, engine: object, status: int, code: int, expected: type[DeliveryError]
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):
        delivery = coach.channels["whatsapp"].delivery
        assert delivery is not None
        graph.fail_next(AMINA, status, code)
        with pytest.raises(expected) as raised:
            await delivery.deliver(message("Hello"))
        if expected is RetryAfter:
            assert isinstance(raised.value, RetryAfter) and raised.value.seconds > 0
        assert graph.sent == []
        assert await delivery.deliver(message("Hello")) == graph.sent[-1].id


async def test_choices_that_do_not_fit_an_interactive_body_keep_every_word(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):
        delivery: Delivery | None = coach.channels["whatsapp"].delivery
        assert delivery is not None
        long_text = "word " * 300
        labels = [f"A rather long option number {n} that goes on" for n in range(1, 5)]
        await delivery.deliver(message(long_text.strip(), *labels))
        text, choices = graph.sent
        assert (text.type, text.body) == ("text", long_text.strip())
        assert choices.listed and choices.body == "\n".join(
            f"{n}. {label}" for n, label in enumerate(labels, 1)
        )
        assert choices.choices[0][1] == "1. A rather long…"
        assert choices.descriptions[0] == "1. A rather long option number 1 that goes on"


def test_titles_are_shortened_on_a_word_boundary() -> None:
    assert shorten("1. Save data: no pictures", 20) == "1. Save data: no…"
    assert shorten("1. Yes", 20) == "1. Yes"
    assert shorten("1. Extraordinarilylongword", 20) == "1. Extraordinarilyl…"


async def test_a_learner_who_blocked_the_business_is_stopped(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):
        learner = WhatsAppLearner(coach, graph, AMINA, "Amina")
        await learner.says("hello")
        graph.blocked.add(AMINA)
        assert await learner.taps("English") == []
        assert (await learner_row(coach, AMINA)).status == "stopped"
        assert {row.status for row in (await outbox(coach, AMINA))[1:]} == {"dropped"}


async def test_a_message_outside_the_24_hour_window_is_refused_and_the_next_goes_on(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):
        learner = WhatsAppLearner(coach, graph, AMINA, "Amina")
        await learner.says("hello")
        graph.fail_next(AMINA, 400, 131047)
        said = await learner.taps("English")
        await drained(coach)
        rows = await outbox(coach, AMINA)
        assert [row.status for row in rows[1:]] == ["failed", "sent"]
        assert rows[1].last_error is not None and "131047" in rows[1].last_error
        assert len(said) == 1 and said[0].startswith("What would you like to do?")


async def test_a_graph_api_that_cannot_be_reached_is_a_transient_failure(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, _graph):
        wa, http = client(TOKEN, PHONE_NUMBER_ID, f"http://127.0.0.1:{free_port()}/v26.0")
        delivery = WhatsAppDelivery(wa, MediaCache(coach.store), JOURNEY_COURSE, utc_now)
        try:
            with pytest.raises(Transient):
                await delivery.deliver(message("Hello"))
        finally:
            await http.aclose()


async def test_a_picture_without_choices_carries_the_text_as_its_caption(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    lesson = "title: Cups\nminutes: 1\nsteps:\n  - id: end\n    kind: checkpoint\n    text: Done.\n"
    course = small_course(tmp_path, {"cups": lesson}, media={"media/cup.png": SAMPLE_PNG})
    async with coach_on_whatsapp(database_url, curriculum=course) as (coach, graph):
        delivery = coach.channels["whatsapp"].delivery
        assert delivery is not None
        media = {"kind": "image", "path": "media/cup.png", "size": len(SAMPLE_PNG)}
        picture = replace(message("A cup."), media=media)
        assert await delivery.deliver(picture) == graph.sent[-1].id
        (sent,) = graph.sent
        assert (sent.type, sent.body) == ("image", "A cup.")
        assert sent.media_id is not None and graph.uploads[sent.media_id] == SAMPLE_PNG


async def test_a_learner_whatsapp_later_reports_unreachable_is_stopped(
    database_url: str, engine: object
) -> None:
    """Meta often accepts a message and reports 131026 afterwards, in a status webhook."""
    async with coach_on_whatsapp(database_url) as (coach, graph):
        learner = WhatsAppLearner(coach, graph, AMINA, "Amina")
        await learner.says("hello")
        await learner.taps("English")
        first = learner.last[0].id
        assert await graph.post_webhook(hook.status(AMINA, first, "delivered")) == 200
        assert (await learner_row(coach, AMINA)).status == "active"
        assert await graph.post_webhook(hook.status(AMINA, first, "failed", 131026)) == 200
        assert (await learner_row(coach, AMINA)).status == "stopped"
