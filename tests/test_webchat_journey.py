"""A learner takes a whole lesson through the web chat's JSON API, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.web_learner import PNG, WebLearner


async def test_a_learner_takes_a_whole_lesson_in_the_web_chat(client) -> None:  # type: ignore[no-untyped-def]
    learner = WebLearner(client, language="fr-FR,fr;q=0.9")
    said = await learner.says("/start")
    assert said[0].startswith("Hello! I am Coach") or said[0].startswith("Bonjour")
    assert learner.buttons() == ["English", "Français", "العربية"]

    await learner.taps("English")
    assert learner.buttons() == [
        "Basics",
        "My progress",
        "🙋 Talk to a person",
        "Language",
        "Save data: no pictures",
    ]
    await learner.taps("Basics")
    said = await learner.taps("First steps (2 min)")
    # Five steps, each a tap up and a reply down with their HTTP headers: about 1.5 kB each.
    assert said == ["📘 First steps — about 2 min. Download: 8 kB.", "Hello there."]

    assert await learner.says("1") == ["Which is a colour?"]
    shown = learner.buttons()  # in this learner's own order
    assert sorted(shown) == ["Blue", "Run", "Table"]
    said = await learner.taps("Table")
    assert said == ["Which is a colour?\n\n❌ Table\n\nNot quite.\n\nTry again."]
    assert learner.buttons() == shown
    assert await learner.taps("Blue") == ["Yes!", "Which is an animal?"]
    cat = str(learner.buttons().index("Cat") + 1)
    assert await learner.says(cat) == ["Right, a cat.", "Send a photo of a cup."]

    assert await learner.sends("photo", PNG) == [
        "Nice photo!",
        "You answered a quiz and sent a photo.",
    ]
    said = await learner.taps("Finish the lesson ✅")
    assert said[0].startswith("🎉 Well done! You finished “First steps”.")
    assert "Right at the first try: 1 of 2." in said[0]
    assert learner.buttons() == ["Next lesson: Replies", "🙋 Talk to a person", "Back to the menu"]

    said = await learner.says("/progress")
    assert said == ["Lessons done: 1 of 2\n\n▓▓▓▓▓░░░░░ 50%\n\nStreak: 1 day in a row"]


async def test_a_reply_to_the_given_message_completes_a_reply_task(client) -> None:  # type: ignore[no-untyped-def]
    learner = WebLearner(client)
    await learner.says("/start")
    await learner.taps("English")
    await learner.taps("Basics")
    await learner.taps("Replies (1 min)")
    target = learner.last[-1]
    assert target["text"] == "Reply to me"
    assert await learner.says("hello") == ["Tap Reply under my message."]
    assert await learner.says("hello", reply_to=target["id"]) == ["Good.", "Did you reply?"]


async def test_everything_sent_can_be_fetched_again_after_an_id(client) -> None:  # type: ignore[no-untyped-def]
    learner = WebLearner(client)
    first = await learner.post(json={"text": "/start"})
    await learner.taps("English")
    fetched = await learner.fetch(after=first[-1]["id"])
    assert [m["text"] for m in fetched] == [m["text"] for m in learner.last]
    assert all(m["direction"] == "ltr" and m["lang"] == "en" for m in fetched)
