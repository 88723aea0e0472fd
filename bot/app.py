"""Wiring: settings in, a running coach out. Every dependency is built here and passed on."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial

from aiohttp import web

from bot.channels.base import ChannelParts, Receiver, Wiring
from bot.channels.registry import build_channels, known_channels
from bot.channels.telegram.inbound import CHANNEL as TELEGRAM
from bot.channels.telegram.runtime import TelegramRuntime
from bot.config import Settings
from bot.core.channel import Capabilities
from bot.core.data_use import DATA_WORDS
from bot.core.handoff import HELP_WORDS
from bot.core.privacy import FORGET_WORDS
from bot.core.reminders import STOP_WORDS
from bot.core.rules import Rules
from bot.core.text import Msg
from bot.course.holder import CourseHolder
from bot.delivery.limits import Limits, RateLimiter
from bot.delivery.sender import Delivery, OutboxSender
from bot.i18n import Catalogs
from bot.services.coach import CoachService, utc_now
from bot.services.erasure import ErasedKeys
from bot.services.handoffs import HandoffDesk
from bot.services.leader import Election
from bot.services.nudging import NudgeSweep
from bot.services.retention import ErasureFollowUp, Retention, RetentionPolicy
from bot.services.volunteers import Volunteers
from bot.stopping import cancel, finish
from bot.store.database import create_engine
from bot.store.delivery_queue import DeliveryQueue
from bot.store.unit_of_work import Store
from bot.web.app import desk_pages, make_app, trainer_pages
from bot.web.errors import Sentences
from bot.web.metrics import Operations
from bot.web.plumbing import WebPlumbing
from scheduler.clock import Clock, IntervalJob
from scheduler.jobs import sweep, sweep_outbox

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
    channels: dict[str, ChannelParts] = field(default_factory=dict)
    sender: OutboxSender | None = None
    jobs: list[IntervalJob] = field(default_factory=list)
    desk: HandoffDesk | None = None

    @property
    def receivers(self) -> list[Receiver]:
        return [parts.receiver for parts in self.channels.values() if parts.receiver]

    @property
    def telegram(self) -> TelegramRuntime | None:
        parts = self.channels.get(TELEGRAM.name)
        runtime = parts.receiver if parts is not None else None
        return runtime if isinstance(runtime, TelegramRuntime) else None


def build(settings: Settings) -> Coach:
    """Build every part; a broken course raises CourseError before anything starts."""
    courses = CourseHolder.load(settings.curriculum_path)
    catalogs = Catalogs(settings.locales_path, settings.languages, settings.fallback_language)
    store = Store(create_engine(settings.database_url, settings.database_timeout_seconds))
    rules = core_rules(settings, catalogs)
    service = CoachService(
        store, courses, catalogs, rules, default_language=settings.default_language
    )
    capabilities = known_channels()
    desk = HandoffDesk(
        store,
        courses,
        catalogs,
        rules,
        capabilities,
        utc_now,
        coordinators=tuple(settings.coordinators),
        volunteers_group=settings.volunteers_group_chat,
        escalate_after=timedelta(minutes=settings.handoff_escalate_minutes),
        default_language=settings.default_language,
    )
    service.desk = desk
    plumbing = WebPlumbing.from_settings(settings)
    service.erased_keys = ErasedKeys(plumbing.keys.session_key("erased-update-keys"))
    wiring = Wiring(
        settings, service, catalogs, store, desk, Volunteers(store, utc_now), plumbing, utc_now
    )
    channels = build_channels(wiring)
    app = web_app(wiring, channels)
    coach = Coach(settings, courses, catalogs, store, service, app, channels, desk=desk)
    add_jobs(coach, rules, capabilities)
    return coach


def core_rules(settings: Settings, catalogs: Catalogs) -> Rules:
    """The core's rules, with the words of every catalog and which languages are drafts."""
    rules = settings.rules(
        catalogs.names(), words(catalogs, HELP_WORDS), words(catalogs, STOP_WORDS)
    )
    return replace(
        rules,
        forget_words=words(catalogs, FORGET_WORDS),
        data_words=words(catalogs, DATA_WORDS),
        request_kept_days=settings.retention_handoff_days,
        draft_languages=catalogs.drafts,
    )


def web_app(wiring: Wiring, channels: dict[str, ChannelParts]) -> web.Application:
    """Every page and route: the channels', the trainers', the desk's and the operators'."""
    settings, service, catalogs, plumbing = (
        wiring.settings,
        wiring.service,
        wiring.catalogs,
        wiring.plumbing,
    )
    store, courses = wiring.store, service.courses
    trainers = trainer_pages(
        settings, service, courses, catalogs, channels["web"].capabilities, plumbing
    )
    routes = [route for parts in channels.values() for route in parts.routes]
    sentences = Sentences(catalogs, settings.default_language)
    media = {name: parts.media for name, parts in channels.items() if parts.media}
    desk_routes = desk_pages(settings, wiring.desk, catalogs, plumbing, media).routes()
    pushed = [name for name, parts in channels.items() if parts.delivery]
    metrics_token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    operations = Operations(store, courses, pushed, utc_now, metrics_token, trainers.is_admin)
    desk_routes += operations.routes()  # /metrics, /readyz
    return make_app(
        settings, store, plumbing, sentences, [*routes, *trainers.routes(), *desk_routes]
    )


