"""``/data``: the counting rule and the answer, in the pure core."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.core import payloads
from bot.core.data_cost import Transfer
from bot.core.data_use import (
    DATA_WORDS,
    DataUse,
    Sent,
    Traffic,
    asks_data_use,
    data_use,
    data_use_reply,
    is_data_word,
    sent_file,
    words,
)
from bot.core.events import Sender
from bot.core.rules import Rules
from bot.core.state import LearnerState, LearnerStatus
from bot.core.turn import step
from bot.course.model import Media, MediaKind
from bot.i18n import Catalogs, data_size
from tests.builders import LANGUAGES, command, text
from tests.core_journey import ENGLISH, CoreJourney

PICTURE = Media(MediaKind.IMAGE, "media/buttons.png", 20_000)
PUSH = Transfer(message_bytes=500, media_overhead=500)
PULL = Transfer(message_bytes=1500, media_overhead=400)
LOCALES = Path(__file__).resolve().parent.parent / "locales"


def said(used: DataUse | None, state: LearnerState | None = None, **how: object) -> list[str]:
    reply = data_use_reply(
        state or LearnerState(language="en"),
        used,
        how.get("transfer", PUSH),  # type: ignore[arg-type]
        bool(how.get("group", False)),
    )
    return [ENGLISH.render(part, "en") for part in reply.parts]


def test_on_a_push_channel_every_message_both_ways_carries_the_protocol() -> None:
    traffic = Traffic(sent=(Sent(3, 120), Sent(1, 40, PICTURE)), received=5)
    used = data_use(traffic, PUSH, pull=False)
    assert used.messages == 9
    assert used.message_bytes == 160 + 500 * 9
    assert (used.files, used.file_bytes) == (1, 20_000 + 500)
    assert used.total == used.message_bytes + used.file_bytes


def test_on_the_web_chat_one_exchange_carries_the_tap_up_and_the_answers_down() -> None:
    traffic = Traffic(sent=(Sent(7, 900), Sent(2, 80, PICTURE)), received=4)
    used = data_use(traffic, PULL, pull=True)
    assert used.messages == 13
    assert used.message_bytes == 980 + 1500 * 4
    assert (used.files, used.file_bytes) == (2, 2 * (20_000 + 400))


def test_a_file_is_counted_at_the_size_the_channel_keeps() -> None:
    kept = replace(PUSH, kept={PICTURE.path: (PICTURE.size, 6_000)})
    used = data_use(Traffic(sent=(Sent(1, 0, PICTURE),)), kept, pull=False)
    assert used.file_bytes == 6_000 + 500


def test_a_file_the_channel_does_not_download_is_no_file() -> None:
    links = replace(PUSH, sends=frozenset())
    used = data_use(Traffic(sent=(Sent(2, 50, PICTURE),)), links, pull=False)
    assert (used.messages, used.files, used.file_bytes) == (2, 0, 0)
    assert used.message_bytes == 50 + 2 * 500


def test_only_lesson_files_of_known_size_become_files() -> None:
    assert sent_file("image", "media/a.png", 10) == Media(MediaKind.IMAGE, "media/a.png", 10)
    assert sent_file("audio", "media/a.ogg", 10) == Media(MediaKind.AUDIO, "media/a.ogg", 10)
    assert sent_file("copy", None, None) is None  # a volunteer's copied photo: size unknown
    assert sent_file("image", "media/a.png", None) is None
    assert sent_file(None, None, None) is None


def test_words_are_the_utf8_bytes_of_text_labels_and_description() -> None:
    assert words("Hello") == 5
    assert words("Привет", ["1. Да"]) == 12 + 7
    assert words("", [], "تم") == 4


def test_nothing_this_week_is_said_plainly() -> None:
    lines = said(DataUse())
    assert lines[0] == (
        "In the last 7 days we sent each other no messages: I used none of your data."
    )
    assert said(None)[0] == lines[0]


def test_the_figure_names_messages_and_pictures_with_their_sizes() -> None:
    used = DataUse(messages=23, message_bytes=30_400, files=3, file_bytes=52_300)
    lines = said(used)
    assert lines[0] == (
        "In the last 7 days our messages used about 83 kB of your data: "
        "23 messages (31 kB) and 3 pictures (53 kB)."
    )
    assert lines[1] == "Pictures are on: “Save data: no pictures” leaves them out."


def test_without_pictures_only_messages_are_named() -> None:
    used = DataUse(messages=1, message_bytes=1_200)
    assert (
        said(used)[0] == "In the last 7 days our messages used about 2 kB of your data: 1 message."
    )


def test_the_answer_offers_the_data_saving_button_as_the_menu_does() -> None:
    on = data_use_reply(LearnerState(language="en"), DataUse(), PUSH, False)
    assert [c.payload for c in on.choices] == [payloads.TEXT_ONLY, payloads.MENU]
    assert ENGLISH.render(on.choices[0].label, "en") == "Save data: no pictures"
    saving = LearnerState(language="en", text_only=True)
    assert said(DataUse(), saving)[1] == (
        "Pictures are off to save data: “Pictures on” shows them again."
    )
    off = data_use_reply(saving, DataUse(), PUSH, False)
    assert ENGLISH.render(off.choices[0].label, "en") == "Pictures on"


def test_a_channel_that_sends_no_files_says_nothing_of_pictures() -> None:
    no_files = replace(PUSH, sends=frozenset())
    reply = data_use_reply(LearnerState(language="en"), DataUse(), no_files, False)
    assert len(reply.parts) == 1
    assert [c.payload for c in reply.choices] == [payloads.MENU]


def test_in_a_group_no_ones_own_figure_is_told() -> None:
    lines = said(DataUse(messages=5, message_bytes=9_000), group=True)
    assert lines == [
        "In a group every message reaches every member's phone, "
        "so I cannot count your own data here."
    ]


def test_the_data_command_and_words_ask_for_the_figure() -> None:
    rules = Rules(LANGUAGES, data_words={"en": frozenset({"data used", "how much data"})})
    assert asks_data_use(command("data"), "en", rules)
    assert not asks_data_use(command("mydata"), "en", rules)
    assert asks_data_use(text("How much data?"), "en", rules)
    assert is_data_word(" data used! ", None, rules)
    assert not is_data_word("how much data is a video?", "en", rules)
    group = Sender("telegram", "-5", "7", group=True)
    assert not asks_data_use(text("how much data", who=group), "en", rules)  # group talk


def test_the_data_words_are_a_catalog_entry() -> None:
    assert DATA_WORDS.msgid.split(", ") == ["data used", "how much data"]


def test_a_learner_asks_with_the_command_or_the_words_of_their_language() -> None:
    rules = Rules(
        LANGUAGES,
        data_words={
            "en": frozenset({"data used"}),
            "fr": frozenset({"data used", "données utilisées"}),
        },
    )
    journey = CoreJourney(rules=rules, state=LearnerState(language="fr"))
    texts = journey.send(command("data"))
    assert texts[0].startswith("In the last 7 days we sent each other no messages")
    assert journey.buttons() == ["Save data: no pictures", "Back to the menu"]
    assert journey.send(text("Données utilisées"))[0] == texts[0]
    # The "1" typed next picks the offered button: data saving goes on.
    journey.send(text("1"))
    assert journey.state.text_only


def test_a_figure_handed_to_step_is_the_one_said() -> None:
    journey = CoreJourney(state=LearnerState(language="en"))
    used = DataUse(messages=4, message_bytes=2_400, files=1, file_bytes=9_100)
    journey.state, journey.effects = step(
        journey.state, command("data"), journey.course, journey.now, journey.rules, data_use=used
    )
    assert journey.texts()[0].startswith(
        "In the last 7 days our messages used about 12 kB of your data: "
        "4 messages (3 kB) and 1 picture (10 kB)."
    )


def test_a_stopped_learner_is_told_how_to_come_back() -> None:
    stopped = LearnerState(language="en", status=LearnerStatus.STOPPED)
    journey = CoreJourney(state=stopped)
    assert journey.send(command("data")) == ["You stopped the coach. Send /start to begin again."]


def test_sizes_follow_the_learners_locale() -> None:
    french = Catalogs(LOCALES, ["en", "fr"], "en")
    used = DataUse(messages=2, message_bytes=1_500_000, files=1, file_bytes=2_000)
    reply = data_use_reply(LearnerState(language="fr"), used, PUSH, False)
    rendered = french.render(reply.parts[0], "fr")
    assert data_size(1_502_000, "fr") in rendered and "1,5" in data_size(1_502_000, "fr")
    # The sentence is the French catalog's once it has one (else the English source).
    template = french.translator("fr", "messages").gettext(
        "In the last 7 days our messages used about {total} of your data: "
        "{messages} ({text}) and {files} ({media})."
    )
    assert rendered.startswith(template.split("{")[0])
