"""Wiring: settings in, a running coach out. Every dependency is built here and passed on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from aiohttp import web

from bot.channels.telegram.delivery import TelegramDelivery
from bot.channels.telegram.inbound import CHANNEL as TELEGRAM
from bot.channels.telegram.runtime import TelegramRuntime
from bot.channels.telegram.volunteer_router import volunteer_router
from bot.channels.webchat import CHANNEL as WEB
from bot.config import Settings
from bot.core.handoff import HELP_WORDS
from bot.course.holder import CourseHolder
from bot.delivery.limits import Limits, RateLimiter
from bot.delivery.sender import Delivery, OutboxSender
from bot.handoffs import HandoffDesk
from bot.i18n import Catalogs
from bot.nudging import NudgeSweep
from bot.service import CoachService, utc_now
from bot.stopping import cancel, finish
from bot.store.database import create_engine
from bot.store.delivery_queue import DeliveryQueue
from bot.store.media import MediaCache
from bot.store.unit_of_work import Store
from bot.volunteers import Volunteers
from bot.web.app import make_web
from scheduler.clock import Clock, IntervalJob
from scheduler.jobs import sweep_outbox

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 10.0  # how long each part may take to finish its work when stopping


@dataclass
class Coach:
    settings: Settings
    courses: CourseHolder
    catalogs: Catalogs
    store: Store
    service: CoachService
    web: web.Application
    telegram: TelegramRuntime | None = None
    sender: OutboxSender | None = None
    jobs: list[IntervalJob] = field(default_factory=list)
    desk: HandoffDesk | None = None


def build(settings: Settings) -> Coach:
    """Build every part; a broken course raises CourseError before anything starts."""
    courses = CourseHolder.load(settings.curriculum_path)
    catalogs = Catalogs(settings.locales_path, settings.languages, settings.fallback_language)
    store = Store(create_engine(settings.database_url, settings.database_timeout_seconds))
    rules = settings.rules(catalogs.names(), help_words(catalogs))
    service = CoachService(
        store, courses, catalogs, rules, default_language=settings.default_language
    )
    channels = {WEB.name: WEB, TELEGRAM.name: TELEGRAM}
    desk = HandoffDesk(
        store,
        courses,
        catalogs,
        rules,
        channels,
        utc_now,
        coordinators=tuple(settings.coordinators),
        volunteers_group=settings.volunteers_group_chat,
        escalate_after=timedelta(minutes=settings.handoff_escalate_minutes),
        default_language=settings.default_language,
    )
    service.desk = desk
    app = make_web(settings, service, courses, catalogs, store)
    coach = Coach(settings, courses, catalogs, store, service, app, desk=desk)
    nudges = NudgeSweep(store, courses, catalogs, rules, channels, batch=settings.nudge_batch)

    async def sweep_nudges() -> None:
        await nudges.sweep(utc_now())

    coach.jobs.append(IntervalJob("nudge-sweep", settings.nudge_sweep_seconds, sweep_nudges))

    async def sweep_handoffs() -> None:
        await desk.sweep(utc_now())

    coach.jobs.append(IntervalJob("handoff-escalation", 60.0, sweep_handoffs))
    deliveries: dict[str, Delivery] = {}
    if settings.telegram_token is not None:
        volunteering = volunteer_router(
            Volunteers(store, utc_now), desk, catalogs, tuple(settings.admins)
        )
        coach.telegram = TelegramRuntime(settings, service, catalogs, before=(volunteering,))
        coach.telegram.add_routes(app)
        media = MediaCache(store)
        deliveries[TELEGRAM.name] = TelegramDelivery(
            coach.telegram.bot, media, settings.curriculum_path, utc_now
        )
    if deliveries:
        queue = DeliveryQueue(store)
        limits = Limits(
            private_per_second=settings.private_per_second,
            private_burst=settings.private_burst,
            group_per_minute=settings.group_per_minute,
            total_per_second=settings.total_per_second,
        )
        coach.sender = OutboxSender(queue, deliveries, RateLimiter(limits, time.monotonic), utc_now)
        service.on_outbox = nudges.on_outbox = desk.on_outbox = coach.sender.wake
        coach.sender.on_unreachable = desk.learner_unreachable
        sweep = partial(sweep_outbox, queue, coach.sender, utc_now)
        coach.jobs.append(IntervalJob("outbox-sweep", settings.outbox_sweep_seconds, sweep))
    return coach


def help_words(catalogs: Catalogs) -> dict[str, frozenset[str]]:
    """Per language, the words that ask for a person (English ones work everywhere)."""
    english = {w.strip().lower() for w in catalogs.render(HELP_WORDS, "en").split(",")}
    return {
        code: frozenset(
            english | {w.strip().lower() for w in catalogs.render(HELP_WORDS, code).split(",")}
        )
        for code in catalogs.languages
    }


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
    """Serve every channel, send, and keep the clock until the block ends; yields the web URL.

    Parts stop in the reverse order they started, each within a bounded time: first what
    receives (Telegram, the web server), then the clock's jobs, then the sender, and the
    database last, so nothing is cancelled halfway through a transaction by a closing store.
    """
    async with contextlib.AsyncExitStack() as parts:
        parts.push_async_callback(coach.store.close)
        if coach.telegram is not None:
            parts.push_async_callback(coach.telegram.close)  # after the sender's last message
        watcher = asyncio.create_task(
            watch_course(coach.courses, coach.settings.course_poll_seconds)
        )
        parts.push_async_callback(cancel, [watcher], "course watcher")
        if coach.sender is not None:
            parts.push_async_callback(
                stop_sender, coach.sender, asyncio.create_task(coach.sender.run())
            )
        if coach.jobs:
            clock = Clock(coach.jobs)
            clock.start()
            parts.push_async_callback(clock.stop, STOP_GRACE_SECONDS)
        url = await serve_web(coach, parts)
        if coach.telegram is not None:
            await coach.telegram.start()
            parts.push_async_callback(coach.telegram.stop_receiving)
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGHUP, reload_course, coach.courses)
            parts.callback(loop.remove_signal_handler, signal.SIGHUP)
        yield url


async def serve_web(coach: Coach, parts: contextlib.AsyncExitStack) -> str:
    """Start the web server (stopped by ``parts``); its URL, with the port really bound."""
    runner = web.AppRunner(coach.web, access_log=None, shutdown_timeout=STOP_GRACE_SECONDS)
    await runner.setup()
    parts.push_async_callback(runner.cleanup)
    site = web.TCPSite(runner, coach.settings.web_host, coach.settings.web_port)
    await site.start()
    port = runner.addresses[0][1] if runner.addresses else coach.settings.web_port
    return f"http://{coach.settings.web_host}:{port}"


async def stop_sender(sender: OutboxSender, task: asyncio.Task[None]) -> None:
    """Let the sender finish what it is sending; what waits for a rate limit stays queued."""
    sender.stop()
    await finish([task], "outbox sender", STOP_GRACE_SECONDS)


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
