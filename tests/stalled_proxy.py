"""A TCP proxy on loopback in front of PostgreSQL that can stop passing bytes on, like a
database whose network froze: connections stay open and nothing answers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.engine import make_url


class StalledProxy:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.flowing = asyncio.Event()
        self.flowing.set()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    @property
    def bound_port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def freeze(self) -> None:
        """From now on nothing passes, either way; connections stay open."""
        self.flowing.clear()

    def thaw(self) -> None:
        self.flowing.set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for pipe in self._pipes:
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self.flowing.wait()
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        except (OSError, asyncio.CancelledError):
            writer.close()
            return
        for source, target in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, target))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(65536):
                await self.flowing.wait()
                target.write(chunk)
                await target.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                target.close()


@contextlib.asynccontextmanager
async def stalled_proxy(database_url: str) -> AsyncIterator[tuple[StalledProxy, str]]:
    """A proxy in front of the database, and the URL that goes through it."""
    url = make_url(database_url)
    proxy = StalledProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    try:
        through = url.set(host="127.0.0.1", port=proxy.bound_port)
        yield proxy, through.render_as_string(hide_password=False)
    finally:
        proxy.thaw()
        await proxy.close()
