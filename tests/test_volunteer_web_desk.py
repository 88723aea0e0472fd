"""Volunteers at a computer: sign in with a single-use link, take a request, talk with the
learner, close it; coordinators see every request. On both databases, through HTTP."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.app import Coach, build
from bot.services.desk_sign_in import DeskSignIn
from bot.services.volunteers import INVITE_PREFIX, Volunteers
from bot.store.tables import HandoffMessage
from tests.conftest import settings_for
from tests.desk_volunteer import DeskVolunteer, invited, nonce
from tests.fakes.telegram_people import SAMPLE_OGG, SAMPLE_PNG
from tests.fakes.whatsapp_webhooks import IMAGE_ID, VOICE_ID
from tests.telegram_learner import TelegramLearner, coach_on_telegram, free_port
from tests.web_learner import OGG, PNG, WebLearner
from tests.whatsapp_learner import WhatsAppLearner, coach_on_whatsapp


@pytest.fixture
async def coach(engine: object, database_url: str) -> AsyncIterator[Coach]:
    built = build(settings_for(database_url, languages=["en", "fr", "ar"]))
    yield built
    await built.store.close()


@pytest.fixture
async def client(coach: Coach) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(coach.web)) as test_client:
        yield test_client


@pytest.fixture
async def browsers(client: TestClient[Any, Any]) -> AsyncIterator[list[DeskVolunteer]]:
    opened: list[DeskVolunteer] = []
    yield opened
    for browser in opened:
        await browser.close()


async def signed_in(
    coach: Coach,
    client: TestClient[Any, Any],
    browsers: list[DeskVolunteer],
    name: str,
    **extra: Any,
) -> DeskVolunteer:
    _, token = await invited(coach.store, name, **extra)
    volunteer = DeskVolunteer(client)
    browsers.append(volunteer)
    answer = await volunteer.sign_in(token)
    assert answer.status == 303, answer.status
    return volunteer


async def asks_for_help(learner: WebLearner) -> int:
    """The learner asks for a person; the request's number."""
    await learner.says("/start")
    await learner.taps("English")
    assert await learner.says("/help") == ["A volunteer can help you. What is it about?"]
    await learner.taps("E-mail")
    await learner.taps("No, stay anonymous")
    return 1


async def test_a_sign_in_link_works_once_and_signing_out_ends_the_session(
    coach: Coach, client: TestClient[Any, Any], browsers: list[DeskVolunteer]
) -> None:
    _, token = await invited(coach.store, "Nadia")
    nadia = DeskVolunteer(client)
    browsers.append(nadia)
    # Opening the link (a chat app's link preview does too) only shows a button.
    page = await nadia.page(f"/desk/sign-in/{token}")
    assert nadia.status == 200 and '<form method="post">' in page
    answer = await nadia.sign_in(token)
    assert answer.status == 303 and answer.headers["Location"] == "/desk"
    cookie = answer.headers["Set-Cookie"]
    assert "coach_desk=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert token not in cookie
    assert "Nadia" in await nadia.page("/desk")
    again = DeskVolunteer(client)
    browsers.append(again)
    refused = await again.post(f"/desk/sign-in/{token}", {})
    assert again.status == 403 and "it was used already, or it expired" in refused
    kept = {c.key: c.value for c in nadia.session.cookie_jar}
    await nadia.post("/desk/sign-out", {})
    assert "You are not signed in" in await nadia.page("/desk")
    # The cookie from before signing out no longer opens the desk.
    replay = DeskVolunteer(client)
    browsers.append(replay)
    replay.session.cookie_jar.update_cookies(kept, client.make_url("/"))
    assert "You are not signed in" in await replay.page("/desk")


async def test_an_admin_revokes_every_browser_session_of_a_volunteer(
    coach: Coach, client: TestClient[Any, Any], browsers: list[DeskVolunteer]
) -> None:
    volunteer_id, token = await invited(coach.store, "Sam")
    sam = DeskVolunteer(client)
    browsers.append(sam)
    await sam.sign_in(token)
    assert "Sam" in await sam.page("/desk")
    assert await DeskSignIn(coach.store, lambda: datetime.now(UTC)).revoke(volunteer_id) == 1
    assert "You are not signed in" in await sam.page("/desk")


