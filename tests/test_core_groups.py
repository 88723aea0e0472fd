"""In a group, a learner's buttons are theirs: anyone else who presses them is told so."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.core.effects import HandoffAction
from bot.core.events import Inbound, InboundKind, Sender
from bot.core.groups import foreign_buttons
from bot.core.rules import HandoffRules, Rules
from bot.core.state import HelpRequest, RequestStatus
from bot.core.text import Msg
from bot.core.turn import step
from tests.builders import LANGUAGES, button, command, media, sender, text
from tests.core_journey import ENGLISH, CoreJourney


def in_group(user: str) -> Sender:
    return replace(sender(user), chat_id="-100", group=True)


def with_argument(event: Inbound, argument: str) -> Inbound:
    return replace(event, text=f"{event.text} {argument}", argument=argument)


def said(notice: Msg | None) -> str | None:
    return None if notice is None else ENGLISH.render(notice, "en")


def test_a_group_button_pressed_by_someone_else_is_refused_with_the_owners_name() -> None:
    press = button("next:first/hello", in_group("u2"))
    notice = foreign_buttons(press, ("u1", "Amina"))
    assert said(notice) == "These buttons are for Amina. Send /start to begin your own lessons."


def test_the_owner_and_private_chats_and_typed_text_are_never_refused() -> None:
    assert foreign_buttons(button("menu", in_group("u1")), ("u1", "Amina")) is None
    assert foreign_buttons(button("menu", sender("u2")), ("u1", "Amina")) is None
    assert foreign_buttons(text("1", in_group("u2")), ("u1", "Amina")) is None
    assert foreign_buttons(button("menu", in_group("u2")), None) is None


LINK = "https://t.me/coach_test_bot?start=help"
PRIVATELY = f"To ask for a person, write to me in a private chat: {LINK}"


@dataclass
class LinkedJourney(CoreJourney):
    """A learner on a channel whose private chats the coach can link to."""

    help_link: str | None = LINK

    def send(self, event: Inbound) -> list[str]:
        self.state, self.effects = step(
            self.state, event, self.course, self.now, self.rules, help_link=self.help_link
        )
        return self.texts()


HELP_WORDS = Rules(LANGUAGES, handoff=HandoffRules(help_words={"en": frozenset({"help"})}))


def in_the_group(link: str | None = LINK) -> LinkedJourney:
    journey = LinkedJourney(help_link=link, rules=HELP_WORDS)
    journey.send(command("start", in_group("u1")))
    journey.send(button("lang:en", in_group("u1")))
    return journey


def test_a_help_word_in_group_talk_starts_nothing_and_reaches_nobody() -> None:
    journey = in_the_group()
    assert journey.send(text("help", in_group("u1"))) == []
    assert journey.state.request is None
    assert not any(isinstance(e, HandoffAction) for e in journey.effects)


def test_asking_for_a_person_in_a_group_gives_the_link_to_a_private_chat() -> None:
    journey = in_the_group()
    assert journey.send(command("help", in_group("u1"))) == [PRIVATELY]
    assert journey.send(text("help", in_group("u1"), addressed=True)) == [PRIVATELY]
    journey.send(command("menu", in_group("u1")))
    assert journey.send(button(journey.payload_for("🙋 Talk to a person"), in_group("u1"))) == [
        PRIVATELY
    ]
    assert journey.state.request is None
    assert journey.buttons() == ["Back to the lessons"]
    unlinked = in_the_group(link=None)
    assert unlinked.send(command("help", in_group("u1"))) == [
        "To ask for a person, write to me in a private chat, not in the group."
    ]


def test_group_talk_never_reaches_a_volunteer_even_when_one_holds_a_request() -> None:
    journey = in_the_group()
    held = HelpRequest(RequestStatus.CLAIMED, id=3, volunteer="Nadia")
    journey.state = replace(journey.state, request=held)
    for event in (
        text("The door code is 4521", in_group("u1")),
        text("2", in_group("u1")),
        media(InboundKind.PHOTO, in_group("u1")),
        text("Coach, the door code is 4521", in_group("u1"), addressed=True),
    ):
        journey.send(event)
        assert not any(isinstance(e, HandoffAction) for e in journey.effects)


def test_the_private_link_starts_the_request_there() -> None:
    journey = LinkedJourney()
    said = journey.send(with_argument(command("start"), "help"))
    assert said[0] == "Hello! I am Coach. I help you learn to use your phone, step by step."
    assert journey.buttons() == ["English", "Français", "العربية"]
    said = journey.send(button("lang:en"))
    assert said[-1] == "A volunteer can help you. What is it about?"
    assert journey.state.request is not None and journey.state.request.step == "topic"

    known = LinkedJourney()
    known.send(command("start"))
    known.send(button("lang:en"))
    said = known.send(with_argument(command("start"), "help"))
    assert said == ["A volunteer can help you. What is it about?"]
