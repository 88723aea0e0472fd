"""A learner asks for a person; one volunteer takes it, they talk through the coach, it closes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update
from typer.testing import CliRunner

from bot.app import Coach, build
from bot.cli import app as cli
from bot.services.volunteers import INVITE_PREFIX, Volunteers
from bot.store.tables import Handoff, Learner, OutboxRow
from tests.conftest import settings_for
from tests.web_learner import WebLearner


@dataclass
class Desk:
    coach: Coach
    client: TestClient[Any, Any]

    @property
    def desk(self) -> Any:
        assert self.coach.desk is not None
        return self.coach.desk

    async def volunteer(self, name: str, telegram_id: str, languages: list[str]) -> None:
        volunteers = Volunteers(self.coach.store, lambda: datetime.now(UTC))
        invite = await volunteers.invite(name, languages, [], "coach_test_bot")
        assert await volunteers.redeem(invite.link.split(f"start={INVITE_PREFIX}")[1], telegram_id)

    async def volunteer_id(self, name: str) -> int:
        volunteers = Volunteers(self.coach.store, lambda: datetime.now(UTC))
        return next(v.id for v in await volunteers.listed() if v.name == name)

    async def inbox(self, telegram_id: str) -> list[OutboxRow]:
        """What a volunteer was sent, marking it delivered as Telegram would."""
        async with self.coach.store.unit_of_work() as uow:
            rows = list(
                await uow.session.scalars(
                    select(OutboxRow).where(OutboxRow.chat_id == telegram_id).order_by(OutboxRow.id)
                )
            )
            for row in rows:
                row.platform_message_id = row.platform_message_id or str(1000 + row.id)
                row.status = "sent"
        return rows

    async def request(self) -> Handoff:
        async with self.coach.store.unit_of_work() as uow:
            found = await uow.session.scalar(select(Handoff).order_by(Handoff.id.desc()))
            assert found is not None
            return found


@pytest.fixture
async def desk(engine: object, database_url: str) -> AsyncIterator[Desk]:
    coach = build(settings_for(database_url, coordinators=["9999"]))
    async with TestClient(TestServer(coach.web)) as client:
        yield Desk(coach, client)
    await coach.store.close()


async def asks_for_help(learner: WebLearner, share_name: bool = False) -> list[str]:
    await learner.says("/start")
    await learner.taps("English")
    said = await learner.says("/help")
    assert said == ["A volunteer can help you. What is it about?"]
    await learner.taps("E-mail")
    return await learner.taps("Yes, show my first name" if share_name else "No, stay anonymous")


async def test_a_learner_asks_and_matching_volunteers_get_an_alert_without_the_learners_identity(
    desk: Desk,
) -> None:
    await desk.volunteer("Nadia", "7001", ["en"])
    await desk.volunteer("Farid", "7002", ["ar"])
    learner = WebLearner(desk.client, conversation="learner-secret-42")
    said = await asks_for_help(learner)
    assert said[0].startswith("Thank you. I am asking the volunteers now.")
    alerts = await desk.inbox("7001")
    assert len(alerts) == 1 and await desk.inbox("7002") == []
    text = alerts[0].text
    assert (
        text.startswith("🙋 Request #") and "Topic: E-mail" in text and "Language: English" in text
    )
    assert "Where: by chat" in text and "First name: not shared" in text
    assert "learner-secret-42" not in text
    assert [b["label"] for b in alerts[0].buttons] == ["1. ✋ I take it"]


async def test_three_volunteers_press_claim_at_once_and_one_wins(desk: Desk) -> None:
    for number in range(3):
        await desk.volunteer(f"V{number}", f"80{number}", [])
    await asks_for_help(WebLearner(desk.client, conversation="learner-claims"), share_name=True)
    request = await desk.request()
    for number in range(3):
        await desk.inbox(f"80{number}")
    results = await asyncio.gather(*(desk.desk.claim(f"80{n}", request.id) for n in range(3)))
    assert sum(result.ok for result in results) == 1
    losers = [r for r in results if not r.ok]
    assert all(r.say.msgid.startswith("Someone else has already taken") for r in losers)
    winner = next(f"80{n}" for n, result in enumerate(results) if result.ok)
    for number in range(3):
        rows = await desk.inbox(f"80{number}")
        edits = [row for row in rows if row.edit_message_id]
        assert len(edits) == 1 and "taken by" in edits[0].text
    assert "You are helping with request" in (await desk.inbox(winner))[-1].text
    learner = WebLearner(desk.client, conversation="learner-claims")
    shown = await learner.fetch()
    assert shown[-1]["text"].endswith("will help you. Where: by chat, through the coach.")
    assert (await desk.request()).status == "claimed"


async def test_they_write_to_each_other_and_the_volunteer_closes_and_the_learner_rates(
    desk: Desk,
) -> None:
    await desk.volunteer("Nadia", "7001", [])
    learner = WebLearner(desk.client, conversation="learner-relay")
    await asks_for_help(learner, share_name=True)
    request = await desk.request()
    await desk.inbox("7001")
    assert (await desk.desk.claim("7001", request.id)).ok
    assert await learner.says("I cannot open my e-mail") == []
    relayed = (await desk.inbox("7001"))[-1]
    assert relayed.text.endswith(f"(#{request.id}): I cannot open my e-mail")
    assert relayed.tag == f"relay:{request.id}"
    assert (await desk.desk.reply("7001", request.id, "Try this: tap Forgot password")).ok
    assert (await learner.fetch())[-1]["text"] == "💬 Nadia: Try this: tap Forgot password"
    assert (await desk.desk.close("7001", request.id, "chat")).ok
    rating = (await learner.fetch())[-1]
    assert rating["text"].startswith("How was the help you got?")
    await learner.taps("⭐⭐⭐⭐")
    assert await learner.says("Thank you Nadia") == ["Thank you for your answer."]
    closed = await desk.request()
    assert (closed.status, closed.outcome, closed.rating, closed.comment) == (
        "closed",
        "chat",
        4,
        "Thank you Nadia",
    )
    assert (await desk.desk.note("7001", request.id, "Password reset done")).ok


async def test_asking_twice_updates_the_one_request_and_cancel_ends_it(desk: Desk) -> None:
    await desk.volunteer("Nadia", "7001", [])
    learner = WebLearner(desk.client, conversation="learner-twice")
    await asks_for_help(learner)
    said = await learner.says("/help")
    assert said[0].startswith("You already asked for a person.")
    await learner.taps("Change my request")
    await learner.taps("Documents and papers")
    said = await learner.taps("No, stay anonymous")
    assert said[0].startswith("Your request is updated.")
    async with desk.coach.store.unit_of_work() as uow:
        requests = list(await uow.session.scalars(select(Handoff)))
    assert len(requests) == 1 and requests[0].topic == "documents"
    assert "(updated)" in (await desk.inbox("7001"))[-1].text
    said = (
        await learner.taps("Cancel my request")
        if learner.buttons()
        else await learner.says("/cancel")
    )
    assert said[0].startswith("Your request is cancelled.")
    assert (await desk.request()).status == "cancelled"


async def test_a_help_word_in_the_learners_language_starts_the_request(desk: Desk) -> None:
    learner = WebLearner(desk.client, conversation="learner-words", language="fr")
    await learner.says("/start")
    await learner.taps("Français")
    said = await learner.says("Aide")
    assert len(said) == 1 and learner.buttons()[-1] != "Something else"
    assert (await desk.request()).status == "intake"


async def test_nobody_takes_it_so_everyone_is_alerted_and_the_learner_is_told_at_day_end(
    desk: Desk,
) -> None:
    await desk.volunteer("Nadia", "7001", ["ar"])
    learner = WebLearner(desk.client, conversation="learner-waits")
    await asks_for_help(learner)
    assert await desk.inbox("7001") == []
    request = await desk.request()
    assert request.escalate_at is not None and request.day_ends_at is not None
    await desk.desk.sweep(request.escalate_at + timedelta(seconds=1))
    escalated = (await desk.inbox("7001"))[-1]
    assert escalated.text.startswith("\u200f⏰") and escalated.language == "ar"  # in her language
    assert (await desk.inbox("9999"))[-1].text.startswith("⏰ Request #")
    await desk.desk.sweep(request.day_ends_at + timedelta(seconds=1))
    assert (await learner.fetch())[-1]["text"].startswith(
        "I am sorry: no volunteer could answer today."
    )
    await desk.desk.sweep(request.day_ends_at + timedelta(hours=1))
    assert len(await desk.inbox("7001")) == 1


async def test_only_the_volunteer_who_took_it_may_write_or_close_and_forgeries_are_refused(
    desk: Desk,
) -> None:
    await desk.volunteer("Nadia", "7001", [])
    await desk.volunteer("Omar", "7002", [])
    learner = WebLearner(desk.client, conversation="learner-guarded")
    await asks_for_help(learner)
    request = await desk.request()
    assert not (await desk.desk.claim("123456", request.id)).ok  # not a volunteer
    assert (await desk.desk.claim("7001", request.id)).ok
    assert not (await desk.desk.claim("7001", request.id)).ok  # a replayed claim
    assert not (await desk.desk.reply("7002", request.id, "hi")).ok
    assert not (await desk.desk.close("7002", request.id, "met")).ok
    assert not (await desk.desk.close("7001", request.id + 99, "met")).ok
    assert not (await desk.desk.close("7001", request.id, "made-up")).ok
    said = await learner.post(json={"button": f"vol:claim/{request.id}"})
    assert said[0]["text"] == "This button does not work any more."


async def test_reminders_pause_while_a_request_is_open(desk: Desk) -> None:
    learner = WebLearner(desk.client, conversation="learner-paused")
    await learner.says("/start")
    await learner.taps("English")
    await learner.taps("Basics")
    await learner.taps("First steps (2 min)")
    async with desk.coach.store.unit_of_work() as uow:
        row = await uow.session.scalar(select(Learner).where(Learner.chat_id == learner.chat_id))
        assert row is not None and row.next_nudge_at is not None
    await learner.says("/help")
    await learner.taps("E-mail")
    await learner.taps("No, stay anonymous")
    async with desk.coach.store.unit_of_work() as uow:
        row = await uow.session.scalar(select(Learner).where(Learner.chat_id == learner.chat_id))
        assert row is not None and row.handoff_open and row.next_nudge_at is None


async def test_a_removed_volunteers_request_goes_back_to_the_queue(desk: Desk) -> None:
    await desk.volunteer("Nadia", "7001", [])
    await desk.volunteer("Omar", "7002", [])
    await asks_for_help(WebLearner(desk.client, conversation="learner-requeue"))
    request = await desk.request()
    assert (await desk.desk.claim("7001", request.id)).ok
    volunteers = Volunteers(desk.coach.store, lambda: datetime.now(UTC))
    nadia = next(v for v in await volunteers.listed() if v.name == "Nadia")
    assert await volunteers.remove(nadia.id)
    assert await desk.desk.volunteer_removed(nadia.id) == 1
    assert (await desk.request()).status == "open"
    assert (await desk.inbox("7002"))[-1].text.startswith("⏰ Request #")


async def test_a_learner_who_blocks_the_coach_is_no_longer_awaited(desk: Desk) -> None:
    await desk.volunteer("Nadia", "7001", [])
    learner = WebLearner(desk.client, conversation="learner-gone")
    await asks_for_help(learner)
    request = await desk.request()
    assert (await desk.desk.claim("7001", request.id)).ok
    await desk.desk.learner_unreachable("web", learner.chat_id)
    assert "can no longer be reached" in (await desk.inbox("7001"))[-1].text
    assert (await desk.request()).status == "cancelled"


async def test_coordinators_see_requests_and_the_median_time_to_claim(
    desk: Desk, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await desk.volunteer("Nadia", "7001", [])
    await asks_for_help(WebLearner(desk.client, conversation="learner-listed"))
    request = await desk.request()
    async with desk.coach.store.unit_of_work() as uow:
        await uow.session.execute(
            update(Handoff).where(Handoff.id == request.id).values(opened_at=request.created_at)
        )
    assert (await desk.desk.claim("7001", request.id)).ok
    monkeypatch.setenv("COACH_DATABASE_URL", database_url)
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["handoffs", "--open"])
    assert result.exit_code == 0, result.output
    assert "claimed" in result.output and "email" in result.output
    assert "Median time to claim: 0 min" in result.output


async def test_a_drop_in_place_offers_its_next_opening_times(
    engine: object, database_url: str
) -> None:
    place = {
        "id": "library",
        "name": "Médiathèque Centre",
        "hours": ["tue 14:00-17:00", "sat 10:00-12:00"],
    }
    coach = build(settings_for(database_url, handoff_places=[place]))
    async with TestClient(TestServer(coach.web)) as client:
        desk = Desk(coach, client)
        await desk.volunteer("Nadia", "7001", [])
        learner = WebLearner(client, conversation="learner-dropin")
        await learner.says("/start")
        await learner.taps("English")
        await learner.says("/help")
        await learner.taps("E-mail")
        assert learner.buttons()[:2] == ["Médiathèque Centre", "By chat, here"]
        said = await learner.taps("Médiathèque Centre")
        assert said == ["When can you come?"]
        slots = learner.buttons()
        assert len(slots) == 5 and slots[3:] == ["Any of these times", "Cancel my request"]
        assert all(day.split(",")[0] in ("Tue", "Sat") for day in slots[:3])
        await learner.taps(slots[0])
        await learner.taps("No, stay anonymous")
        alert = (await desk.inbox("7001"))[-1]
        assert f"Where: Médiathèque Centre, {slots[0]}." in alert.text
    await coach.store.close()
