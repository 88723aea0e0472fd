"""Bad input in the web chat: a clear reply in the learner's language, nothing lost."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.web_learner import OGG, PNG, WebLearner


async def in_the_quiz(client: TestClient[Any, Any], language: str = "en") -> WebLearner:
    learner = WebLearner(client, language=language)
    await learner.says("/start")
    await learner.taps({"en": "English", "fr": "Français", "ar": "العربية"}[language])
    await learner.post(json={"button": "les:first-steps"})
    await learner.post(json={"button": "next:first-steps/hello"})
    assert learner.last[-1]["buttons"]
    return learner


async def test_a_20_mb_upload_is_refused_with_a_clear_message(client) -> None:  # type: ignore[no-untyped-def]
    learner = await in_the_quiz(client)
    await learner.sends("photo", PNG + b"\x00" * (20 * 2**20))
    assert learner.status == 413
    assert learner.error == "This file is too big. Please send a file under 10 MB."
    assert await learner.says("2") == ["Yes!", "Which is an animal?"]


async def test_a_text_file_sent_as_a_photo_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    learner = await in_the_quiz(client)
    await learner.sends("photo", b"just some notes\n")
    assert learner.status == 422
    assert learner.error == "This file is not a photo. Please choose a picture."


async def test_a_text_file_sent_as_a_voice_note_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    learner = await in_the_quiz(client)
    await learner.sends("voice", b"just some notes\n")
    assert learner.status == 422
    assert "not a voice note" in (learner.error or "")


async def test_an_empty_file_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    learner = await in_the_quiz(client)
    await learner.sends("document", b"", file_hint="x")
    assert learner.status == 422
    assert learner.error == "This file is empty. Please try again."


async def test_a_place_that_is_not_a_place_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    learner = await in_the_quiz(client)
    await learner.sends("location", latitude="north", longitude="2.35")
    assert learner.status == 422
    assert learner.error == "This place could not be read. Please try again."


async def test_media_in_the_middle_of_a_quiz_keeps_the_quiz(client) -> None:  # type: ignore[no-untyped-def]
    learner = await in_the_quiz(client)
    said = await learner.sends("voice", OGG)
    assert said == ["Thank you! I cannot use this here.", "Which is a colour?"]
    said = await learner.sends("location", latitude="48.85", longitude="2.35")
    assert said[-1] == "Which is a colour?"


async def test_a_message_in_the_middle_of_a_quiz_gets_a_reminder(client) -> None:  # type: ignore[no-untyped-def]
    learner = await in_the_quiz(client, "fr")
    said = await learner.says("je ne sais pas")
    assert said[-1] == "Which is a colour?"
    assert said[0] != "Please answer with a button, or type a number from 1 to 3."
    assert "1" in said[0] and "3" in said[0]


async def test_empty_text_gets_a_clear_reply(client) -> None:  # type: ignore[no-untyped-def]
    learner = await in_the_quiz(client)
    assert (await learner.says(""))[0] == "Your message was empty."


async def test_unknown_and_stale_buttons_are_explained(client) -> None:  # type: ignore[no-untyped-def]
    learner = await in_the_quiz(client)
    said = texts = await learner.post(json={"button": "ans:first-steps/colour/99"})
    assert said[0]["text"] == "This button is from an earlier message."
    texts = await learner.post(json={"button": "drop table learners"})
    assert texts[0]["text"] == "This button does not work any more."
    assert texts[-1]["text"] == "Which is a colour?"


async def test_malformed_requests_get_a_clear_error(client) -> None:  # type: ignore[no-untyped-def]
    learner = await in_the_quiz(client)
    for body in ({"data": "not json"}, {"json": [1, 2]}, {"json": {"text": 5}}):
        await learner.post(**body)
        assert learner.status == 400
        assert learner.error == "I could not read this message. Please try again."
    response = await client.get(learner.url, params={"after": "yesterday"})
    assert response.status == 400
    response = await client.post("/api/webchat/x", json={"text": "hi"})
    assert response.status == 404


async def test_errors_speak_the_learners_language(client) -> None:  # type: ignore[no-untyped-def]
    learner = await in_the_quiz(client, "ar")
    await learner.sends("photo", b"just some notes\n")
    assert learner.status == 422
    assert learner.error and learner.error != "This file is not a photo. Please choose a picture."
    assert all(m["direction"] == "rtl" and m["lang"] == "ar" for m in learner.last)


async def test_a_retried_post_with_the_same_key_is_answered_once(client) -> None:  # type: ignore[no-untyped-def]
    learner = await in_the_quiz(client)
    first = await learner.post(json={"text": "2", "key": "same-key"})
    again = await learner.post(json={"text": "2", "key": "same-key"})
    assert [m["id"] for m in again] == [m["id"] for m in first]
    assert [m["text"] for m in first] == ["Yes!", "Which is an animal?"]
