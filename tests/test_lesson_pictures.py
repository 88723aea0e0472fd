"""Lesson pictures for phones: the WebP made from each PNG or JPEG trainers ship, checked by
content, served to the web chat and counted there, while Telegram and WhatsApp get the
PNG or JPEG they accept."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image
from typer.testing import CliRunner

from bot.app import build
from bot.cli import app
from bot.course.loader import check_course, load_course
from bot.course.model import MessageStep
from bot.course.pictures import PHONE_WIDTH, digest, made_from, make_pictures
from bot.delivery.errors import DeliveryError
from bot.store.outbox import OutboundMessage
from bot.store.tables import MediaFile
from tests.builders import PICTURE_LESSON
from tests.conftest import ROOT, settings_for
from tests.telegram_learner import TelegramLearner, coach_on_telegram, small_course
from tests.web_learner import WebLearner
from tests.whatsapp_learner import WhatsAppLearner, coach_on_whatsapp

runner = CliRunner()
IMAGE_LINE = 7  # of basics/buttons.yaml: "id: buttons", then PICTURE_LESSON


def drawing(width: int = 240, height: int = 120, colour: str = "royalblue") -> bytes:
    """A small flat drawing, as trainers ship them."""
    picture = Image.new("RGB", (width, height), "white")
    picture.paste(Image.new("RGB", (width // 2, height // 2), colour), (width // 4, height // 4))
    found = io.BytesIO()
    picture.save(found, "PNG")
    return found.getvalue()


def picture_course(folder: Path, webp: bool = True) -> Path:
    course = small_course(folder, {"buttons": PICTURE_LESSON}, {"media/buttons.png": drawing()})
    if webp:
        make_pictures(course)
    return course


def first_step(course: Path) -> object:
    lesson = load_course(course).lesson("buttons")
    assert lesson is not None
    return lesson.steps[0]


def test_the_command_makes_each_webp_480_px_wide_recording_its_source(tmp_path: Path) -> None:
    course = picture_course(tmp_path / "curriculum", webp=False)
    result = runner.invoke(app, ["curriculum", "pictures", str(course)])
    assert result.exit_code == 0, result.output
    webp = course / "media" / "buttons.webp"
    assert result.output.splitlines() == [
        f"media/buttons.webp: made from media/buttons.png, 480 px wide, "
        f"{webp.stat().st_size:,} bytes",
        "1 made, 0 already up to date.",
    ]
    with Image.open(webp) as made:
        assert (made.format, made.size) == ("WEBP", (PHONE_WIDTH, 240))
    assert made_from(webp) == digest(course / "media" / "buttons.png")

    again = runner.invoke(app, ["curriculum", "pictures", str(course)])
    assert again.output == "0 made, 1 already up to date.\n"


def test_the_check_names_a_missing_or_outdated_webp_in_one_sentence(tmp_path: Path) -> None:
    course = picture_course(tmp_path / "curriculum", webp=False)
    where = f'curriculum/basics/buttons.yaml:{IMAGE_LINE}: step "look":'
    missing = runner.invoke(app, ["curriculum", "check", str(course)])
    assert missing.exit_code == 1
    assert missing.output.splitlines()[0] == (
        f'{where} media/buttons.webp is missing: run "coach curriculum pictures" '
        "to make it from media/buttons.png"
    )

    make_pictures(course)
    assert runner.invoke(app, ["curriculum", "check", str(course)]).exit_code == 0

    (course / "media" / "buttons.png").write_bytes(drawing(colour="crimson"))
    outdated = runner.invoke(app, ["curriculum", "check", str(course)])
    assert outdated.exit_code == 1
    assert outdated.output.splitlines()[0] == (
        f"{where} media/buttons.webp was not made from the current media/buttons.png: "
        'run "coach curriculum pictures" to make it again'
    )


def test_without_a_current_webp_the_course_loads_and_shows_the_picture_as_shipped(
    tmp_path: Path,
) -> None:
    course = picture_course(tmp_path / "curriculum", webp=False)
    look = first_step(course)
    assert isinstance(look, MessageStep) and look.media is not None
    assert look.media.sent(takes_webp=True) == ("media/buttons.png", look.media.size)

    make_pictures(course)
    look = first_step(course)
    assert isinstance(look, MessageStep) and look.media is not None
    size = (course / "media" / "buttons.webp").stat().st_size
    assert look.media.sent(takes_webp=True) == ("media/buttons.webp", size)
    assert look.media.sent(takes_webp=False) == ("media/buttons.png", look.media.size)


def test_a_webp_named_as_a_lessons_picture_is_refused_for_its_source(tmp_path: Path) -> None:
    course = picture_course(tmp_path / "curriculum")
    lesson = course / "basics" / "buttons.yaml"
    lesson.write_text(lesson.read_text().replace("buttons.png", "buttons.webp"))
    result = runner.invoke(app, ["curriculum", "check", str(course)])
    assert result.exit_code == 1
    assert (
        '"image" names the PNG or JPEG the picture is made from, not media/buttons.webp'
        in result.output
    )


def test_every_shipped_picture_has_a_current_webp_sized_for_phones() -> None:
    curriculum = ROOT / "curriculum"
    assert check_course(curriculum, pictures=True)[1] == []
    pictures = {
        step.media
        for lesson in load_course(curriculum).lessons
        for step in lesson.steps
        if isinstance(step, MessageStep) and step.media is not None
    }
    names = ("buttons", "photo-tips", "scam-sms", "wifi-vs-data")
    assert {media.path for media in pictures} == {f"media/{name}.png" for name in names}
    for media in pictures:
        path, size = media.sent(takes_webp=True)
        assert path.endswith(".webp") and size == (curriculum / path).stat().st_size
        with Image.open(curriculum / path) as shown:
            assert shown.width == PHONE_WIDTH


async def test_the_web_chat_shows_the_webp_counts_it_and_serves_it_like_other_media(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    course = picture_course(tmp_path / "curriculum")
    coach = build(settings_for(database_url, course))
    try:
        async with TestClient(TestServer(coach.web)) as client:
            learner = WebLearner(client)
            await learner.says("hello")
            await learner.taps("English")
            await learner.taps("Basics")
            [cost] = await learner.taps("Buttons (1 min)")
            webp = (course / "media" / "buttons.webp").stat().st_size
            texts = len(b"Buttons are under my message.You saw a picture.") + 2 * 1500
            assert cost.endswith(
                f"This lesson: about {-(-texts // 1000)} kB (text) + "
                f"{-(-(webp + 400) // 1000)} kB (1 picture)."
            )
            await learner.taps("▶️ Start")
            media: Any = learner.last[-1]["media"]
            assert media["url"] == "/curriculum/media/buttons.webp"
            # A phone that shows no WebP (iOS before 14) takes the shipped file instead.
            assert media["fallback"] == "/curriculum/media/buttons.png"

            picture = await client.get(media["url"])
            shipped = await client.get("/curriculum/media/buttons.png")
            assert picture.status == shipped.status == 200
            assert picture.content_type == "image/webp"
            assert await picture.read() == (course / "media" / "buttons.webp").read_bytes()
            assert picture.headers["Cache-Control"] == shipped.headers["Cache-Control"]
            assert picture.headers["Cache-Control"] == "public, max-age=86400"
            again = await client.get(
                media["url"], headers={"If-None-Match": picture.headers["ETag"]}
            )
            assert again.status == 304
    finally:
        await coach.store.close()


async def test_telegram_gets_the_png_and_keeps_its_id_by_the_png(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    course = picture_course(tmp_path / "curriculum")
    async with coach_on_telegram(database_url, curriculum=course) as (coach, tg):
        learner = TelegramLearner(coach, tg, tg.user(1001, "Amina"))
        await learner.says("/start")
        await learner.taps("English")
        await learner.taps("Basics")
        await learner.taps("Buttons (1 min)")
        await learner.taps("▶️ Start")
        sent = learner.last[-1]
        assert (sent.kind, sent.source) == ("photo", "upload")
        assert sent.file_id is not None
        assert tg.files[sent.file_id].data == (course / "media" / "buttons.png").read_bytes()
        async with coach.store.reading() as uow:
            row = await uow.session.get(MediaFile, ("telegram", "media/buttons.png"))
        assert row is not None and row.size == (course / "media" / "buttons.png").stat().st_size


async def test_whatsapp_gets_the_png_it_accepts_as_an_image(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    course = picture_course(tmp_path / "curriculum")
    async with coach_on_whatsapp(database_url, curriculum=course) as (coach, graph):
        learner = WhatsAppLearner(coach, graph, "33600000001", "Someone")
        await learner.says("hello")
        await learner.taps("English")
        await learner.taps("Basics")
        await learner.taps("Buttons (1 min)")
        said = await learner.taps("▶️ Start")
        assert said[-1] == "Buttons are under my message.\n\n1. Next ➡️"
        media_id = learner.last[-2].media_id
        assert media_id is not None
        assert graph.uploads[media_id] == (course / "media" / "buttons.png").read_bytes()
        assert graph.upload_types[media_id] == "image/png"


async def test_the_fake_graph_api_like_meta_shows_no_webp_as_an_image(
    database_url: str, engine: object, tmp_path: Path
) -> None:
    """What keeps the WhatsApp test above honest: a WebP sent as an image is refused."""
    course = picture_course(tmp_path / "curriculum")
    async with coach_on_whatsapp(database_url, curriculum=course) as (coach, graph):
        delivery = coach.channels["whatsapp"].delivery
        assert delivery is not None
        await WhatsAppLearner(coach, graph, "33600000001", "Someone").says("hello")
        webp = course / "media" / "buttons.webp"
        media = {"kind": "image", "path": "media/buttons.webp", "size": webp.stat().st_size}
        picture = OutboundMessage(1, "whatsapp", "33600000001", "A cup.", (), media, None, "en")
        with pytest.raises(DeliveryError):
            await delivery.deliver(picture)
        [uploaded] = graph.upload_types.values()  # image/webp, where the system knows it
        assert uploaded not in ("image/jpeg", "image/png")
