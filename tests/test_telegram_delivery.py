"""Delivery to Telegram: flood control, blocked people, server errors, long texts, restarts."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest

from bot.channels.telegram.inbound import CHANNEL
from bot.core.channel import Destination
from bot.core.effects import Choice, Reply
from bot.core.text import N_, Verbatim
from bot.course.chat_text import split_message
from bot.delivery.limits import Limits, RateLimiter
from bot.services.coach import utc_now
from bot.services.rendering import Renderer
from bot.store.delivery_queue import DeliveryQueue
from tests.fakes import FakeTelegram, FloodLimits, fake_telegram
from tests.telegram_learner import (
    TelegramLearner,
    VirtualClock,
    coach_on_telegram,
    drained,
    eventually,
    learner_row,
    outbox,
    settled,
)

pytestmark = pytest.mark.usefixtures("telegram_runtime")

GREETING = "Hello! I am Coach. I help you learn to use your phone, step by step."


def sent_to(tg: FakeTelegram, chat_id: int) -> list[tuple[str, str | None]]:
    """What arrived in a chat, as (message id, text)."""
    return [(str(m.message_id), m.text) for m in tg.sent(chat_id)]


async def test_a_flood_arrives_once_and_in_order_despite_telegrams_flood_control(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        people = [tg.user(1001 + n, f"Learner {n}") for n in range(4)]
        # Tight enough that a busy machine still floods it: four replies to one person within
        # a second or two always go over one a second after a burst of two.
        tg.limits = FloodLimits(private_per_second=1, private_burst=2, global_per_second=10)
        burst = [
            tg.send_command(person, command)
            for person in people
            for command in ("/start", "/progress", "/menu")
        ]
        for update in burst:
            await settled(coach, update, within=20)

        assert tg.count_429 > 0
        for person in people:
            rows = await outbox(coach, person.id)
            assert len(rows) == 4 and {row.status for row in rows} == {"sent"}
            assert sent_to(tg, person.id) == [(r.platform_message_id, r.text) for r in rows]


async def test_people_who_blocked_or_removed_the_coach_are_stopped_and_the_others_go_on(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina"))
        bilal = TelegramLearner(coach, tg, tg.user(1002, "Bilal"))
        for learner in (amina, bilal):
            await learner.says("/start")
            await learner.taps("English")
        received = len(tg.sent(bilal.chat_id))

        update = tg.send_command(bilal.user, "/start")  # then blocks the bot at once
        tg.block(bilal.user)
        await settled(coach, update)

        assert len(tg.sent(bilal.chat_id)) == received
        attempts = [c for c in tg.calls("sendMessage") if c.params["chat_id"] == bilal.user.id]
        assert [c.status for c in attempts if not c.ok] == [403]
        assert (await learner_row(coach, bilal.user)).status == "stopped"
        assert [r.status for r in await outbox(coach, bilal.chat_id)][-2:] == ["dropped"] * 2

        said = await amina.says("/progress")
        assert said[0].startswith("Lessons done: 0 of 2")
        assert (await learner_row(coach, amina.user)).status == "active"

        tg.unblock(bilal.user)
        said = await bilal.says("/start")
        assert said[0] == "Welcome back!"
        assert (await learner_row(coach, bilal.user)).status == "active"

        group = tg.group(-4001, "Wednesday class")
        chidi = TelegramLearner(coach, tg, tg.user(1003, "Chidi"), group)
        dina = TelegramLearner(coach, tg, tg.user(1004, "Dina"), group)
        await chidi.says("/start")
        tg.kick(group)  # the coach is removed from the group
        assert await dina.says("/start") == []
        for person in (chidi, dina):
            assert (await learner_row(coach, person.user, group)).status == "stopped"
        assert [r.status for r in await outbox(coach, group.id)][-2:] == ["dropped"] * 2


async def test_a_group_at_its_limit_waits_in_the_outbox_and_holds_up_no_one_else(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url, group_per_minute=2) as (coach, tg):
        group = tg.group(-4001, "Wednesday class")
        for person in (tg.user(1001, "Amina"), tg.user(1002, "Bilal")):
            await settled(coach, tg.send_command(person, "/start", chat=group), sent=False)

        async def a_minute_later() -> bool:
            """Two messages went to the group; the next one is due a minute later."""
            rows = await outbox(coach, group.id)
            if [row.status for row in rows] != ["sent", "sent", "pending", "pending"]:
                return False
            first, due = rows[0].sent_at, rows[2].not_before
            return first is not None and due - first > timedelta(seconds=59)

        await eventually(a_minute_later)
        chidi = tg.user(1003, "Chidi")
        tg.send_command(chidi, "/start")
        sent = await tg.wait_for_sent(chidi, 2, within=2)
        assert [m.text for m in sent] == [GREETING, "Choose your language."]
        assert len(tg.sent(group)) == 2


async def test_server_errors_and_time_outs_are_retried_and_the_message_arrives_once(
    database_url: str, engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.delivery.sender.backoff", lambda attempts: 0.05 * attempts)
    async with coach_on_telegram(database_url) as (coach, tg):
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina"))
        tg.fail_next("sendMessage", 502)
        tg.fail_next("sendMessage", "timeout", hang=0.2)
        tg.fail_next("sendMessage", 404, description="Not Found")

        assert await amina.says("/start") == [GREETING, "Choose your language."]

        assert [c.status for c in tg.calls("sendMessage")] == [502, 504, 404, 200, 200]
        first, second = await outbox(coach, amina.chat_id)
        assert (first.status, first.attempts, second.attempts) == ("sent", 3, 0)
        assert (await learner_row(coach, amina.user)).status == "active"


async def test_a_message_refused_for_good_is_given_up_and_a_chat_not_found_is_stopped(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina"))
        tg.fail_next("sendMessage", 400, description="Bad Request: can't parse entities")
        assert await amina.says("/start") == ["Choose your language."]
        assert [row.status for row in await outbox(coach, amina.chat_id)] == ["failed", "sent"]
        assert (await learner_row(coach, amina.user)).status == "active"

        bilal = TelegramLearner(coach, tg, tg.user(1002, "Bilal"))
        tg.fail_next("sendMessage", 400, description="Bad Request: chat not found")
        assert await bilal.says("/start") == []
        assert (await learner_row(coach, bilal.user)).status == "stopped"


async def test_a_text_over_4096_characters_arrives_in_pieces_cut_at_paragraphs(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina"))
        await amina.says("/start")
        await amina.taps("English")
        learner = await learner_row(coach, amina.user)
        paragraphs = [f"Part {n}. " + " ".join(["word"] * 300) for n in range(1, 6)]
        long_text = "\n\n".join(paragraphs)
        assert len(long_text) > 7000

        now = utc_now()
        to = Destination(CHANNEL.name, str(amina.chat_id), "test:long-text", learner.id)
        reply = Reply((Verbatim(long_text),), (Choice(N_("Back to the menu"), "menu"),))
        rows = Renderer(coach.catalogs, CHANNEL).rows([reply], to, "en", now)
        async with coach.store.unit_of_work() as uow:
            for row in rows:
                await uow.outbox.add(row)
        assert coach.sender is not None
        coach.sender.wake()
        await drained(coach)

        pieces = tg.sent(amina.chat_id)[-3:]
        assert [p.text for p in pieces] == [
            "\n\n".join(paragraphs[:2]),
            "\n\n".join(paragraphs[2:4]),
            paragraphs[4],
        ]
        assert [p.labels for p in pieces] == [[], [], ["1. Back to the menu"]]


def test_a_long_paragraph_is_cut_between_sentences() -> None:
    sentences = [f"Sentence {n} says a few words about phones." for n in range(200)]
    pieces = split_message(" ".join(sentences), 4096)
    assert len(pieces) == 3 and all(len(p) <= 4096 for p in pieces)
    assert all(p.endswith("phones.") for p in pieces)
    assert " ".join(pieces) == " ".join(sentences)


async def test_messages_waiting_when_the_coach_stops_are_sent_once_by_the_next_coach(
    database_url: str, engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.delivery.sender.backoff", lambda attempts: 0.5)
    async with fake_telegram(limits=FloodLimits.off()) as tg:
        amina = tg.user(1001, "Amina")
        tg.fail_next("sendMessage", 502)
        async with coach_on_telegram(database_url, tg) as (coach, _):
            update = tg.send_command(amina, "/start")
            await tg.wait_until(lambda: tg.calls("sendMessage"))
            await settled(coach, update, sent=False)
        assert tg.sent(amina) == [] and [c.status for c in tg.calls("sendMessage")] == [502]

        tg.state.updates.append(update)  # Telegram sends it again: it was never confirmed
        async with coach_on_telegram(database_url, tg) as (coach, _):
            await settled(coach, update)
            assert [m.text for m in tg.sent(amina)] == [GREETING, "Choose your language."]
            # Confirmed by the next getUpdates, which may come a moment after the replies.
            await tg.wait_until(lambda: tg.pending_updates == [])
            assert len(await outbox(coach, amina.id)) == 2


async def test_messages_a_dead_sender_had_claimed_are_sent_once_its_claim_runs_out(
    database_url: str, engine: object
) -> None:
    async with fake_telegram(limits=FloodLimits.off()) as tg:
        amina = tg.user(1001, "Amina")
        async with coach_on_telegram(database_url, tg) as (coach, _):
            assert coach.sender is not None
            coach.sender.stop()  # the sender claims the replies, then its process dies
            update = tg.send_command(amina, "/start")
            await settled(coach, update, sent=False)
            lease = timedelta(seconds=0.5)
            assert (
                len(await DeliveryQueue(coach.store).claim(["telegram"], utc_now(), 10, lease)) == 2
            )
        assert tg.sent(amina) == []

        async with coach_on_telegram(database_url, tg, outbox_sweep_seconds=0.1) as (coach, _):
            await drained(coach)
            assert [m.text for m in tg.sent(amina)] == [GREETING, "Choose your language."]


# The coach's own rate limiter, on virtual time.


MARGIN = Limits().margin


def limiter(clock: VirtualClock) -> RateLimiter:
    """Telegram's limits, as the coach keeps them by default."""
    return RateLimiter(Limits(), clock, clock.sleep)


