"""The data a lesson is said to cost, counted as the learner's channel moves it."""

from __future__ import annotations

from bot.core.data_cost import GENERIC, Transfer, download_bytes, media_bytes, text_bytes
from bot.course.model import Lesson, Media, MediaKind, MessageStep

PICTURE = Media(MediaKind.IMAGE, "media/wifi.png", 9_000)
SOUND = Media(MediaKind.AUDIO, "media/hello.ogg", 4_000)
LESSON = Lesson(
    id="wifi",
    module_id="basics",
    title="Wi-Fi",
    minutes=1,
    steps=(
        MessageStep("look", "Wi-Fi is free.", PICTURE),
        MessageStep("hear", "Say hello.", SOUND),
    ),
)


def test_texts_count_each_message_with_the_protocol_around_it() -> None:
    texts = len("Wi-Fi is free.") + len("Say hello.")
    assert text_bytes(LESSON, Transfer(message_bytes=300)) == texts + 2 * 300
    assert text_bytes(LESSON, GENERIC) == texts + 2 * 500


def test_each_file_counts_as_the_channel_keeps_it_with_what_comes_besides() -> None:
    kept = Transfer(media_overhead=2_000, kept={"media/wifi.png": (9_000, 30_000)})
    assert media_bytes(LESSON, kept) == (30_000 + 2_000) + (4_000 + 2_000)
    assert media_bytes(LESSON, GENERIC) == 9_000 + 4_000


def test_a_file_changed_since_the_channel_kept_it_counts_as_shipped() -> None:
    stale = Transfer(kept={"media/wifi.png": (8_500, 30_000)})  # the trainer replaced it
    assert media_bytes(LESSON, stale) == 9_000 + 4_000


def test_media_a_channel_does_not_send_as_files_cost_nothing() -> None:
    words_only = Transfer(sends=frozenset({"audio"}))
    assert media_bytes(LESSON, words_only) == 4_000
    assert download_bytes(LESSON, words_only, media=False) == text_bytes(LESSON, words_only)


def test_a_channel_that_shows_webp_counts_the_webp_made_for_phones() -> None:
    drawn = Media(MediaKind.IMAGE, "media/wifi.png", 9_000, webp="media/wifi.webp", webp_size=3_000)
    lesson = Lesson("wifi", "basics", "Wi-Fi", 1, (MessageStep("look", "Wi-Fi is free.", drawn),))
    assert media_bytes(lesson, Transfer(media_overhead=400, webp=True)) == 3_000 + 400
    assert media_bytes(lesson, Transfer(media_overhead=400)) == 9_000 + 400  # the PNG it gets


def test_the_kept_size_is_that_of_the_file_the_channel_gets() -> None:
    drawn = Media(MediaKind.IMAGE, "media/wifi.png", 9_000, webp="media/wifi.webp", webp_size=3_000)
    lesson = Lesson("wifi", "basics", "Wi-Fi", 1, (MessageStep("look", "Wi-Fi is free.", drawn),))
    kept = {"media/wifi.png": (9_000, 20_000)}  # Telegram re-encoded the PNG it was sent
    assert media_bytes(lesson, Transfer(kept=kept)) == 20_000
    assert media_bytes(lesson, Transfer(kept=kept, webp=True)) == 3_000
