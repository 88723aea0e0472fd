"""A volunteer erases themselves from their Telegram chat with the coach: /forget or the
words of their language, a question with buttons, then their name, Telegram id and desk
sign-ins go in one transaction and the request they held goes back to the queue."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.services.handoff_figures import handoff_records
from bot.services.retention import ErasureFollowUp
from bot.store.tables import DeskSession, Handoff, Volunteer
from tests.telegram_learner import TelegramLearner, coach_on_telegram, drained, quiet, reading
from tests.telegram_volunteer import TelegramVolunteer
from tests.test_forget import scan_tables
from tests.test_telegram_handoff import TAKE, register

pytestmark = pytest.mark.usefixtures("telegram_runtime")

QUESTION = (
    "Do you want me to erase your name and your Telegram account from the volunteers? "
    "The requests you hold go back to the queue. This cannot be undone."
)
DONE = (
    "Done. I erased your name and your Telegram account. The requests you held went back "
    "to the queue. Thank you for your help."
)


async def test_a_volunteer_erases_themselves_and_their_request_goes_back_to_the_queue(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        nadia_user, omar_user = tg.user(74001529, "Nadiazed"), tg.user(4002, "Omar")
        for person in (nadia_user, omar_user):
            await register(coach, tg, person, ["en"])
        nadia = TelegramVolunteer(coach, tg, nadia_user)
        bilal = TelegramLearner(coach, tg, tg.user(1002, "Bilal", "en"))
        await asks_for_a_person(bilal)
        await nadia.taps("✋ I take it")
        assert await nadia.says("/done") == ["How did request #1 end?"]
        await nadia.taps("Solved by chat")
        await drained(coach)
        closed = [r for r in await handoff_records(coach.store) if r.status == "closed"]
        assert [r.outcome for r in closed] == ["chat"]
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina", "en"))
        await asks_for_a_person(amina)
        await nadia.taps("✋ I take it")
        await drained(coach)
        assert (tg.last_text(amina.chat_id) or "").startswith("Nadiazed will help you.")
        async with coach.store.unit_of_work() as uow:
            volunteer = await uow.session.scalar(select(Volunteer).where(Volunteer.id == 1))
            assert volunteer is not None and volunteer.name == "Nadiazed"
            uow.session.add(
                DeskSession(token_hash="f" * 64, volunteer_id=1, created_at=datetime.now(UTC))
            )

        assert await nadia.says("/forget") == [QUESTION]
        assert await nadia.taps("No, keep it") == ["OK. Nothing was erased."]
        assert await _volunteer(coach) == ("Nadiazed", "74001529", True)
        words = tg.send_text(nadia_user, "Forget me")
        assert await nadia._after(words) == [QUESTION]
        alerts_to_omar = len(tg.sent(omar_user.id))
        yes = tg.press(nadia_user, *nadia.button("Yes, erase everything"))
        assert await nadia._after(yes) == [DONE]
        # The press is answered once the request is back in the queue, after the answer.
        query = str(yes["callback_query"]["id"])
        await tg.wait_until(lambda: any(a.id == query for a in tg.answered_callbacks))
        await drained(coach)

        assert await _volunteer(coach) == ("", None, False)
        async with reading(coach) as session:
            assert await session.scalar(select(func.count()).select_from(DeskSession)) == 0
            request = await session.scalar(select(Handoff).where(Handoff.id == 2))
            assert request is not None
            assert (request.status, request.volunteer_id) == ("open", None)
        realerted = tg.sent(omar_user.id)[alerts_to_omar:]
        assert [m.labels for m in realerted] == [[TAKE]]
        assert "Nadiazed" not in (realerted[0].text or "")
        await ErasureFollowUp(coach.store).sweep(datetime.now(UTC))
        assert await scan_tables(coach, ["Nadiazed", "74001529"]) == []
        # The request she closed still counts, as it did, in the hand-off figures.
        assert [r for r in await handoff_records(coach.store) if r.status == "closed"] == closed

        # Telegram delivers her words again: she is not taken for a new learner.
        sent = len(tg.sent(nadia_user.id))
        await quiet(coach, tg, tg.state.queue_update("message", copy.deepcopy(words["message"])))
        assert len(tg.sent(nadia_user.id)) == sent
        assert await scan_tables(coach, ["Nadiazed", "74001529"]) == []

        omar = TelegramVolunteer(coach, tg, omar_user)
        await omar.taps("✋ I take it", on=realerted[0])
        await drained(coach)
        assert (tg.last_text(amina.chat_id) or "").startswith("Omar will help you.")


async def asks_for_a_person(learner: TelegramLearner) -> None:
    await learner.says("/start")
    await learner.taps("English")
    await learner.says("/help")
    await learner.taps("E-mail")
    await learner.taps("Yes, show my first name")
    await drained(learner.coach)


async def _volunteer(coach: object) -> tuple[str, str | None, bool]:
    async with reading(coach) as session:  # type: ignore[arg-type]
        row = await session.scalar(select(Volunteer).where(Volunteer.id == 1))
        assert row is not None
        return row.name, row.telegram_user_id, row.active
