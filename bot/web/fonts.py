"""Fonts for the scripts a phone may lack (Ethiopic, Arabic), served from Fontsource's files.

``npm ci`` puts the packages in ``node_modules/@fontsource/``; the coach serves one woff2
file per script (the script's own subset, regular weight: bold is synthesised, which saves
a second download) and a small stylesheet whose ``unicode-range`` makes the browser fetch
the file only when a character of that script is on the page. Only the languages written
in those scripts link the stylesheet. URLs carry the package's version, so they are cached
as immutable.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

log = logging.getLogger(__name__)
IMMUTABLE = "public, max-age=31536000, immutable"
WEIGHT = 400


@dataclass(frozen=True)
class ScriptFont:
    """One Fontsource package and the subset of it that covers a script."""

    script: str
    package: str
    family: str
    languages: frozenset[str]

    @property
    def file_name(self) -> str:
        return f"{self.package}-{self.script}-{WEIGHT}-normal.woff2"


SCRIPT_FONTS = (
    ScriptFont("ethiopic", "noto-sans-ethiopic", "Noto Sans Ethiopic", frozenset({"ti"})),
    ScriptFont("arabic", "noto-sans-arabic", "Noto Sans Arabic", frozenset({"ar", "fa_AF", "ps"})),
)


@dataclass(frozen=True)
class ServedFont:
    font: ScriptFont
    version: str
    path: Path
    stylesheet: str

    @property
    def prefix(self) -> str:
        return f"/fonts/{self.version}"


class Fonts:
    """The script fonts found under ``node_modules/@fontsource``; missing ones are left out
    (the page then uses the phone's own fonts)."""

    def __init__(self, fontsource: Path) -> None:
        self.served: dict[str, ServedFont] = {}
        for font in SCRIPT_FONTS:
            served = _load(fontsource / font.package, font)
            if served is None:
                log.warning("font %s not found under %s (run npm ci)", font.package, fontsource)
            else:
                self.served[font.script] = served

    def for_language(self, code: str) -> ServedFont | None:
        return next((s for s in self.served.values() if code in s.font.languages), None)

    def stylesheet_url(self, code: str) -> str | None:
        """The stylesheet a page in this language links, if its script needs a font."""
        served = self.for_language(code)
        return f"{served.prefix}/{served.font.script}.css" if served else None

    def font_bytes(self, code: str) -> int:
        """What the font costs to download once, for a page in this language."""
        served = self.for_language(code)
        return served.path.stat().st_size if served else 0

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/fonts/{version}/{name}", self.serve)]

    async def serve(self, request: web.Request) -> web.StreamResponse:
        version, name = request.match_info["version"], request.match_info["name"]
        for served in self.served.values():
            if served.version != version:
                continue
            if name == f"{served.font.script}.css":
                return web.Response(
                    text=served.stylesheet,
                    content_type="text/css",
                    headers={"Cache-Control": IMMUTABLE},
                )
            if name == served.font.file_name:
                return web.FileResponse(
                    served.path,
                    headers={"Cache-Control": IMMUTABLE, "Content-Type": "font/woff2"},
                )
        raise web.HTTPNotFound()


def _load(package: Path, font: ScriptFont) -> ServedFont | None:
    """The package's version, its subset file and that subset's unicode-range."""
    try:
        version = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
        css = (package / f"{WEIGHT}.css").read_text(encoding="utf-8")
    except (OSError, ValueError, KeyError):
        return None
    path = package / "files" / font.file_name
    block = re.search(re.escape(font.file_name) + r"[^}]*unicode-range:\s*([^;]+);", css)
    if not path.is_file() or block is None or not re.fullmatch(r"[\w.-]+", str(version)):
        return None
    stylesheet = (
        "@font-face{"
        f"font-family:'{font.family}';font-style:normal;font-weight:{WEIGHT};"
        f"font-display:swap;src:url(/fonts/{version}/{font.file_name}) format('woff2');"
        f"unicode-range:{block.group(1).strip()}"
        "}\n"
    )
    return ServedFont(font, str(version), path, stylesheet)
