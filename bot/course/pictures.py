"""Lesson pictures sized for phones: beside each PNG or JPEG trainers put in the media
folder, a WebP made from it, 480 pixels wide, that the web chat shows instead.

The WebP is a file in the curriculum like the others (made by ``coach curriculum pictures``,
committed with its source), so a coach needs no image library to serve it and starts the
same everywhere. It records a digest of the source it was made from, so a WebP left behind
by an edit of its source is known by content, whatever the files' dates (a clone or a copy
changes them): the web chat then shows the source itself until the WebP is made again.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

PHONE_WIDTH = 480  # twice the width a chat bubble shows it at: sharp when enlarged
QUALITY = 80  # lossy: 2.2-3.1 kB for the shipped drawings, against 3.1-11.4 kB lossless
SOURCES = (".png", ".jpg", ".jpeg")
COMMAND = "coach curriculum pictures"
_MARK = b"coach-source sha256="
_MARKED = re.compile(re.escape(_MARK) + rb"([0-9a-f]{32})")
_DESCRIPTION = 0x010E  # the EXIF tag ImageDescription


def webp_of(source: PurePosixPath) -> PurePosixPath:
    return source.with_suffix(".webp")


def digest(source: Path) -> str:
    return hashlib.sha256(source.read_bytes()).hexdigest()[:32]


def made_from(webp: Path) -> str | None:
    """The digest of the source a WebP was made from (its EXIF chunk holds it); None when
    the file is missing, is no WebP, or was not made by the coach."""
    try:
        data = webp.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    at = 12
    while at + 8 <= len(data):
        name, size = data[at : at + 4], int.from_bytes(data[at + 4 : at + 8], "little")
        if name == b"EXIF":
            found = _MARKED.search(data[at + 8 : at + 8 + size])
            return found[1].decode() if found else None
        at += 8 + size + (size & 1)  # chunks are padded to an even size
    return None


def webp_problem(root: Path, source: PurePosixPath) -> str | None:
    """Why the web chat cannot show the WebP of ``source`` (a path inside ``root``), in one
    sentence that names the file and says what to run; None when the WebP is up to date."""
    webp = webp_of(source)
    found = made_from(root / webp)
    if found == digest(root / source):
        return None
    if found is None and not (root / webp).is_file():
        return f'{webp} is missing: run "{COMMAND}" to make it from {source}'
    return f'{webp} was not made from the current {source}: run "{COMMAND}" to make it again'


@dataclass(frozen=True)
class Made:
    """One WebP the command wrote, or one it could not."""

    source: PurePosixPath
    webp: PurePosixPath
    size: int = 0
    error: str | None = None


def make_pictures(root: Path) -> tuple[list[Made], int]:
    """Make the WebP of every PNG and JPEG under ``root``/media that has none or an old one:
    what was made (or refused), and how many were already up to date."""
    made: list[Made] = []
    current = 0
    sources = sorted(
        path
        for path in (root / "media").rglob("*")
        if path.suffix.lower() in SOURCES and path.is_file() and not path.name.startswith(".")
    )
    owners: dict[Path, Path] = {}
    for source in sources:
        relative = PurePosixPath(source.relative_to(root).as_posix())
        webp = source.with_suffix(".webp")
        if (other := owners.setdefault(webp, source)) != source:
            clash = f"{relative} and {other.relative_to(root).as_posix()} would both make it"
            made.append(Made(relative, webp_of(relative), error=f"{clash}: rename one"))
            continue
        if webp_problem(root, relative) is None:
            current += 1
            continue
        try:
            size = make_webp(source, webp)
        except OSError as error:  # Pillow cannot read it: not really a PNG or JPEG
            made.append(Made(relative, webp_of(relative), error=f"cannot be read ({error})"))
        else:
            made.append(Made(relative, webp_of(relative), size))
    return made, current


def make_webp(source: Path, webp: Path) -> int:
    """Write the WebP of one picture, 480 pixels wide (a smaller drawing is enlarged with a
    Lanczos filter, a photo reduced), and return its size. Written beside and then renamed,
    so a running coach never reads half a file."""
    from PIL import Image, ImageOps

    with Image.open(source) as opened:
        picture = ImageOps.exif_transpose(opened)  # a phone's photo, the right way up
        transparent = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
        picture = picture.convert("RGBA" if transparent else "RGB")
        height = max(1, round(picture.height * PHONE_WIDTH / picture.width))
        picture = picture.resize((PHONE_WIDTH, height), Image.Resampling.LANCZOS)
    exif = Image.Exif()
    exif[_DESCRIPTION] = (_MARK + digest(source).encode()).decode()
    partial = webp.with_name(f".{webp.name}.partial")
    picture.save(partial, "WEBP", quality=QUALITY, method=6, exif=exif.tobytes())
    os.replace(partial, webp)
    return webp.stat().st_size
