"""Checks on what a learner uploads in the web chat: size and what the file really is."""

from __future__ import annotations

from aiohttp import BodyPartReader

from bot.core.events import InboundKind
from bot.core.text import N_, Msg
from bot.web.bodies import Refused, within


class UploadRefused(Refused):
    """An upload the coach will not take, with the reason to show the learner."""

    def __init__(self, reason: Msg, status: int = 422) -> None:
        super().__init__(reason, status)


_IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")
_AUDIO_SIGNATURES = (b"OggS", b"ID3", b"\x1a\x45\xdf\xa3", b"#!AMR", b"fLaC")


def looks_like_image(head: bytes) -> bool:
    if head.startswith(_IMAGE_SIGNATURES):
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return True
    return head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"avif")


def looks_like_audio(head: bytes) -> bool:
    if head.startswith(_AUDIO_SIGNATURES):
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return True
    if head[4:8] == b"ftyp":  # M4A, 3GP: what phones record voice notes in
        return True
    return len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0  # an MP3 frame


async def read_limited(part: BodyPartReader, limit: int, idle: float) -> bytes:
    """Read a file part up to ``limit`` bytes (the caller keeps it only for a volunteer)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await within(idle, part.read_chunk(64 * 1024)):
        size += len(chunk)
        if size > limit:
            too_big = N_(
                "This file is too big. Please send a file under {limit} MB.", limit=limit // 2**20
            )
            raise UploadRefused(too_big, 413)
        chunks.append(chunk)
    return b"".join(chunks)


def check_file(kind: InboundKind, head: bytes, size: int) -> None:
    """Refuse an empty file, or a file that is not what the learner said it is."""
    if size == 0:
        raise UploadRefused(N_("This file is empty. Please try again."))
    if kind is InboundKind.PHOTO and not looks_like_image(head):
        raise UploadRefused(N_("This file is not a photo. Please choose a picture."))
    if kind is InboundKind.VOICE and not looks_like_audio(head):
        raise UploadRefused(N_("This file is not a voice note. Please record or choose a sound."))


def parse_coordinate(raw: str | None, bound: float) -> float:
    try:
        value = float(raw or "")
    except ValueError:
        value = float("nan")
    if not -bound <= value <= bound:
        raise UploadRefused(N_("This place could not be read. Please try again."))
    return value
