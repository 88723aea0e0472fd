"""The aiohttp application: the web chat page and API, trainer pages, lesson media and health."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from aiohttp import web
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from sqlalchemy import text

from bot.channels.webchat import WebChat
from bot.config import Settings
from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.service import CoachService
from bot.store.unit_of_work import Store
from bot.web.client_limits import ClientLimits
from bot.web.errors import NOT_FOUND, Sentences, error_middleware, quiet_bad_requests
from bot.web.headers import add_security_headers
from bot.web.keys import ConversationKeys, load_secret_key
from bot.web.openapi import OPENAPI
from bot.web.preview import SESSION_HOURS, TrainerPreview

STATIC = Path(__file__).parent / "static"
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
HEALTH_SECONDS = 1.0
CONVERSATION_KEYS = web.AppKey("conversation_keys", ConversationKeys)


def make_web(
    settings: Settings,
    service: CoachService,
    courses: CourseHolder,
    catalogs: Catalogs,
    store: Store,
) -> web.Application:
    """Build the web chat and the trainer pages from settings and assemble the app."""
    keys = ConversationKeys(load_secret_key(settings.secret_key, settings.secret_key_file))
    limits = ClientLimits(
        chat=settings.web_rate_limit,
        start=settings.web_start_limit,
        **{"sign-in": settings.trainer_sign_in_limit},
    )
    upload = settings.max_upload_mb * 2**20
    webchat = WebChat(service, catalogs, keys, limits, upload, settings.web_body_idle_seconds)
    token = settings.trainer_token.get_secret_value() if settings.trainer_token else None
    cookies = EncryptedCookieStorage(
        keys.session_key(),
        cookie_name="coach_trainer",
        httponly=True,
        samesite="Strict",
        max_age=SESSION_HOURS * 3600,
    )
    preview = TrainerPreview(service, courses, catalogs, token, keys, limits, cookies)
    return make_app(webchat, store, settings.curriculum_path, preview)


def make_app(
    webchat: WebChat, store: Store, curriculum: Path, preview: TrainerPreview
) -> web.Application:
    """Assemble the routes; channels add theirs to the returned app."""
    sentences = Sentences(webchat.catalogs, webchat.service.default_language)
    quiet_bad_requests()
    app = web.Application(
        client_max_size=webchat.max_upload_bytes + 2**20,
        middlewares=[error_middleware(sentences)],
    )
    app[CONVERSATION_KEYS] = webchat.keys
    app.on_response_prepare.append(add_security_headers)

    async def page(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

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

    routes = [
        web.get("/", page),
        web.get("/healthz", health),
        web.get("/api/openapi.json", openapi),
        files("/static", STATIC, sentences),
        *webchat.routes(),
        *preview.routes(),
    ]
    media = curriculum / "media"
    if media.is_dir():
        routes.append(files("/curriculum/media", media, sentences))
    app.add_routes(routes)
    return app


def files(prefix: str, folder: Path, sentences: Sentences) -> web.RouteDef:
    """Serve the files of one folder by plain names; any other path is simply not found."""

    async def serve(request: web.Request) -> web.StreamResponse:
        parts = request.match_info["path"].split("/")
        if len(parts) <= 4 and all(FILE_NAME.match(part) for part in parts):
            found = folder.joinpath(*parts)
            if found.is_file():
                return web.FileResponse(found)
        return sentences.respond(request, NOT_FOUND, 404)

    return web.get(prefix + "/{path:.+}", serve)
