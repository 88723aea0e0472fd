"""WhatsApp delivery: the Cloud API's errors in the sender's terms, and what follows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.app import Coach
from bot.channels.whatsapp.channel import client
from bot.channels.whatsapp.delivery import WhatsAppDelivery, shorten
from bot.delivery.errors import DeliveryError, Rejected, RetryAfter, Transient, Unreachable
from bot.delivery.limits import Limits, RateLimiter
from bot.delivery.sender import Delivery
from bot.services.coach import utc_now
from bot.store.media import MediaCache
from bot.store.outbox import Button, OutboundMessage
from bot.store.tables import OutboxRow
from tests.conftest import JOURNEY_COURSE, settings_for
from tests.fakes import whatsapp_webhooks as hook
from tests.fakes.telegram_people import SAMPLE_PNG
from tests.fakes.whatsapp_graph import PHONE_NUMBER_ID, TOKEN, FakeGraph
from tests.telegram_learner import VirtualClock, drained, free_port, small_course
from tests.whatsapp_learner import WhatsAppLearner, coach_on_whatsapp, learner_row, outbox

AMINA = "33612345678"
BILAL = "33698765432"


async def wrote_today(coach: Coach, graph: FakeGraph) -> None:
    """Amina wrote to the coach: free-form messages may go to her for 24 hours."""
    await WhatsAppLearner(coach, graph, AMINA, "Amina").says("hello")
    graph.sent.clear()


def message(text: str, *labels: str) -> OutboundMessage:
    buttons = tuple(Button(f"{n}. {label}", f"p{n}") for n, label in enumerate(labels, 1))
    return OutboundMessage(1, "whatsapp", AMINA, text, buttons, None, None, "en")


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, 131056, RetryAfter),  # the pair rate: too many messages to one learner
        (429, 130429, RetryAfter),  # the number's throughput
        (400, 131026, Unreachable),  # the learner blocked the business, or left WhatsApp
        (400, 131047, Rejected),  # the 24-hour window closed, and no template for this one
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
        await wrote_today(coach, graph)
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
        await wrote_today(coach, graph)
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
        await wrote_today(coach, graph)
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


async def test_the_pair_rate_comes_from_whatsapp_s_capabilities(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, _graph):
        assert coach.sender is not None
        assert coach.sender.chat_rates == {"whatsapp": pytest.approx(1 / 6)}
        assert coach.sender.channel_totals == {"whatsapp": 80}


async def test_a_number_meta_has_raised_sends_at_its_own_throughput(
    database_url: str, engine: object
) -> None:
    """COACH_WHATSAPP_MESSAGES_PER_SECOND: Meta raises a busy number to up to 1,000 a second."""
    async with coach_on_whatsapp(database_url, whatsapp_messages_per_second=250) as (coach, _g):
        assert coach.sender is not None
        assert coach.sender.channel_totals == {"whatsapp": 250}
    with pytest.raises(ValidationError, match="whatsapp_messages_per_second"):
        settings_for(database_url, whatsapp_messages_per_second=5000)


async def queue_for(coach: Coach, wa_id: str, texts: list[str]) -> None:
    now = utc_now()
    async with coach.store.unit_of_work() as uow:
        for text in texts:
            await uow.outbox.add(
                OutboxRow(
                    channel="whatsapp",
                    chat_id=wa_id,
                    text=text,
                    language="en",
                    dedupe_key=f"test:{wa_id}:{text}",
                    status="pending",
                    not_before=now,
                    attempts=0,
                    created_at=now,
                )
            )


async def test_one_learner_s_messages_keep_the_pair_rate_and_another_learner_does_not_wait(
    database_url: str, engine: object
) -> None:
    """About one message every 6 s to one learner (here one every 0.3 s, to run fast) after
    a short burst: WhatsApp never answers 131056, and another learner is not slowed."""
    async with coach_on_whatsapp(database_url, private_burst=3) as (coach, graph):
        assert coach.sender is not None
        await WhatsAppLearner(coach, graph, AMINA, "Amina").says("hello")
        await WhatsAppLearner(coach, graph, BILAL, "Bilal").says("hello")
        graph.sent.clear()
        coach.sender.chat_rates["whatsapp"] = 1 / 0.3
        graph.pair_rate = (0.3, 3)
        await queue_for(coach, AMINA, [f"a{n}" for n in range(6)])
        await queue_for(coach, BILAL, ["b0"])
        coach.sender.wake()
        await drained(coach)
        assert graph.refused.get(131056, 0) == 0
        to_amina = graph.to(AMINA)
        assert [m.body for m in to_amina] == [f"a{n}" for n in range(6)]
        (to_bilal,) = graph.to(BILAL)
        assert to_bilal.at < to_amina[3].at  # not behind Amina's wait
        # A burst of 3 goes at once, then one every 0.3 s: after a late message (a busy
        # machine), the time it waited counts, as in WhatsApp's own bucket, never more.
        assert within_bucket([m.at for m in to_amina], every=0.3, burst=3, slack=0.05)


def within_bucket(times: list[float], every: float, burst: int, slack: float) -> bool:
    """Whether sends at ``times`` keep a token bucket of ``burst`` refilled one per ``every``
    seconds (with ``slack`` seconds for the clocks)."""
    tokens, last = float(burst), times[0]
    for at in times:
        tokens = min(burst, tokens + (at - last + slack) / every)
        if tokens < 1:
            return False
        tokens, last = tokens - 1, at
    return True


async def test_the_number_s_throughput_reached_pauses_every_learner_and_131056_one(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):
        delivery = coach.channels["whatsapp"].delivery
        assert delivery is not None
        await wrote_today(coach, graph)
        graph.fail_next(AMINA, 429, 130429)
        with pytest.raises(RetryAfter) as number:
            await delivery.deliver(message("Hello"))
        assert number.value.everyone
        graph.fail_next(AMINA, 400, 131056)
        with pytest.raises(RetryAfter) as pair:
            await delivery.deliver(message("Hello"))
        assert not pair.value.everyone and pair.value.seconds >= 6


async def test_a_paused_channel_holds_each_of_its_chats_and_no_other_channel() -> None:
    clock = VirtualClock(0.0)
    limiter = RateLimiter(Limits(), clock, clock.sleep)
    limiter.pause("whatsapp", 2.0)  # 130429: the number's throughput
    assert limiter.chat_wait("whatsapp:1", False, 1 / 6, "whatsapp") == pytest.approx(2.0)
    assert limiter.chat_wait("telegram:1", False, None, "telegram") == 0.0
    await limiter.acquire("whatsapp:2", group=False, rate=1 / 6, channel="whatsapp")
    assert clock.now == pytest.approx(2.0)
    limiter.pause("whatsapp:2", 6.0)  # 131056: this learner only, and their burst is spent
    assert limiter.chat_wait("whatsapp:2", False, 1 / 6, "whatsapp") >= 6.0
    assert limiter.chat_wait("whatsapp:3", False, 1 / 6, "whatsapp") == 0.0


async def test_whatsapp_s_number_has_its_own_80_a_second_beside_telegram_s_30() -> None:
    clock = VirtualClock(0.0)
    limiter = RateLimiter(Limits(), clock, clock.sleep)
    for n in range(30):
        await limiter.acquire(f"telegram:{n}", group=False)
    times = []
    for n in range(161):  # paced evenly, so that no second ever holds more than 80
        await limiter.acquire(f"whatsapp:{n}", False, rate=1 / 6, channel="whatsapp", total=80)
        times.append(clock.now)
    assert times[0] == 0.0  # Telegram's 30 this second do not hold WhatsApp up
    assert times[80] == pytest.approx(80 * (1 + Limits().margin) / 79, abs=0.01)
    busiest = max(sum(1 for t in times if start <= t < start + 1) for start in times)
    assert 78 <= busiest <= 80  # close to the number's limit, never over it
