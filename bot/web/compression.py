"""Text responses above a few hundred bytes travel gzipped (the standard library's zlib)."""

from __future__ import annotations

import gzip
from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web
from aiohttp.web import ContentCoding

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MIN_BYTES = 256
TEXT_TYPES = (
    "text/",
    "application/json",
    "application/manifest+json",
    "application/javascript",
    "image/svg+xml",
)


def compressible(content_type: str) -> bool:
    return content_type.startswith(TEXT_TYPES) and content_type != "text/event-stream"


def accepts_gzip(request: web.BaseRequest) -> bool:
    codings = request.headers.get(hdrs.ACCEPT_ENCODING, "").lower()
    return any(
        part.split(";")[0].strip() == "gzip" and "q=0" not in part.replace(" ", "").split(";")[1:]
        for part in codings.split(",")
    )


def gzipped(body: bytes) -> bytes:
    """The smallest gzip of ``body``, the same bytes each time (no time stamp)."""
    return gzip.compress(body, compresslevel=9, mtime=0)


@web.middleware
async def compress(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Gzip what a handler answered whole (files kept gzipped already say so themselves)."""
    response = await handler(request)
    if (
        type(response) is web.Response
        and isinstance(response.body, bytes)
        and len(response.body) >= MIN_BYTES
        and compressible(response.content_type)
        and hdrs.CONTENT_ENCODING not in response.headers
    ):
        vary(response)
        if accepts_gzip(request):
            response.enable_compression(ContentCoding.gzip)
    return response


def vary(response: web.StreamResponse) -> None:
    """Add ``Accept-Encoding`` to ``Vary``, keeping what is there."""
    present = [v.strip() for v in response.headers.get(hdrs.VARY, "").split(",") if v.strip()]
    if "accept-encoding" not in {v.lower() for v in present}:
        response.headers[hdrs.VARY] = ", ".join([*present, "Accept-Encoding"])