async def test_a_private_chat_gets_a_short_burst_then_about_one_message_a_second() -> None:
    clock = VirtualClock(0.0)
    limits = limiter(clock)
    times = []
    for _ in range(6):
        await limits.acquire("telegram:1001", group=False)
        times.append(clock.now)
    assert times[:3] == [0.0, 0.0, 0.0]
    step = 1.0 + MARGIN  # a second, widened by the margin kept for the platform's clock
    assert times[3:] == pytest.approx([step, 2 * step, 3 * step], abs=0.01)


async def test_a_group_gets_twenty_messages_a_minute() -> None:
    clock = VirtualClock(0.0)
    limits = limiter(clock)
    for _ in range(20):
        await limits.acquire("telegram:-4001", group=True)
    assert clock.now == 0.0
    assert limits.chat_wait("telegram:-4001", group=True) == pytest.approx(60 + MARGIN)
    await limits.acquire("telegram:-4002", group=True)
    await limits.acquire("telegram:1001", group=False)
    assert clock.now == 0.0
    await limits.acquire("telegram:-4001", group=True)
    assert clock.now == pytest.approx(60 + MARGIN, abs=0.01)


async def test_the_whole_bot_sends_at_most_thirty_messages_a_second() -> None:
    clock = VirtualClock(0.0)
    limits = limiter(clock)
    for chat in range(30):
        await limits.acquire(f"telegram:{2000 + chat}", group=False)
    assert clock.now == 0.0
    assert limits.chat_wait("telegram:3000", group=False) == 0.0  # its own limits allow it
    await limits.acquire("telegram:3000", group=False)
    assert clock.now == pytest.approx(1 + MARGIN, abs=0.01)


