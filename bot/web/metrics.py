"""For operators: ``/metrics`` in Prometheus' text format, and ``/readyz``.

Counters come from the code that does the work (``bot/services/figures_live.py``); the
outbox and the open requests are read from the database at each scrape, so every process
reports the same shared queue. ``/readyz`` says whether this process can serve: the
database answers and a course is loaded (``/healthz`` only says it is alive).

Who may read ``/metrics``: with ``COACH_METRICS_TOKEN`` set, a scraper that sends it as a
bearer token (``Authorization: Bearer <token>``) or an admin signed in to the staff pages.
Without it, requests from this machine (loopback, with no proxy's forwarding header) and
signed-in admins; anyone else is refused.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text

from bot.course.holder import CourseHolder
from bot.services.figures_live import HANDOFFS_OPEN, OUTBOX_AGE, OUTBOX_DEPTH, REGISTRY
from bot.store.tables import Handoff, OutboxRow
from bot.store.unit_of_work import Store

log = logging.getLogger(__name__)
READY_SECONDS = 1.0
FORWARDED = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
Admin = Callable[[web.Request], Awaitable[bool]]
WAITING = ("pending", "sending")
OPEN = ("open", "claimed")


class Operations:
    def __init__(
        self,
        store: Store,
        courses: CourseHolder,
        channels: Iterable[str],
        clock: Callable[[], datetime],
        token: str | None = None,
        admin: Admin | None = None,
    ) -> None:
        """``channels``: the push channels, whose outbox rows wait for the sender;
        ``token``: what a scraper sends as its bearer token; ``admin``: whether a request
        comes from a signed-in admin."""
        self.token = token
        self.admin = admin
        self.store = store
        self.courses = courses
        self.channels = tuple(channels)
        self.clock = clock

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/metrics", self.metrics), web.get("/readyz", self.ready)]

    async def metrics(self, request: web.Request) -> web.Response:
        await self._check(request)
        try:
            async with asyncio.timeout(READY_SECONDS):
                await self._read_queues()
        except Exception as error:  # the counters are still worth a scrape without the database
            log.warning("metrics: database not read: %s", type(error).__name__)
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _check(self, request: web.Request) -> None:
        """Let the scraper with the token, a signed-in admin, or (no token set) this machine."""
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if self.token and scheme.lower() == "bearer":
            if hmac.compare_digest(given.strip().encode(), self.token.encode()):
                return
        elif self.token is None and _loopback(request):
            return
        if self.admin is not None and await self.admin(request):
            return
        log.info("metrics refused")
        if self.token:
            raise web.HTTPUnauthorized(
                text="Send COACH_METRICS_TOKEN as a bearer token, or sign in as an admin.",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        raise web.HTTPForbidden(
            text="Metrics are served to this machine and to admins: set COACH_METRICS_TOKEN "
            "to scrape them from elsewhere."
        )

    async def _read_queues(self) -> None:
        waiting = OutboxRow.status.in_(WAITING), OutboxRow.channel.in_(self.channels)
        async with self.store.reading() as uow:
            depth = dict(
                (
                    await uow.session.execute(
                        select(OutboxRow.channel, func.count())
                        .where(*waiting)
                        .group_by(OutboxRow.channel)
                    )
                ).all()
            )
            oldest = await uow.session.scalar(
                select(func.min(OutboxRow.created_at)).where(*waiting)
            )
            handoffs = dict(
                (
                    await uow.session.execute(
                        select(Handoff.status, func.count())
                        .where(Handoff.status.in_(OPEN))
                        .group_by(Handoff.status)
                    )
                ).all()
            )
        for channel in self.channels:
            OUTBOX_DEPTH.labels(channel).set(depth.get(channel, 0))
        age = (self.clock() - _aware(oldest)).total_seconds() if oldest is not None else 0.0
        OUTBOX_AGE.set(max(age, 0.0))
        for status in OPEN:
            HANDOFFS_OPEN.labels(status).set(handoffs.get(status, 0))

    async def ready(self, _request: web.Request) -> web.Response:
        """Ready when the database answers in time and a course with lessons is loaded."""
        problems = []
        try:
            async with asyncio.timeout(READY_SECONDS), self.store.reading() as uow:
                await uow.session.execute(text("SELECT 1"))
        except Exception:  # any failure or delay reaching the database is "not ready"
            problems.append("database unavailable")
        if not self.courses.course.lessons:
            problems.append("no curriculum loaded")
        if problems:
            return web.json_response(
                {"status": "not ready", "problems": problems},
                status=503,
                headers={"Retry-After": "10"},
            )
        return web.json_response({"status": "ready"})


def _loopback(request: web.Request) -> bool:
    """A request from this machine that no proxy forwarded."""
    if any(name in request.headers for name in FORWARDED):
        return False
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
