"""A stream's body cut into lines, each within a bound: a longer line is dropped unread."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp

CHUNK = 64 * 1024


async def bounded_lines(body: aiohttp.StreamReader, most: int) -> AsyncIterator[bytes | None]:
    """Each complete line without its end; None for a line longer than ``most`` bytes, whose
    bytes are read past without being kept. A last line cut off by the end is not given."""
    kept = bytearray()
    too_long = False
    while True:
        chunk = await body.readany()
        if not chunk:
            return
        start = 0
        while start < len(chunk):
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            if not too_long:
                kept += piece
                too_long = len(kept) > most
                if too_long:
                    kept.clear()
            if end < 0:
                break
            yield None if too_long else bytes(kept)
            kept.clear()
            too_long = False
            start = end + 1