async def test_a_chat_paused_by_flood_control_waits_and_the_others_do_not() -> None:
    clock = VirtualClock(0.0)
    limits = limiter(clock)
    limits.pause("telegram:1001", 5)
    await limits.acquire("telegram:1002", group=False)
    assert clock.now == 0.0
    await limits.acquire("telegram:1001", group=False)
    assert clock.now == pytest.approx(5.0)


async def test_a_message_counts_from_when_the_platform_answered() -> None:
    """On a busy machine a message leaves late: two let go a second apart may arrive closer
    than that. Each counts from when the platform answered, the latest it can have arrived."""
    clock = VirtualClock(0.0)
    limits = limiter(clock)
    for chat in range(30):
        async with limits.sending(f"telegram:{2000 + chat}", group=False) as allowed:
            assert allowed
            if chat == 0:
                clock.now = 0.4  # the first one's answer came late
    assert clock.now == 0.4
    await limits.acquire("telegram:3000", group=False)
    # Counted from 0.4 (not 0.0): the 31st goes a second after the first one's answer.
    assert clock.now == pytest.approx(1.4 + MARGIN, abs=0.01)


async def test_a_message_on_its_way_counts_as_arriving_now() -> None:
    """While thirty messages are on their way, a thirty-first waits for one of them to be
    answered, however long ago they left."""
    clock = VirtualClock(0.0)
    limits = limiter(clock)
    async with contextlib.AsyncExitStack() as on_the_way:
        for chat in range(30):
            assert await on_the_way.enter_async_context(
                limits.sending(f"telegram:{2000 + chat}", group=False)
            )
        clock.now = 5.0
        late = asyncio.create_task(limits.acquire("telegram:3000", group=False))
        for _ in range(20):
            await asyncio.sleep(0)
        assert not late.done()  # it looked again every few (virtual) milliseconds
        answered = clock.now
    assert await late  # all answered: one more may go a second after
    assert clock.now == pytest.approx(answered + 1 + MARGIN, abs=0.01)


async def test_a_private_chat_counts_its_message_from_the_answer() -> None:
    clock = VirtualClock(0.0)
    limits = limiter(clock)
    for _ in range(3):  # the burst
        await limits.acquire("telegram:1001", group=False)
    async with limits.sending("telegram:1001", group=False):
        start = clock.now  # one second later, at its steady rate
        clock.now += 0.5  # then half a second on its way
    await limits.acquire("telegram:1001", group=False)
    assert clock.now == pytest.approx(start + 0.5 + 1 + MARGIN, abs=0.02)
