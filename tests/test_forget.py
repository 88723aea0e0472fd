"""A learner who asks for a person, talks to a volunteer, then sends /forget: afterwards no
table, no column and (on SQLite) no byte of the database files holds anything about them,
and the trainers' per-step figures are what they were."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.app import Coach, build
from bot.core.volunteering import INVITE_PREFIX
from bot.services.erasure import erase_volunteer
from bot.services.figures import Filters, course_figures
from bot.services.retention import ErasureFollowUp
from bot.services.volunteers import Volunteers
from bot.store.tables import Base, Handoff, OutboxRow, Volunteer
from tests.conftest import settings_for
from tests.telegram_learner import TelegramLearner, coach_on_telegram, drained, reading
from tests.telegram_volunteer import TelegramVolunteer
from tests.web_learner import WebLearner

VOLUNTEER = "7001234"
WORDS = {
    "topic": "Renewal of my titre de sejour QX41",
    "relayed": "I sleep at 14 rue Zephyrine, call 0611223344",
    "reply": "Meet Nadia-KW7 at the Zarbon office",
    "second": "Thank you Nadia, see you at Zarbon",
    "note": "Residence permit refused, appeal pending RPX99",
    "comment": "Very kind volunteer CMT-552",
}


async def scan_tables(coach: Coach, secrets: list[str]) -> list[str]:
    """Every value of every column of every table that holds one of the secrets."""
    hits = []
    async with coach.store.unit_of_work() as uow:
        for table in Base.metadata.sorted_tables:
            for row in (await uow.session.execute(select(table))).mappings():
                for column, value in row.items():
                    if isinstance(value, date):  # a time's digits may spell a chat id ("4001")
                        continue
                    shown = json.dumps(value, ensure_ascii=False, default=str)
                    hits += [f"{table.name}.{column}: {s}" for s in secrets if s in shown]
    return hits


def assert_all_kept(hits: list[str], secrets: list[str]) -> None:
    """Before the erasure, the scan finds every one of them: it looks in the right places."""
    assert [s for s in secrets if not any(hit.endswith(f": {s}") for hit in hits)] == []


def into_the_file(database_url: str) -> None:
    """SQLite: what the WAL holds is written into the database file, as an automatic
    checkpoint does, so the erasure has to clear the file itself."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with contextlib.closing(sqlite3.connect(str(url.database))) as connection:
            assert connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0


