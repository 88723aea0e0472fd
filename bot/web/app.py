"""The aiohttp application: the web chat page and API, lesson media and health."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from sqlalchemy import text

from bot.channels.webchat import WebChat
from bot.store.unit_of_work import Store
from bot.web.preview import TrainerPreview

STATIC = Path(__file__).parent / "static"


def make_app(
    webchat: WebChat, store: Store, curriculum: Path, preview: TrainerPreview
) -> web.Application:
    """Assemble the routes; channels add theirs to the returned app."""
    app = web.Application(client_max_size=webchat.max_upload_bytes + 2**20)

    async def page(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def health(_request: web.Request) -> web.Response:
        try:
            async with store.unit_of_work() as uow:
                await uow.session.execute(text("SELECT 1"))
        except Exception:  # any failure to reach the database is "unhealthy"
            return web.json_response({"status": "database unavailable"}, status=503)
        return web.json_response({"status": "ok"})

    routes = [web.get("/", page), web.get("/healthz", health), *webchat.routes(), *preview.routes()]
    app.add_routes(routes)
    app.router.add_static("/static", STATIC)
    media = curriculum / "media"
    if media.is_dir():
        app.router.add_static("/curriculum/media", media)
    return app
