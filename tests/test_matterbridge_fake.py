"""The fake Matterbridge API account answers as ``bridge/api/api.go`` does."""

from __future__ import annotations

import json

import aiohttp

from tests.fakes.matterbridge_api import GATEWAY, TOKEN, Person, fake_matterbridge, go_time

AMINA = Person("Amina", "33612345678@s.whatsapp.net")
BEARER = {"Authorization": f"Bearer {TOKEN}"}


async def test_health_messages_and_the_token() -> None:
    async with fake_matterbridge() as bridge, aiohttp.ClientSession() as http:
        bridge.say(AMINA, "hello")
        async with http.get(f"{bridge.base_url}/api/health", headers=BEARER) as answer:
            assert (answer.status, await answer.text()) == (200, "OK")
        for _ in range(2):  # reading the buffer does not clear it
            async with http.get(f"{bridge.base_url}/api/messages", headers=BEARER) as answer:
                messages = await answer.json()
            assert [(m["username"], m["text"], m["gateway"]) for m in messages] == [
                ("Amina", "hello", GATEWAY)
            ]
        async with http.get(f"{bridge.base_url}/api/messages") as answer:
            assert answer.status == 400
        wrong = {"Authorization": "Bearer nope"}
        async with http.get(f"{bridge.base_url}/api/messages", headers=wrong) as answer:
            assert answer.status == 401
        body = {"text": "Amina: hi", "username": "Coach", "gateway": GATEWAY}
        async with http.post(f"{bridge.base_url}/api/message", json=body, headers=BEARER) as answer:
            echoed = await answer.json()
        assert (echoed["protocol"], echoed["channel"], echoed["id"]) == ("api", "api", "")
        assert [(p.text, p.username) for p in bridge.posts()] == [("Amina: hi", "Coach")]


async def test_the_stream_greets_then_sends_the_buffer_after_skip_before_then_what_comes() -> None:
    async with fake_matterbridge() as bridge, aiohttp.ClientSession() as http:
        first = bridge.say(AMINA, "first")
        second = bridge.say(AMINA, "second")
        headers = {**BEARER, "skip_before": first["timestamp"]}
        async with http.get(f"{bridge.base_url}/api/stream", headers=headers) as stream:
            lines = [json.loads(await stream.content.readline()) for _ in range(2)]
            assert lines[0]["event"] == "api_connected"
            assert lines[1] == second
            third = bridge.say(AMINA, "third")
            assert json.loads(await stream.content.readline()) == third
        assert bridge.skip_before == [first["timestamp"]]


def test_times_are_written_as_gos_encoder_writes_them() -> None:
    assert go_time(1_765_051_200_123_456_789) == "2025-12-06T20:00:00.123456789Z"
    assert go_time(1_765_051_200_500_000_000) == "2025-12-06T20:00:00.5Z"
    assert go_time(1_765_051_200_000_000_000) == "2025-12-06T20:00:00Z"