async def scan_files(coach: Coach, database_url: str, secrets: list[str]) -> list[str]:
    """SQLite only: the raw bytes of the database file and its WAL, after a checkpoint."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return []
    with contextlib.closing(sqlite3.connect(str(url.database))) as connection:
        connection.execute("PRAGMA wal_checkpoint(FULL)")
    hits = []
    for path in (Path(str(url.database)), Path(f"{url.database}-wal")):
        data = path.read_bytes() if path.exists() else b""
        for secret in secrets:
            for encoded in {secret.encode(), secret.encode("utf-16-le")}:
                if encoded in data:
                    hits.append(f"{path.name}: {secret}")
    return hits


async def step_counts(coach: Coach) -> list[Any]:
    lessons, _ = await course_figures(coach.store, coach.courses.course, Filters())
    return [(f.lesson_id, f.started, f.finished, f.steps) for f in lessons]


async def a_volunteer(coach: Coach, name: str, telegram_id: str) -> None:
    volunteers = Volunteers(coach.store, lambda: datetime.now(UTC))
    invite = await volunteers.invite(name, [], [], "coach_test_bot")
    assert await volunteers.redeem(invite.link.split(f"start={INVITE_PREFIX}")[1], telegram_id)


async def open_request(coach: Coach) -> Handoff:
    async with coach.store.unit_of_work() as uow:
        found = await uow.session.scalar(select(Handoff).order_by(Handoff.id.desc()))
        assert found is not None
        return found


async def test_forget_in_the_web_chat_leaves_nothing_of_the_learner(
    engine: object, database_url: str
) -> None:
    coach = build(settings_for(database_url))
    async with TestClient(TestServer(coach.web)) as client:
        await a_volunteer(coach, "Nadia", VOLUNTEER)
        learner = WebLearner(client)
        await learner.says("/start")
        await learner.taps("English")
        await learner.taps("Basics")
        await learner.taps("First steps (2 min)")
        await learner.says("1")
        before = await step_counts(coach)

        await learner.says("/help")
        await learner.taps("Something else")
        await learner.says(WORDS["topic"])
        await learner.taps("No, stay anonymous")
        request = await open_request(coach)
        desk = coach.desk
        assert desk is not None
        assert (await desk.claim(VOLUNTEER, request.id)).ok
        assert await learner.says(WORDS["relayed"]) == []
        assert (await desk.reply(VOLUNTEER, request.id, WORDS["reply"])).ok
        await learner.fetch()
        assert await learner.says(WORDS["second"]) == []
        assert (await desk.close(VOLUNTEER, request.id, "chat")).ok
        assert (await desk.note(VOLUNTEER, request.id, WORDS["note"])).ok
        await learner.fetch()
        await learner.taps("⭐⭐⭐⭐⭐")
        await learner.says(WORDS["comment"])
        chat_id, credential = learner.chat_id, learner.credential
        assert credential is not None
        kept = [*WORDS.values(), chat_id]  # the credential itself is never stored
        assert_all_kept(await scan_tables(coach, kept), kept)
        secrets = [*kept, credential]
        into_the_file(database_url)

        said = await learner.says("/forget")
        assert said[0].startswith("Do you want me to erase everything")
        assert learner.buttons() == ["Yes, erase everything", "No, keep it"]
        said = await learner.taps("Yes, erase everything")
        assert said == [
            "Done. I erased everything I kept about you. If you write again, we start from zero."
        ]

        assert await scan_tables(coach, secrets) == []
        assert await scan_files(coach, database_url, secrets) == []
        assert await step_counts(coach) == before
        async with coach.store.unit_of_work() as uow:
            handoff = await uow.session.get(Handoff, request.id)
            assert handoff is not None
            assert (handoff.topic_text, handoff.note, handoff.comment) == (None, None, None)
    await coach.store.close()


@pytest.mark.usefixtures("telegram_runtime")
async def test_forget_in_telegram_cancels_the_open_request_and_tells_its_volunteer(
    database_url: str, engine: object
) -> None:
    async with coach_on_telegram(database_url) as (coach, tg):
        nadia = tg.user(860055, "Nadira")
        volunteer = TelegramVolunteer(coach, tg, nadia)
        await volunteer.joins(["en"])
        zuleikha = TelegramLearner(coach, tg, tg.user(73914226, "Zuleikha", "en"))
        await zuleikha.says("/start")
        await zuleikha.taps("English")
        before = await step_counts(coach)
        await zuleikha.says("/help")
        await zuleikha.taps("Something else")
        await zuleikha.says(WORDS["topic"])
        await zuleikha.taps("Yes, show my first name")
        await drained(coach)
        alert = volunteer.find("First name: Zuleikha")
        await volunteer.taps("✋ I take it", on=alert)
        await drained(coach)
        assert await zuleikha.says(WORDS["relayed"]) == []
        await drained(coach)
        relayed = volunteer.find(WORDS["relayed"])
        await volunteer.says(WORDS["reply"], replying_to=relayed)
        await drained(coach)
        assert await volunteer.says("/done") == ["How did request #1 end?"]
        await volunteer.taps("Solved by chat")
        await volunteer.says(WORDS["note"], replying_to=volunteer.latest())
        await drained(coach)
        await zuleikha.taps("⭐⭐⭐⭐⭐")
        await zuleikha.says(WORDS["comment"])

        await zuleikha.says("/help")  # a second request, open when the learner erases
        await zuleikha.taps("E-mail")
        await zuleikha.taps("Yes, show my first name")
        await drained(coach)
        await volunteer.taps("✋ I take it", on=volunteer.find("#2"))
        await drained(coach)
        assert await zuleikha.says(WORDS["second"]) == []
        await zuleikha.does(tg.send_photo(zuleikha.user))  # copied from her chat by its id
        await drained(coach)

        secrets = [*WORDS.values(), "Zuleikha", "73914226"]
        assert_all_kept(await scan_tables(coach, secrets), secrets)
        into_the_file(database_url)
        await zuleikha.says("/forget")
        # Its key is erased with the rest, so the press is followed by what it sends.
        tg.press(zuleikha.user, *zuleikha.button("Yes, erase everything"))
        await tg.wait_until(
            lambda: (tg.last_text(zuleikha.chat_id) or "").startswith("Done. I erased")
        )
        await drained(coach)
        assert volunteer.last_text() == "Request #2: the learner closed this request."
        assert "Zuleikha" not in (volunteer.find("the learner closed").text or "")
        await erase_delivered(coach)

        assert await scan_tables(coach, secrets) == []
        assert await scan_files(coach, database_url, secrets) == []
        assert await step_counts(coach) == before
        async with coach.store.unit_of_work() as uow:  # then the volunteer asks the same
            helper = await uow.session.scalar(select(Volunteer))
            assert helper is not None
            await erase_volunteer(uow, helper, datetime.now(UTC))
        assert await scan_tables(coach, ["Nadira", "860055"]) == []
        async with reading(coach) as session:
            statuses = list(await session.scalars(select(Handoff.status).order_by(Handoff.id)))
            assert statuses == ["closed", "cancelled"]
            left = list(await session.scalars(select(OutboxRow.text)))
        assert all("Zuleikha" not in t for t in left)


async def erase_delivered(coach: Coach) -> None:
    """The follow-up sweep (it runs with the outbox's): the answers to /forget, delivered,
    go too."""
    assert "erasure-follow-up" in [job.name for job in coach.jobs]
    assert await ErasureFollowUp(coach.store).sweep(datetime.now(UTC)) > 0