async def test_a_volunteer_takes_a_request_they_talk_it_closes_and_the_learner_rates(
    coach: Coach, client: TestClient[Any, Any], browsers: list[DeskVolunteer]
) -> None:
    nadia = await signed_in(coach, client, browsers, "Nadia", languages=["en"])
    learner = WebLearner(client)
    request = await asks_for_help(learner)
    queue = await nadia.page("/desk")
    assert f'id="request-{request}"' in queue and "Topic: E-mail" in queue
    assert "First name: not shared" in queue
    assert learner.chat_id not in queue and (learner.credential or "") not in queue

    await nadia.takes(request)
    assert nadia.status == 200 and f"<h1>#{request}</h1>" in await nadia.page(
        f"/desk/requests/{request}"
    )
    told = await learner.fetch()
    assert any(m["text"].startswith("Nadia will help you.") for m in told)

    assert await learner.says("My e-mail asks for a code") == []
    shown = await nadia.messages(request)
    assert [m["html"] for m in shown["messages"]][-1].count("My e-mail asks for a code") == 1
    assert shown["open"] is True

    once = nonce()
    await nadia.writes(request, "Hello, I am here <b>to help</b>", once)
    await nadia.writes(request, "Hello, I am here <b>to help</b>", once)  # sent twice: once
    got = [m["text"] for m in await learner.fetch()]
    assert got.count("💬 Nadia: Hello, I am here <b>to help</b>") == 1
    page = await nadia.page(f"/desk/requests/{request}")
    assert "&lt;b&gt;to help&lt;/b&gt;" in page and "<b>to help</b>" not in page

    after = shown["messages"][-1]["id"]
    newer = await nadia.messages(request, after)
    assert len(newer["messages"]) == 1 and "to help" in newer["messages"][0]["html"]

    await nadia.closes(request, "chat", note="Showed where the code arrives")
    assert "This request is closed." in await nadia.page(f"/desk/requests/{request}")
    rating = await learner.fetch()
    assert any("How was the help you got?" in m["text"] for m in rating)
    await learner.taps("⭐⭐⭐⭐⭐")
    async with coach.store.unit_of_work() as uow:
        kept = await uow.session.scalar(select(func.count()).select_from(HandoffMessage))
    assert kept == 2


async def test_one_winner_between_telegram_and_the_browser(
    coach: Coach, client: TestClient[Any, Any], browsers: list[DeskVolunteer]
) -> None:
    volunteers = Volunteers(coach.store, lambda: datetime.now(UTC))
    invite = await volunteers.invite("Tom", [], [], "coach_test_bot")
    assert await volunteers.redeem(invite.link.split(f"start={INVITE_PREFIX}")[1], "4242")
    nadia = await signed_in(coach, client, browsers, "Nadia")
    request = await asks_for_help(WebLearner(client))
    assert coach.desk is not None
    in_telegram, in_browser = await asyncio.gather(
        coach.desk.claim("4242", request), nadia.takes(request)
    )
    won_in_browser = nadia.status == 200
    assert in_telegram.ok != won_in_browser
    if won_in_browser:
        assert in_telegram.say is not None
        assert in_telegram.say.msgid == "Someone else has already taken this request."
    else:
        assert nadia.status == 409 and "Someone else has already taken this request." in in_browser


