"""What the desk tells volunteers and coordinators: why a claim lost, no button for those
who may not press it, and one language for everything a volunteer is told."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.store.tables import OutboxRow, Volunteer
from tests.test_handoff import Desk, asks_for_help, desk
from tests.web_learner import WebLearner

__all__ = ["desk"]  # the fixture, shared with the hand-off tests


async def refusal(desk: Desk, telegram_id: str, request: int) -> str:
    claimed = await desk.desk.claim(telegram_id, request)
    assert not claimed.ok and claimed.say is not None
    return str(claimed.say.msgid)


async def test_a_claim_that_loses_says_why(desk: Desk) -> None:
    await desk.volunteer("Nadia", "7001", [])
    await desk.volunteer("Omar", "7002", [])
    learner = WebLearner(desk.client, conversation="learner-why")
    await asks_for_help(learner)
    request = (await desk.request()).id
    assert await refusal(desk, "7001", request + 1) == "This request does not exist."
    assert (await desk.desk.claim("7001", request)).ok
    assert await refusal(desk, "7001", request) == "You have already taken this request."
    assert await refusal(desk, "7002", request) == "Someone else has already taken this request."
    assert (await desk.desk.close("7001", request, "chat")).ok
    assert await refusal(desk, "7002", request) == "This request is already closed."
    other = WebLearner(desk.client, conversation="learner-cancels")
    await asks_for_help(other)
    cancelled = (await desk.request()).id
    await other.says("/cancel")
    assert await refusal(desk, "7002", cancelled) == "The learner cancelled this request."


async def test_coordinators_who_do_not_volunteer_get_the_alert_without_a_claim_button(
    desk: Desk,
) -> None:
    await desk.volunteer("Nadia", "7001", [])
    await asks_for_help(WebLearner(desk.client, conversation="learner-late"))
    request = await desk.request()
    assert request.escalate_at is not None
    await desk.desk.sweep(request.escalate_at + timedelta(seconds=1))
    volunteer_alert = (await desk.inbox("7001"))[-1]
    coordinator_alert = (await desk.inbox("9999"))[-1]
    assert coordinator_alert.text.startswith("⏰ Request #")
    assert [b["label"] for b in volunteer_alert.buttons] == ["1. ✋ I take it"]
    assert coordinator_alert.buttons == []


async def test_a_volunteer_is_told_everything_in_the_language_they_use_the_coach_in(
    desk: Desk,
) -> None:
    await desk.volunteer("Amal", "7003", ["en", "ar"])  # speaks English and Arabic
    async with desk.coach.store.unit_of_work() as uow:
        amal = await uow.session.scalar(select(Volunteer).where(Volunteer.name == "Amal"))
        assert amal is not None
        amal.language = "fr"  # her Telegram is in French
    await asks_for_help(WebLearner(desk.client, conversation="learner-en"))
    request = await desk.request()
    assert (await desk.desk.claim("7003", request.id)).ok
    async with desk.coach.store.unit_of_work() as uow:
        told = list(await uow.session.scalars(select(OutboxRow).where(OutboxRow.chat_id == "7003")))
    assert {row.language for row in told} == {"fr"}
    assert told[0].text.startswith("🙋 Demande #1")  # the alert
    assert len(told) == 2 and not told[1].text.startswith("You are helping")  # claimed
