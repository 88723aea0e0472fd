"""The page's own files, kept in memory with their gzip form, named by their content.

``/static/chat.js?v=<hash>`` is the file as it is now, cached for a year as immutable; a
new version has a new address. ``/static/chat.js`` without the hash, and the service worker
at ``/sw.js``, are checked each time (``no-cache``, with an ETag, so usually a 304).
A file may name another by ``{{url:name}}`` (the manifest its icon, the service worker the
page's shell), so the addresses it holds change when those files do.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from aiohttp import hdrs, web

from bot.web.compression import MIN_BYTES, accepts_gzip, compressible, gzipped, vary

IMMUTABLE = "public, max-age=31536000, immutable"
CHECK_EACH_TIME = "no-cache"
TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
}
URL_MARK = re.compile(r"\{\{url:([\w.-]+)\}\}")
SERVICE_WORKER = "sw.js"
SHELL = ("chat.css", "chat.js")


@dataclass(frozen=True)
class StaticFile:
    name: str
    content_type: str
    body: bytes
    gzipped: bytes | None
    version: str

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


class StaticFiles:
    """Every file of one folder with a known type; templates with ``{{url:…}}`` last."""

    def __init__(self, folder: Path) -> None:
        self.files: dict[str, StaticFile] = {}
        self._worker = ""
        paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in TYPES)
        marked = [p for p in paths if b"{{url:" in p.read_bytes()]
        for path in [p for p in paths if p not in marked] + marked:
            if path.name == SERVICE_WORKER:
                self._worker = path.read_text(encoding="utf-8")
            else:
                self._add(path.name, path.read_text(encoding="utf-8"), TYPES[path.suffix])

    def seal(self, page_version: str) -> None:
        """Add the service worker, which names the shell's files and the page's version, so
        that it changes (and the phones' copies of the shell with it) when any of them does."""
        shell = ", ".join(f"'{self.url(n)}'" for n in SHELL if n in self.files)
        text = self._worker.replace("{{shell}}", shell).replace("{{version}}", page_version)
        self._add(SERVICE_WORKER, text, TYPES[".js"])

    def _add(self, name: str, text: str, content_type: str) -> None:
        text = URL_MARK.sub(lambda mark: self.url(mark.group(1)), text)
        if content_type == "text/javascript":
            text = compact_script(text)
        body = text.encode()
        version = hashlib.sha256(body).hexdigest()[:12]
        small = gzipped(body) if len(body) >= MIN_BYTES and compressible(content_type) else None
        self.files[name] = StaticFile(name, content_type, body, small, version)

    def url(self, name: str) -> str:
        return f"/static/{name}?v={self.files[name].version}"

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/sw.js", self.service_worker)]

    async def service_worker(self, request: web.Request) -> web.Response:
        found = self.files.get(SERVICE_WORKER)
        if found is None:
            raise web.HTTPNotFound()
        return self.respond(request, found, CHECK_EACH_TIME)

    def serve(self, request: web.Request, name: str) -> web.Response | None:
        """The file by its plain name, or None; immutable when asked with its hash."""
        found = self.files.get(name)
        if found is None or name == SERVICE_WORKER:
            return None
        cache = IMMUTABLE if request.query.get("v") == found.version else CHECK_EACH_TIME
        return self.respond(request, found, cache)

    @staticmethod
    def respond(request: web.Request, found: StaticFile, cache: str) -> web.Response:
        headers = {hdrs.CACHE_CONTROL: cache, hdrs.ETAG: found.etag}
        if found.etag in request.headers.get(hdrs.IF_NONE_MATCH, ""):
            response = web.Response(status=304, headers=headers)
        elif found.gzipped is not None and accepts_gzip(request):
            response = web.Response(
                body=found.gzipped,
                content_type=found.content_type,
                charset="utf-8",
                headers={**headers, hdrs.CONTENT_ENCODING: "gzip"},
            )
        else:
            response = web.Response(
                body=found.body, content_type=found.content_type, charset="utf-8", headers=headers
            )
        if found.gzipped is not None:
            vary(response)
        return response


def compact_script(text: str) -> str:
    """The script without indentation, blank lines and comments on lines of their own
    (a sixth less after gzip). Line breaks stay, so the code means the same; a script
    with template literals or continued strings, where that would not hold, is kept as is."""
    if "`" in text or re.search(r"\\\n", text):
        return text
    kept: list[str] = []
    in_comment = False
    for line in text.split("\n"):
        stripped = line.strip()
        if in_comment:
            if "*/" in stripped and not stripped.endswith("*/"):
                return text
            in_comment = "*/" not in stripped
            continue
        if stripped.startswith("/*") and "*/" not in stripped:
            in_comment = True
        elif (
            stripped
            and not stripped.startswith("//")
            and not (
                stripped.startswith("/*") and stripped.endswith("*/") and stripped.count("*/") == 1
            )
        ):
            kept.append(stripped)
    return "\n".join(kept) + "\n"
