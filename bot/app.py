"""Wiring: settings in, a running coach out. Every dependency is built here and passed on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from bot.channels.webchat import WebChat
from bot.config import Settings
from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.service import CoachService
from bot.store.database import create_engine
from bot.store.unit_of_work import Store
from bot.web.app import make_app

log = logging.getLogger(__name__)


@dataclass
class Coach:
    settings: Settings
    courses: CourseHolder
    catalogs: Catalogs
    store: Store
    service: CoachService
    web: web.Application


def build(settings: Settings) -> Coach:
    """Build every part; a broken course raises CourseError before anything starts."""
    courses = CourseHolder.load(settings.curriculum_path)
    catalogs = Catalogs(settings.locales_path, settings.languages, settings.fallback_language)
    store = Store(create_engine(settings.database_url))
    service = CoachService(
        store,
        courses,
        catalogs,
        default_language=settings.default_language,
        default_timezone=settings.default_timezone,
    )
    webchat = WebChat(service, catalogs, settings.max_upload_mb * 2**20)
    return Coach(
        settings,
        courses,
        catalogs,
        store,
        service,
        make_app(webchat, store, settings.curriculum_path),
    )


def reload_course(courses: CourseHolder) -> None:
    problems = courses.reload()
    if problems:
        log.warning(
            "the edited course has %d problems; still serving the last good one", len(problems)
        )
    else:
        log.info("course reloaded")


async def watch_course(courses: CourseHolder, every: float) -> None:
    """Reload the course when a trainer edits a file."""
    while True:
        await asyncio.sleep(every)
        if courses.changed():
            reload_course(courses)


@contextlib.asynccontextmanager
async def running(coach: Coach) -> AsyncIterator[str]:
    """Serve the web app and watch the course until the block ends; yields the base URL."""
    runner = web.AppRunner(coach.web, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, coach.settings.web_host, coach.settings.web_port)
    await site.start()
    watcher = asyncio.create_task(watch_course(coach.courses, coach.settings.course_poll_seconds))
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGHUP, reload_course, coach.courses)
    try:
        yield f"http://{coach.settings.web_host}:{coach.settings.web_port}"
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await runner.cleanup()
        await coach.store.close()


async def serve(coach: Coach) -> None:
    """Run until interrupted."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with running(coach) as url:
        log.info("web chat at %s", url)
        print(f"Coach is running. Open {url} in your browser. Press Ctrl+C to stop.", flush=True)
        await stop.wait()
