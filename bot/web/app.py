"""The aiohttp application: the web chat page and API, trainer pages, lesson media and health."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from pathlib import Path

from aiohttp import web
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from sqlalchemy import text

from bot.config import Settings
from bot.core.channel import Capabilities
from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.services.coach import CoachService
from bot.services.desk_sign_in import DeskSignIn
from bot.services.handoffs import HandoffDesk
from bot.services.staff import Staff
from bot.services.web_desk import MediaSource, WebDesk
from bot.store.unit_of_work import Store
from bot.web.compression import compress
from bot.web.desk import COOKIE as DESK_COOKIE
from bot.web.desk import SESSION_DAYS as DESK_SESSION_DAYS
from bot.web.desk import DeskPages
from bot.web.errors import NOT_FOUND, Sentences, error_middleware, quiet_bad_requests
from bot.web.fonts import Fonts
from bot.web.headers import add_security_headers
from bot.web.keys import ConversationKeys
from bot.web.openapi import OPENAPI
from bot.web.page import ChatPage
from bot.web.plumbing import WebPlumbing
from bot.web.preview import SESSION_HOURS, TrainerPreview
from bot.web.static_files import StaticFiles
from bot.web.stream import STOPPING, Stopping

STATIC = Path(__file__).parent / "static"
MEDIA_CACHE = "public, max-age=86400"
# Types a slim system may not know (aiohttp guesses from /etc/mime.types): a lesson picture's
# WebP must say what it is, or a phone's browser may refuse to show it.
TYPES = {".webp": "image/webp"}
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
HEALTH_SECONDS = 1.0
CONVERSATION_KEYS = web.AppKey("conversation_keys", ConversationKeys)


def trainer_pages(
    settings: Settings,
    service: CoachService,
    courses: CourseHolder,
    catalogs: Catalogs,
    web_chat: Capabilities,
    plumbing: WebPlumbing,
) -> TrainerPreview:
    """The staff's sign-in (the trainer token, or a single-use link per person), lesson
    previews (which open in the web chat) and figures, each page for the roles it names."""
    token = settings.trainer_token.get_secret_value() if settings.trainer_token else None
    cookies = EncryptedCookieStorage(
        plumbing.keys.session_key(),
        cookie_name="coach_trainer",
        httponly=True,
        samesite="Strict",
        max_age=SESSION_HOURS * 3600,
    )
    chat = chat_page(settings, Sentences(catalogs, settings.default_language), StaticFiles(STATIC))
    staff = Staff(service.store, service.clock, session_hours=SESSION_HOURS)
    return TrainerPreview(
        service,
        courses,
        catalogs,
        token,
        plumbing.keys,
        plumbing.limits,
        cookies,
        web_chat,
        chat,
        staff,
    )


def desk_pages(
    settings: Settings,
    desk: HandoffDesk,
    catalogs: Catalogs,
    plumbing: WebPlumbing,
    media: Mapping[str, MediaSource] | None = None,
) -> DeskPages:
    """The volunteer desk in a browser, signed in by a single-use link."""
    cookies = EncryptedCookieStorage(
        plumbing.keys.session_key("desk-session"),
        cookie_name=DESK_COOKIE,
        httponly=True,
        samesite="Strict",
        max_age=DESK_SESSION_DAYS * 86400,
    )
    return DeskPages(
        WebDesk(desk),
        DeskSignIn(desk.store, desk.clock),
        catalogs,
        settings.default_language,
        cookies,
        plumbing.limits,
        fonts_for(settings),
        media,
    )


def make_app(
    settings: Settings,
    store: Store,
    plumbing: WebPlumbing,
    sentences: Sentences,
    routes: list[web.RouteDef],
) -> web.Application:
    """The web app: page, health, API description and files, and the routes given to it
    (each channel's and the trainer pages')."""
    quiet_bad_requests()
    app = web.Application(
        client_max_size=settings.max_upload_mb * 2**20 + 2**20,
        middlewares=[compress, error_middleware(sentences)],
    )
    app[CONVERSATION_KEYS] = plumbing.keys
    app[STOPPING] = Stopping()
    app.on_shutdown.append(app[STOPPING].stop)
    static = StaticFiles(STATIC)
    app.on_response_prepare.append(add_security_headers)

    async def health(request: web.Request) -> web.Response:
        """A real query under a short deadline: a database that is late is unhealthy."""
        try:
            async with asyncio.timeout(HEALTH_SECONDS), store.unit_of_work() as uow:
                await uow.session.execute(text("SELECT 1"))
        except Exception:  # any failure or delay reaching the database is "unhealthy"
            return web.json_response(
                {"status": "database unavailable"}, status=503, headers={"Retry-After": "10"}
            )
        return web.json_response({"status": "ok"})

    async def openapi(_request: web.Request) -> web.Response:
        return web.json_response(OPENAPI)

    page = chat_page(settings, sentences, static)
    static.seal(page.version())
    every = [
        *page.routes(),
        web.get("/healthz", health),
        web.get("/api/openapi.json", openapi),
        *static.routes(),
        files("/static", STATIC, sentences, static),
        *routes,
    ]
    media = settings.curriculum_path / "media"
    if media.is_dir():
        every.append(files("/curriculum/media", media, sentences, cache=MEDIA_CACHE))
    app.add_routes(every)
    return app


def chat_page(settings: Settings, sentences: Sentences, static: StaticFiles) -> ChatPage:
    """The web chat page; fonts come from node_modules beside the locales (see README)."""
    return ChatPage(
        sentences.catalogs,
        sentences.default_language,
        fonts_for(settings),
        settings.max_upload_mb,
        static,
    )


def fonts_for(settings: Settings) -> Fonts:
    return Fonts(settings.locales_path.resolve().parent / "node_modules" / "@fontsource")


def files(
    prefix: str,
    folder: Path,
    sentences: Sentences,
    kept: StaticFiles | None = None,
    cache: str = "no-cache",
) -> web.RouteDef:
    """Serve the files of one folder by plain names; any other path is simply not found.
    Files ``kept`` in memory are served from there (gzipped, immutable by their hash)."""

    async def serve(request: web.Request) -> web.StreamResponse:
        parts = request.match_info["path"].split("/")
        if kept is not None and len(parts) == 1 and (response := kept.serve(request, parts[0])):
            return response
        if len(parts) <= 4 and all(FILE_NAME.match(part) for part in parts):
            found = folder.joinpath(*parts)
            if found.is_file():
                headers = {"Cache-Control": cache}
                if kind := TYPES.get(found.suffix.lower()):
                    headers["Content-Type"] = kind
                return web.FileResponse(found, headers=headers)
        return sentences.respond(request, NOT_FOUND, 404)

    return web.get(prefix + "/{path:.+}", serve)