async def test_the_desk_shows_only_ones_own_conversations_and_refuses_forged_forms(
    coach: Coach, client: TestClient[Any, Any], browsers: list[DeskVolunteer]
) -> None:
    nadia = await signed_in(coach, client, browsers, "Nadia")
    sam = await signed_in(coach, client, browsers, "Sam")
    request = await asks_for_help(WebLearner(client))
    await nadia.takes(request)
    await sam.page(f"/desk/requests/{request}")
    assert sam.status == 404
    await sam.messages(request)
    assert sam.status == 404
    said = await sam.writes(request, "Let me in")
    assert sam.status == 409 and "You can only write to learners whose request you took." in said
    again = await sam.takes(request)
    assert sam.status == 409 and "Someone else has already taken this request." in again
    mine = await nadia.takes(request)
    assert nadia.status == 409 and "You have already taken this request." in mine
    await sam.post(f"/desk/requests/{request}/close", {"outcome": "met", "nonce": nonce()})
    assert sam.status == 409
    await sam.post(
        f"/desk/requests/{request}/claim",
        {"nonce": nonce()},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert sam.status == 403
    stranger = DeskVolunteer(client)
    browsers.append(stranger)
    await stranger.post(f"/desk/requests/{request}/claim", {"nonce": nonce()})
    assert "You are not signed in" in await stranger.page("/desk")
    await stranger.messages(request)
    assert stranger.status == 401
    await nadia.page("/desk/requests/99999999999999999999999")
    assert nadia.status == 404
    await nadia.page("/desk/all")
    assert nadia.status == 200 and "Every request" not in await nadia.page("/desk/all")


async def test_coordinators_see_every_request_its_times_and_its_rating(
    coach: Coach, client: TestClient[Any, Any], browsers: list[DeskVolunteer]
) -> None:
    lea = await signed_in(coach, client, browsers, "Léa", coordinator=True)
    nadia = await signed_in(coach, client, browsers, "Nadia", languages=["fr"])
    learner = WebLearner(client)
    request = await asks_for_help(learner)
    # Nadia speaks French only: the English request is not in her queue, but a coordinator's.
    assert f'id="request-{request}"' not in await nadia.page("/desk")
    assert f'id="request-{request}"' in await lea.page("/desk")
    await lea.takes(request)
    await lea.closes(request, "met")
    await learner.fetch()
    await learner.taps("⭐⭐⭐⭐")
    overview = await lea.page("/desk/all")
    assert "Every request" in overview and "Léa" in overview and "⭐⭐⭐⭐<" in overview
    assert "We met" in overview and " min<" in overview


async def test_the_desk_speaks_the_volunteers_language(
    coach: Coach, client: TestClient[Any, Any], browsers: list[DeskVolunteer]
) -> None:
    _, token = await invited(coach.store, "Amal")
    amal = DeskVolunteer(client)
    browsers.append(amal)
    await amal.session.post(
        amal.url(f"/desk/sign-in/{token}"),
        headers={"Accept-Language": "ar"},
        allow_redirects=False,
    )
    page = await amal.page("/desk")
    assert 'lang="ar" dir="rtl"' in page
    assert "Requests waiting for someone" not in page


async def test_under_the_volunteers_words_the_learner_finds_the_way_back_and_forth(
    coach: Coach, client: TestClient[Any, Any], browsers: list[DeskVolunteer]
) -> None:
    nadia = await signed_in(coach, client, browsers, "Nadia")
    learner = WebLearner(client)
    request = await asks_for_help(learner)
    await nadia.takes(request)
    await learner.fetch()
    assert learner.buttons() == ["Back to the lessons"]
    await learner.taps("Back to the lessons")
    await nadia.writes(request, "Are you still there?")
    await learner.fetch()
    assert learner.buttons() == ["💬 Write to Nadia"]
    await learner.taps("💬 Write to Nadia")
    assert await learner.says("2") == []  # in the talk, a number is words for Nadia
    assert "<p>2</p>" in (await nadia.messages(request))["messages"][-1]["html"]


@pytest.mark.usefixtures("telegram_runtime")
async def test_a_telegram_learners_photo_and_voice_note_show_on_the_desk(
    database_url: str, engine: object
) -> None:
    port = free_port()
    async with coach_on_telegram(database_url, web_port=port) as (coach, tg):
        amina = TelegramLearner(coach, tg, tg.user(1001, "Amina", "en"))
        await amina.says("/start")
        await amina.taps("English")
        await amina.says("/help")
        await amina.taps("E-mail")
        await amina.taps("No, stay anonymous")
        _, token = await invited(coach.store, "Nadia")
        _, other = await invited(coach.store, "Sam")
        nadia, sam = (
            DeskVolunteer(f"http://127.0.0.1:{port}"),
            DeskVolunteer(f"http://127.0.0.1:{port}"),
        )
        try:
            await nadia.sign_in(token)
            await sam.sign_in(other)
            await nadia.takes(1)
            await amina.does(tg.send_photo(amina.user))
            await amina.does(tg.send_voice(amina.user))
            shown = [m["html"] for m in (await nadia.messages(1))["messages"]]
            photo, voice = (re.search(r'src="(/desk/media/\d+)"', h) for h in shown[-2:])
            assert photo is not None and voice is not None and "<img" in shown[-2]
            assert "<audio" in shown[-1]
            async with nadia.session.get(nadia.url(photo.group(1))) as got:
                assert got.status == 200 and got.content_type == "image/png"
                assert await got.read() == SAMPLE_PNG
            async with nadia.session.get(nadia.url(voice.group(1))) as got:
                assert got.content_type == "audio/ogg" and await got.read() == SAMPLE_OGG
            async with sam.session.get(sam.url(photo.group(1))) as refused:
                assert refused.status == 404  # not Sam's learner
        finally:
            await nadia.close()
            await sam.close()


async def test_a_whatsapp_learners_photo_and_voice_note_show_on_the_desk(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):
        amina = WhatsAppLearner(coach, graph, "33612345678", "Amina")
        await amina.says("hello")
        await amina.taps("English")
        await amina.taps("🙋 Talk to a person")
        await amina.taps("E-mail")
        await amina.taps("No, stay anonymous")
        _, token = await invited(coach.store, "Nadia")
        nadia = DeskVolunteer(f"http://127.0.0.1:{coach.settings.web_port}")
        try:
            await nadia.sign_in(token)
            await nadia.takes(1)
            await amina.sends_image()
            await amina.sends_voice()
            shown = [m["html"] for m in (await nadia.messages(1))["messages"]]
            photo, voice = (re.search(r'src="(/desk/media/\d+)"', h) for h in shown[-2:])
            assert photo is not None and voice is not None
            async with nadia.session.get(nadia.url(photo.group(1))) as got:
                assert got.status == 200 and got.content_type == "image/jpeg"
                assert await got.read() == graph.learners_media[IMAGE_ID]
            async with nadia.session.get(nadia.url(voice.group(1))) as got:
                assert got.content_type == "audio/ogg"
                assert await got.read() == graph.learners_media[VOICE_ID]
            graph.learners_media.clear()  # WhatsApp forgets media after 30 days
            async with nadia.session.get(nadia.url(photo.group(1))) as gone:
                assert gone.status == 404
        finally:
            await nadia.close()


async def test_a_web_chat_learners_photo_is_kept_only_for_their_volunteer(
    coach: Coach, client: TestClient[Any, Any], browsers: list[DeskVolunteer]
) -> None:
    nadia = await signed_in(coach, client, browsers, "Nadia")
    learner = WebLearner(client)
    request = await asks_for_help(learner)
    await learner.sends("photo", PNG)  # not yet taken: no volunteer to keep it for
    await nadia.takes(request)
    assert await learner.sends("photo", PNG) == []
    assert await learner.sends("voice", OGG) == []
    shown = [m["html"] for m in (await nadia.messages(request))["messages"]]
    photo, voice = (re.search(r'src="(/desk/media/\d+)"', h) for h in shown[-2:])
    assert photo is not None and voice is not None
    async with nadia.session.get(nadia.url(photo.group(1))) as got:
        assert got.content_type == "image/png" and await got.read() == PNG
    async with nadia.session.get(nadia.url(voice.group(1))) as got:
        assert got.content_type == "audio/ogg" and await got.read() == OGG
    async with coach.store.unit_of_work() as uow:
        kept = await uow.session.scalar(
            select(func.count()).where(HandoffMessage.media_data.is_not(None))
        )
    assert kept == 2
