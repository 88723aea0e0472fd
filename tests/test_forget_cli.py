"""An admin erases a learner, then a volunteer, from the command line."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from typer.testing import CliRunner

from bot.app import build
from bot.cli import app as cli
from bot.store.tables import Handoff, OutboxRow, Volunteer
from tests.conftest import settings_for
from tests.test_forget import a_volunteer, open_request, scan_files, scan_tables
from tests.web_learner import WebLearner

RELAYED = "My address is 9 impasse Quorzel"


async def test_coach_forget_erases_a_learner_and_volunteer_forget_a_volunteer(
    engine: object, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COACH_DATABASE_URL", database_url)
    coach = build(settings_for(database_url))
    async with TestClient(TestServer(coach.web)) as client:
        await a_volunteer(coach, "Nadiazed", "7001234")
        learner = WebLearner(client)
        await learner.says("/start")
        await learner.taps("English")
        await learner.says("/help")
        await learner.taps("E-mail")
        await learner.taps("No, stay anonymous")
        request = await open_request(coach)
        assert coach.desk is not None and (await coach.desk.claim("7001234", request.id)).ok
        assert await learner.says(RELAYED) == []
        chat = learner.chat_id

        run = CliRunner().invoke
        args = ["forget", "--channel", "web", "--chat", chat]
        done = await asyncio.to_thread(run, cli, args)
        assert done.exit_code == 0, done.output
        assert "erased" in done.output and chat not in done.output
        assert await scan_tables(coach, [chat, RELAYED]) == []
        async with coach.store.unit_of_work() as uow:
            told = await uow.session.scalar(
                select(OutboxRow)
                .where(OutboxRow.chat_id == "7001234")
                .order_by(OutboxRow.id.desc())
            )
            handoff = await uow.session.get(Handoff, request.id)
            volunteer_id = await uow.session.scalar(select(Volunteer.id))
        assert (
            told is not None
            and told.text == f"Request #{request.id}: the learner closed this request."
        )
        assert handoff is not None and handoff.status == "cancelled"
        again = await asyncio.to_thread(run, cli, args)
        assert again.exit_code == 1

        other = WebLearner(client)  # helped by the same volunteer, and staying
        await other.says("/start")
        await other.taps("English")
        await other.says("/help")
        await other.taps("E-mail")
        await other.taps("No, stay anonymous")
        assert (await coach.desk.claim("7001234", (await open_request(coach)).id)).ok
        assert await scan_tables(coach, ["Nadiazed"]) != []

        gone = await asyncio.to_thread(run, cli, ["volunteer", "forget", str(volunteer_id)])
        assert gone.exit_code == 0, gone.output
        secrets = ["Nadiazed", "7001234", chat, RELAYED]
        assert await scan_tables(coach, secrets) == []
        assert await scan_files(coach, database_url, secrets) == []
    await coach.store.close()
