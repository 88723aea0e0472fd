"""The whole hand-off in Telegram, on each Telegram library, through the fake Bot API server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.services.volunteers import INVITE_PREFIX, Volunteers
from bot.store.tables import Handoff, Learner
from tests.fakes import FakeTelegram, FakeUser
from tests.telegram_learner import TelegramLearner, coach_on_telegram, drained, reading
from tests.telegram_volunteer import TelegramVolunteer

pytestmark = pytest.mark.usefixtures("telegram_runtime")

TAKE = "1. ✋ I take it"


async def register(coach: object, tg: FakeTelegram, person: FakeUser, languages: list[str]) -> None:
    """An admin invites the person; they open the link in Telegram."""
    volunteers = Volunteers(coach.store, lambda: datetime.now(UTC))  # type: ignore[attr-defined]
    invite = await volunteers.invite(person.first_name, languages, [], "coach_test_bot")
    token = invite.link.split(f"start={INVITE_PREFIX}")[1]
    tg.send_command(person, f"/start {INVITE_PREFIX}{token}")
    await tg.wait_until(
        lambda: any("You are now a volunteer" in (m.text or "") for m in tg.sent(person.id))
    )


async def test_a_learner_asks_volunteers_race_to_claim_they_talk_and_it_closes(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url, coordinators=["5000"]) as (coach, tg):
        nadia, omar, lea = tg.user(4001, "Nadia"), tg.user(4002, "Omar"), tg.user(4003, "Lea")
        coordinator = tg.user(5000, "Coordinator")
        for person in (nadia, omar, lea):
            await register(coach, tg, person, ["en"])
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina", "en"))
        await amina.says("/start")
        await amina.taps("English")
        await amina.says("/help")
        await amina.taps("E-mail")
        said = await amina.taps("Yes, show my first name")
        assert said[0].startswith("Thank you. I am asking the volunteers now.")
        await drained(coach)
        alerts = {person.id: tg.sent(person.id)[-1] for person in (nadia, omar, lea)}
        for alert in alerts.values():
            assert alert.labels == [TAKE] and "First name: Amina" in (alert.text or "")
            assert "1001" not in (alert.text or "")
        assert tg.sent(coordinator.id) == []

        answered = len(tg.answered_callbacks)
        tg.press(nadia, alerts[nadia.id], TAKE)
        tg.press(omar, alerts[omar.id], TAKE)
        await tg.wait_until(lambda: len(tg.answered_callbacks) >= answered + 2)
        await drained(coach)
        answers = {a.user_id: a for a in tg.answered_callbacks[-2:]}
        refused = [a for a in answers.values() if a.show_alert]
        assert (
            len(refused) == 1 and refused[0].text == "Someone else has already taken this request."
        )
        winner = nadia if answers[nadia.id].text is None else omar
        for person in (nadia, omar, lea):
            shown = next(
                m for m in tg.sent(person.id) if m.message_id == alerts[person.id].message_id
            )
            assert f"taken by {winner.first_name}" in (shown.text or "") and shown.labels == []
        assert (
            tg.last_text(amina.chat_id)
            == f"{winner.first_name} will help you. Where: by chat, through the coach."
        )

        assert await amina.says("I forgot my password") == []
        await drained(coach)
        relayed = tg.sent(winner.id)[-1]
        assert relayed.text == "💬 Amina (#1): I forgot my password"
        helper = TelegramVolunteer(coach, tg, winner)
        assert await helper.says("Tap “Forgot password?”", replying_to=relayed) == []
        await drained(coach)
        assert tg.last_text(amina.chat_id) == f"💬 {winner.first_name}: Tap “Forgot password?”"

        await amina.does(tg.send_photo(amina.user))
        await drained(coach)
        assert [m.method for m in tg.sent(winner.id)[-2:]] == ["copyMessage", "sendMessage"]
        assert tg.sent(winner.id)[-2].kind == "photo"

        assert await helper.says("/done") == ["How did request #1 end?"]
        assert helper.latest().labels[:1] == ["1. We met"]
        assert (await helper.taps("Solved by chat"))[0].startswith("Request #1 is closed.")
        assert helper.notice is None
        assert (tg.last_text(amina.chat_id) or "").startswith("How was the help")
        assert await helper.says("All good", replying_to=helper.latest()) == ["Note saved."]
        await amina.taps("⭐⭐⭐⭐⭐")
        assert await amina.says("Thank you") == ["Thank you for your answer."]
        async with reading(coach) as session:
            closed = await session.scalar(select(Handoff))
        assert closed is not None
        assert (closed.status, closed.outcome, closed.rating, closed.comment) == (
            "closed",
            "chat",
            5,
            "Thank you",
        )


async def test_forged_volunteer_buttons_and_strangers_are_refused(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        nadia = tg.user(4001, "Nadia")
        await register(coach, tg, nadia, [])
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina", "en"))
        await amina.says("/start")
        await amina.taps("English")
        stranger = tg.user(6666, "Eve")
        tg.press_forged(stranger, 1, "vol:claim/1")
        tg.press_forged(nadia, 1, "vol:claim/999")
        tg.press_forged(nadia, 1, "vol:done/1/met")
        tg.press_forged(amina.user, 1, "vol:hack")
        await tg.wait_until(lambda: len(tg.answered_callbacks) >= 5)
        refusals = {(a.user_id, a.data): (a.text, a.show_alert) for a in tg.answered_callbacks}
        alert = True
        assert refusals[(6666, "vol:claim/1")] == (
            "Only registered volunteers can take a request.",
            alert,
        )
        assert refusals[(4001, "vol:claim/999")] == ("This request does not exist.", alert)
        assert refusals[(4001, "vol:done/1/met")] == (
            "You can only close requests you took.",
            alert,
        )
        assert refusals[(1001, "vol:hack")] == ("This button does not work any more.", alert)
        eve = TelegramVolunteer(coach, tg, stranger)
        assert "This invitation does not work" in (await eve.says("/start v_not-a-real-token"))[0]
        assert await eve.says("/reply 1 hello") == [
            "You can only write to learners whose request you took."
        ]


async def test_an_admin_invites_in_telegram_and_the_volunteer_sets_availability(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url, admins=["9000"]) as (coach, tg):
        admin, nadia, someone = tg.user(9000, "Admin"), tg.user(4001, "Nadia"), tg.user(4555, "Sam")
        boss, helper = TelegramVolunteer(coach, tg, admin), TelegramVolunteer(coach, tg, nadia)
        link = (await boss.says("/invite Nadia"))[0].split("\n")[-1]
        assert link.startswith("https://t.me/coach_test_bot?start=v_")
        welcome = await helper.says("/start " + link.split("start=")[1])
        assert "You are now a volunteer" in welcome[0]
        assert "Available" in (await helper.says("/volunteer"))[0]
        settings = helper.latest()
        assert settings.labels[0] == "1. Change availability"
        assert any(label.endswith(". ⬜ Français") for label in settings.labels)
        await helper.taps("Change availability")
        assert "Away" in helper.last_text()
        await helper.taps("⬜ Français")
        assert any(label.endswith(". ☑️ Français") for label in helper.latest().labels)
        volunteer = (await Volunteers(coach.store, lambda: datetime.now(UTC)).listed())[0]
        assert (volunteer.available, volunteer.languages) == (False, ("fr",))
        tg.send_command(someone, "/invite Eve")
        await tg.wait_until(lambda: bool(tg.sent(someone.id)))
        assert "start=v_" not in (tg.last_text(someone.id) or "")


async def test_a_long_answer_is_split_and_a_learner_who_blocks_the_coach_is_not_awaited(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        nadia = tg.user(4001, "Nadia")
        await register(coach, tg, nadia, [])
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina", "en"))
        for step in ("/start", "English", "/help", "E-mail", "No, stay anonymous"):
            await (amina.says(step) if step.startswith("/") else amina.taps(step))
        await drained(coach)
        tg.press(nadia, tg.sent(nadia.id)[-1], TAKE)
        await tg.wait_until(lambda: "will help you. Where" in (tg.last_text(amina.chat_id) or ""))
        before = len(tg.sent(amina.chat_id))
        long_answer = "\n\n".join(
            f"Step {n}: " + "tap, look, then tap again. " * 20 for n in range(12)
        )
        tg.send_command(nadia, f"/reply 1 {long_answer}")
        await tg.wait_until(lambda: len(tg.sent(amina.chat_id)) >= before + 2, within=15)
        await drained(coach)
        parts = [m.text or "" for m in tg.sent(amina.chat_id)[before:]]
        assert len(parts) >= 2 and all(len(part) <= 4096 for part in parts)
        assert "".join(parts).count("Step ") == 12
        tg.block(amina.user)
        tg.send_command(nadia, "/reply 1 Are you still there?")
        await tg.wait_until(lambda: "can no longer be reached" in (tg.last_text(nadia.id) or ""))
        async with reading(coach) as session:
            handoff = await session.scalar(select(Handoff))
        assert handoff is not None and handoff.status == "cancelled"


async def learner_asking(
    coach: object, tg: FakeTelegram, user_id: int, name: str
) -> TelegramLearner:
    learner = TelegramLearner(coach, tg, tg.user(user_id, name, "en"))  # type: ignore[arg-type]
    for step in ("/start", "English", "/help", "E-mail", "No, stay anonymous"):
        await (learner.says(step) if step.startswith("/") else learner.taps(step))
    await drained(coach)  # type: ignore[arg-type]
    return learner


async def test_a_volunteer_who_types_without_replying_writes_to_their_learner(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        nadia = TelegramVolunteer(coach, tg, tg.user(4001, "Nadia"))
        await nadia.joins()
        assert await nadia.says("Hello?") == [
            "You are not helping anyone right now. New requests come here; "
            "send /volunteer to change your settings."
        ]
        amina = await learner_asking(coach, tg, 1001, "Amina")
        await nadia.taps("✋ I take it")
        assert nadia.notice is None
        assert await nadia.says("Hello Amina, I am here.") == []
        await drained(coach)
        assert tg.last_text(amina.chat_id) == "💬 Nadia: Hello Amina, I am here."

        karim = await learner_asking(coach, tg, 1002, "Karim")
        await nadia.taps("✋ I take it", on=nadia.find("Request #2"))
        assert await nadia.says("See you at 3.") == [
            "You are helping several learners. Which request is this message for?"
        ]
        assert nadia.latest().labels == ["1. Request #1", "2. Request #2"]
        await nadia.taps("Request #2")
        await drained(coach)
        copied = tg.sent(karim.chat_id)[-2:]
        assert [m.method for m in copied] == ["copyMessage", "sendMessage"]
        assert copied[0].text == "See you at 3."
        assert copied[1].text == "💬 Nadia sent you the message above."
        assert tg.last_text(amina.chat_id) == "💬 Nadia: Hello Amina, I am here."
        async with reading(coach) as session:
            learners = await session.scalar(select(func.count()).select_from(Learner))
        assert learners == 2  # the volunteer never became a learner
