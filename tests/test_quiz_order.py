"""Quiz options come in an order of each learner's own, so the place does not give the answer."""

from __future__ import annotations

from datetime import timedelta

from bot.core.effects import Reply
from bot.core.reminders import nudge_turn
from bot.core.state import LearnerState
from tests.builders import button, command, text
from tests.core_journey import ENGLISH, CoreJourney
from tests.web_learner import WebLearner


def at_the_colour_quiz(seed: int) -> CoreJourney:
    journey = CoreJourney(state=LearnerState(seed=seed))
    journey.send(command("start"))
    journey.send(button("lang:en"))
    journey.send(button("les:first"))
    journey.send(button("next:first/hello"))
    return journey


def test_twenty_learners_do_not_all_find_the_right_answer_in_the_same_place() -> None:
    places = {at_the_colour_quiz(seed).buttons().index("Blue") for seed in range(1, 21)}
    assert len(places) > 1


def test_a_typed_number_picks_the_option_this_learner_saw_there() -> None:
    for seed in range(1, 21):
        journey = at_the_colour_quiz(seed)
        shown = journey.buttons()
        for number, label in enumerate(shown, 1):
            if label == "Blue":
                continue
            said = journey.send(text(str(number)))
            assert said == [f"Which is a colour?\n❌ {label}\nNot quite.\nTry again."]
        said = journey.send(text(str(shown.index("Blue") + 1)))
        assert said == ["Yes!", "Send a photo."]


def test_the_same_learner_sees_the_same_order_again_and_in_the_review() -> None:
    journey = at_the_colour_quiz(seed=7)
    shown = journey.buttons()
    assert sorted(shown) == ["Blue", "Run", "Table"]
    assert at_the_colour_quiz(seed=7).buttons() == shown
    wrong = next(label for label in shown if label != "Blue")
    journey.send(button(journey.payload_for(wrong)))
    assert journey.buttons() == shown  # asked again after a wrong answer
    journey.send(text("hello"))
    assert journey.buttons() == shown  # shown again after text it did not expect

    later = journey.now + timedelta(days=1)
    _, effects, _ = nudge_turn(journey.state, journey.course, later, journey.rules, "7")
    review = [e for e in effects if isinstance(e, Reply) and e.choices][-1]
    assert [ENGLISH.render(c.label, "en") for c in review.choices] == shown
    in_the_file = ["Table", "Blue", "Run"]  # buttons keep the option's place in the file
    expected = [f"rev:first/colour/{in_the_file.index(label)}" for label in shown]
    assert [c.payload for c in review.choices] == expected


async def test_web_chat_learners_each_have_their_order_and_their_numbers(client) -> None:  # type: ignore[no-untyped-def]
    orders = []
    for _ in range(20):
        learner = WebLearner(client)
        await learner.says("/start")
        await learner.taps("English")
        await learner.taps("Basics")
        await learner.taps("First steps (2 min)")
        assert await learner.says("1") == ["Which is a colour?"]
        orders.append((learner, learner.buttons()))
    assert len({tuple(shown).index("Blue") for _, shown in orders}) > 1

    for learner, shown in orders[:5]:
        table = str(shown.index("Table") + 1)
        said = await learner.says(table)
        assert said == ["Which is a colour?\n\n❌ Table\n\nNot quite.\n\nTry again."]
        assert learner.buttons() == shown
        assert await learner.says(str(shown.index("Blue") + 1)) == ["Yes!", "Which is an animal?"]
