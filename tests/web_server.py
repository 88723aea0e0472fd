"""The whole coach served on a free loopback port in a thread, for clients that are not asyncio."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from aiohttp import web

from bot.app import build
from bot.config import Settings
from bot.store.database import upgrade


class Records(logging.Handler):
    """Keeps what the coach logged, to look for errors and tracebacks afterwards."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def troubles(self) -> list[str]:
        return [
            f"{r.name}: {r.getMessage()}"
            for r in self.records
            if r.exc_info or r.levelno >= logging.ERROR or "Traceback" in r.getMessage()
        ]


@dataclass
class LiveCoach:
    url: str
    log: Records = field(default_factory=Records)


@contextlib.contextmanager
def live_coach(settings: Settings) -> Iterator[LiveCoach]:
    """Serve until the block ends; the database is migrated first."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started = threading.Event()
    found: dict[str, str | BaseException] = {}

    async def serve() -> None:
        coach = build(settings)
        try:
            if coach.store.engine.dialect.name == "sqlite":
                await upgrade(coach.store.engine)
            runner = web.AppRunner(coach.web, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            host, port = runner.addresses[0][:2]
            found["url"] = f"http://{host}:{port}"
            started.set()
            await stop.wait()
            await runner.cleanup()
        except BaseException as error:
            found["error"] = error
            started.set()
            raise
        finally:
            await coach.store.close()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    live = LiveCoach("")
    root = logging.getLogger()
    root.addHandler(live.log)
    thread.start()
    try:
        started.wait(60)
        if "url" not in found:
            raise RuntimeError(f"the coach did not start: {found.get('error')!r}")
        live.url = str(found["url"])
        yield live
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(60)
        loop.close()
        root.removeHandler(live.log)