def add_jobs(coach: Coach, rules: Rules, capabilities: dict[str, Capabilities]) -> None:
    """The clock's jobs, and the sender when a channel pushes its messages."""
    settings, store, catalogs, courses = coach.settings, coach.store, coach.catalogs, coach.courses
    desk, service = coach.desk, coach.service
    assert desk is not None
    nudges = NudgeSweep(store, courses, catalogs, rules, capabilities, batch=settings.nudge_batch)
    coach.jobs.append(
        IntervalJob("nudge-sweep", settings.nudge_sweep_seconds, partial(sweep, nudges, utc_now))
    )
    coach.jobs.append(IntervalJob("handoff-escalation", 60.0, partial(sweep, desk, utc_now)))
    policy = RetentionPolicy(
        settings.retention_handoff_days,
        settings.retention_inbound_key_days,
        settings.retention_outbox_text_days,
        settings.retention_inactive_learner_days,
    )
    retention = Retention(store, catalogs, capabilities, policy)
    every = settings.retention_sweep_seconds
    coach.jobs.append(IntervalJob("retention", every, partial(sweep, retention, utc_now)))
    deliveries = {name: p.delivery for name, p in coach.channels.items() if p.delivery}
    if deliveries:
        coach.sender = make_sender(settings, store, deliveries)
        service.on_outbox = nudges.on_outbox = desk.on_outbox = coach.sender.wake
        retention.on_outbox = coach.sender.wake
        service.sender = coach.sender
        coach.sender.on_unreachable = desk.learner_unreachable
        outbox = partial(sweep_outbox, DeliveryQueue(store), coach.sender, utc_now)
        coach.jobs.append(IntervalJob("outbox-sweep", settings.outbox_sweep_seconds, outbox))
        erased = partial(sweep, ErasureFollowUp(store), utc_now)
        coach.jobs.append(IntervalJob("erasure-follow-up", settings.outbox_sweep_seconds, erased))


def make_sender(settings: Settings, store: Store, deliveries: dict[str, Delivery]) -> OutboxSender:
    """One sender for every push channel, within the configured rate limits."""
    limits = Limits(
        private_per_second=settings.private_per_second,
        private_burst=settings.private_burst,
        group_per_minute=settings.group_per_minute,
        total_per_second=settings.total_per_second,
    )
    limiter = RateLimiter(limits, time.monotonic)
    return OutboxSender(DeliveryQueue(store), deliveries, limiter, utc_now)


def words(catalogs: Catalogs, msgid: Msg) -> dict[str, frozenset[str]]:
    """Per language, the words a catalog lists for ``msgid`` (English ones work everywhere)."""
    english = {w.strip().lower() for w in catalogs.render(msgid, "en").split(",")}
    return {
        code: frozenset(
            english | {w.strip().lower() for w in catalogs.render(msgid, code).split(",")}
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
async def running(coach: Coach, *, long_lived: bool = False) -> AsyncIterator[str]:
    """Serve every channel, send, and keep the clock until the block ends; yields the web URL.

    ``long_lived`` (``coach run``): once started, what the process has made so far (the
    course, the catalogs, the libraries) is set aside from Python's cycle collector
    (``gc.freeze``): its full collections no longer walk it, which paused every request
    for 150 ms or so about once a second under load.

    Parts stop in the reverse order they started, each within a bounded time: first what
    receives (Telegram, the web server), then the clock's jobs, then the sender, and the
    database last, so nothing is cancelled halfway through a transaction by a closing store.
    """
    async with contextlib.AsyncExitStack() as parts:
        parts.push_async_callback(coach.store.close)
        for receiver in coach.receivers:
            parts.push_async_callback(receiver.close)  # after the sender's last message
        watcher = asyncio.create_task(
            watch_course(coach.courses, coach.settings.course_poll_seconds)
        )
        parts.push_async_callback(cancel, [watcher], "course watcher")
        if coach.sender is not None:
            elected = coach.sender.run_elected(Election.on(coach.store.engine))
            parts.push_async_callback(stop_sender, coach.sender, asyncio.create_task(elected))
        if coach.jobs:
            clock = Clock(coach.jobs)
            clock.start()
            parts.push_async_callback(clock.stop, STOP_GRACE_SECONDS)
        url = await serve_web(coach, parts)
        for receiver in coach.receivers:
            await receiver.start()
            parts.push_async_callback(receiver.stop_receiving)
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGHUP, reload_course, coach.courses)
            parts.callback(loop.remove_signal_handler, signal.SIGHUP)
        if long_lived:
            gc.collect()
            gc.freeze()
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
    """Let the sender finish what it is sending; what waits for a rate limit stays queued.
    A process that is not elected to send has nothing to finish."""
    sender.stop()
    if not sender.sending:
        task.cancel()
    await finish([task], "outbox sender", STOP_GRACE_SECONDS)


async def serve(coach: Coach) -> None:
    """Run until interrupted."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with running(coach, long_lived=True) as url:
        log.info("web chat at %s", url)
        print(f"Coach is running. Open {url} in your browser. Press Ctrl+C to stop.", flush=True)
        await stop.wait()
