"""The desk's messages never collide: a request taken again, a second evening, a second
process. Every message's key comes from a database id, and every desk action is logged."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.services.handoffs import HandoffDesk
from bot.store.tables import EventRow
from tests.test_handoff import Desk, asks_for_help, desk  # noqa: F401  (the fixture)
from tests.web_learner import WebLearner


async def test_a_request_back_in_the_queue_is_taken_by_another_volunteer(desk: Desk) -> None:  # noqa: F811
    await desk.volunteer("Nadia", "7001", [])
    await desk.volunteer("Omar", "7002", [])
    learner = WebLearner(desk.client, conversation="learner-retaken")
    await asks_for_help(learner)
    request = await desk.request()
    assert (await desk.desk.claim("7001", request.id)).ok
    nadia = await desk.volunteer_id("Nadia")
    assert await desk.desk.volunteer_removed(nadia) == 1
    requeued = await desk.request()
    assert requeued.escalate_at is not None and requeued.day_ends_at is not None
    assert (await desk.desk.claim("7002", request.id)).ok
    said = [m["text"] for m in await learner.fetch()]
    assert said[-2].startswith("The volunteer who was going to help you is no longer available.")
    assert said[-1].startswith("Omar will help you.")
    assert (await desk.request()).status == "claimed"


async def test_a_second_evening_still_tells_the_learner_and_blocks_no_other_request(
    desk: Desk,  # noqa: F811
) -> None:
    await desk.volunteer("Nadia", "7001", ["ar"])
    first = WebLearner(desk.client, conversation="learner-two-evenings")
    await asks_for_help(first)
    request = await desk.request()
    assert request.day_ends_at is not None
    await desk.desk.sweep(request.day_ends_at + timedelta(seconds=1))
    await first.says("/help")  # asking again the next day updates the same request
    await first.taps("Change my request")
    await first.taps("E-mail")
    await first.taps("No, stay anonymous")
    again = await desk.request()
    assert again.id == request.id and again.day_ends_at is not None
    await asks_for_help(WebLearner(desk.client, conversation="learner-other"))
    other = await desk.request()
    assert other.escalate_at is not None
    evening = max(again.day_ends_at, other.escalate_at) + timedelta(seconds=1)
    assert await desk.desk.sweep(evening) >= 2
    sorry = [m["text"] for m in await first.fetch() if m["text"].startswith("I am sorry")]
    assert len(sorry) == 2
    assert (await desk.inbox("7001"))[-1].text.startswith("\u200f⏰")  # the other one escalated


async def test_a_volunteers_replies_from_two_processes_all_reach_the_learner(desk: Desk) -> None:  # noqa: F811
    await desk.volunteer("Nadia", "7001", [])
    learner = WebLearner(desk.client, conversation="learner-two-processes")
    await asks_for_help(learner)
    request = await desk.request()
    assert (await desk.desk.claim("7001", request.id)).ok
    other = HandoffDesk(**{**vars(desk.desk), "on_outbox": None})  # a second coach process
    assert (await desk.desk.reply("7001", request.id, "Hello, I am Nadia.")).ok
    assert (await other.reply("7001", request.id, "Bring your passport.")).ok
    assert (await desk.desk.reply("7001", request.id, "See you at 3.")).ok
    said = [m["text"] for m in await learner.fetch() if m["text"].startswith("💬")]
    assert said == [
        "💬 Nadia: Hello, I am Nadia.",
        "💬 Nadia: Bring your passport.",
        "💬 Nadia: See you at 3.",
    ]


async def test_every_volunteer_action_is_logged_with_ids_only(desk: Desk) -> None:  # noqa: F811
    await desk.volunteer("Nadia", "7001", [])
    await asks_for_help(WebLearner(desk.client, conversation="learner-logged"))
    request = await desk.request()
    await desk.desk.sweep(request.escalate_at + timedelta(seconds=1))  # type: ignore[operator]
    assert (await desk.desk.claim("7001", request.id)).ok
    assert (await desk.desk.reply("7001", request.id, "My phone is 06 12 34 56 78")).ok
    assert (await desk.desk.close("7001", request.id, "chat")).ok
    async with desk.coach.store.unit_of_work() as uow:
        rows = list(await uow.session.scalars(select(EventRow).order_by(EventRow.id)))
    logged = [(row.name, row.data) for row in rows if row.name.startswith("handoff_")]
    nadia = await desk.volunteer_id("Nadia")
    desk_actions = [
        name
        for name, _ in logged
        if name.split("_", 1)[1] in ("escalated", "claimed", "replied", "closed")
    ]
    assert desk_actions == [
        "handoff_escalated",
        "handoff_claimed",
        "handoff_replied",
        "handoff_closed",
    ]
    assert ("handoff_claimed", {"handoff": request.id, "volunteer": nadia}) in logged
    assert "06 12" not in repr(logged)
