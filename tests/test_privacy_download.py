"""In the web chat, /mydata comes with a download of everything kept about the conversation,
as JSON, for the holder of its credential only."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.app import build
from tests.conftest import settings_for
from tests.test_forget import a_volunteer, open_request
from tests.web_learner import WebLearner

VOLUNTEER = "7001234"
TOPIC = "Renewal of my titre de sejour QX41"
RELAYED = "I sleep at 14 rue Zephyrine"
REPLY = "Meet me at the Zarbon office"
OTHER = "Bilal asks about his CAF file KB-77"


async def download(client: TestClient[Any, Any], url: str) -> tuple[int, dict[str, str], Any]:
    response = await client.get(url)
    body = await response.text()
    return response.status, dict(response.headers), json.loads(body) if body else None


async def test_mydata_offers_a_download_of_everything_kept_for_this_conversation_only(
    engine: object, database_url: str
) -> None:
    coach = build(settings_for(database_url))
    async with TestClient(TestServer(coach.web)) as client:
        await a_volunteer(coach, "Nadia Benali", VOLUNTEER)
        bilal = WebLearner(client)
        await bilal.says("/start")
        await bilal.taps("English")
        await bilal.says("/help")
        await bilal.taps("Something else")
        await bilal.says(OTHER)
        await bilal.taps("No, stay anonymous")

        amina = WebLearner(client)
        await amina.says("/start")
        await amina.taps("English")
        await amina.taps("Basics")
        await amina.taps("First steps (2 min)")
        await amina.says("/help")
        await amina.taps("Something else")
        await amina.says(TOPIC)
        await amina.taps("No, stay anonymous")
        desk = coach.desk
        assert desk is not None
        request = await open_request(coach)
        assert (await desk.claim(VOLUNTEER, request.id)).ok
        assert await amina.says(RELAYED) == []
        assert (await desk.reply(VOLUNTEER, request.id, REPLY)).ok
        await amina.fetch()

        answer = (await amina.post(json={"text": "/mydata", "key": "mydata-1"}))[-1]
        assert answer["text"].startswith("What I keep about you:")
        link = answer["media"]
        assert link["kind"] == "document"
        assert link["url"] == f"/api/webchat/{amina.credential}/mydata.json"

        status, headers, kept = await download(client, link["url"])
        assert status == 200
        assert headers["Content-Disposition"] == 'attachment; filename="mydata.json"'
        assert headers["Cache-Control"] == "no-store"
        assert headers["Content-Type"].startswith("application/json")
        assert kept["learner"]["language"] == "en"
        assert kept["learner"]["chat_id"] == amina.chat_id
        assert [p["lesson_id"] for p in kept["progress"]] == ["first-steps"]
        assert "lesson_started" in [e["name"] for e in kept["events"]]
        assert any(
            m["text"].startswith("What I keep about you:") for m in kept["messages_from_the_coach"]
        )
        [asked] = kept["requests"]
        assert (asked["topic_text"], asked["status"], asked["volunteer"]) == (
            TOPIC,
            "claimed",
            "Nadia",
        )
        assert [(m["from"], m["volunteer"], m["text"]) for m in asked["messages"]] == [
            ("learner", None, RELAYED),
            ("volunteer", "Nadia", REPLY),
        ]
        shown = json.dumps(kept, ensure_ascii=False)
        for other in (OTHER, bilal.chat_id, VOLUNTEER):
            assert other not in shown

        assert (await download(client, f"/api/webchat/{bilal.credential}/mydata.json"))[2][
            "requests"
        ][0]["topic_text"] == OTHER
        forged = "A" * 43
        status, headers, refused = await download(client, f"/api/webchat/{forged}/mydata.json")
        assert status == 404
        assert TOPIC not in json.dumps(refused)
