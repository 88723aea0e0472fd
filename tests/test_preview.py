"""Trainers open any lesson in any language in the web chat, with their token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.app import build
from tests.conftest import ROOT, settings_for


async def preview_client(tmp_path: Path, token: str | None) -> tuple[Any, TestClient[Any, Any]]:
    from bot.store.database import upgrade

    coach = build(
        settings_for(
            f"sqlite+aiosqlite:///{tmp_path}/p.db",
            curriculum=ROOT / "curriculum",
            trainer_token=token,
            languages=["en", "fr", "ar", "uk"],
        )
    )
    await upgrade(coach.store.engine)
    return coach, TestClient(TestServer(coach.web))


async def test_a_trainer_opens_a_lesson_in_ukrainian(tmp_path: Path) -> None:
    coach, client = await preview_client(tmp_path, "s3cret")
    async with client:
        index = await client.get("/preview", params={"token": "s3cret"})
        assert index.status == 200
        page = await index.text()
        assert "Buttons and numbers" in page and "lang=uk" in page
        opened = await client.get(
            "/preview/start",
            params={"token": "s3cret", "lesson": "warmup-photo", "lang": "uk"},
            allow_redirects=False,
        )
        assert opened.status == 302
        conversation = opened.headers["Location"].split("?c=", 1)[1]
        assert conversation.startswith("preview-")
        shown = await (await client.get(f"/api/webchat/{conversation}")).json()
        texts = [m["text"] for m in shown["messages"]]
        assert texts[0].startswith("📘") and all(m["lang"] == "uk" for m in shown["messages"])
        assert (
            texts[1]
            != "Now let's send a photo 📷.\nIt is useful to show something to a friend or a helper."
        )
        said = await client.post(f"/api/webchat/{conversation}", json={"text": "1"})
        assert said.status == 200 and (await said.json())["messages"]
    await coach.store.close()


async def test_without_the_right_token_there_is_no_preview(tmp_path: Path) -> None:
    coach, client = await preview_client(tmp_path, "s3cret")
    async with client:
        assert (await client.get("/preview")).status == 403
        assert (await client.get("/preview", params={"token": "guess"})).status == 403
        start = await client.get(
            "/preview/start", params={"token": "nope", "lesson": "warmup-photo", "lang": "fr"}
        )
        assert start.status == 403
        unknown = await client.get(
            "/preview/start", params={"token": "s3cret", "lesson": "nope", "lang": "fr"}
        )
        assert unknown.status == 404
    await coach.store.close()


async def test_preview_is_off_without_a_configured_token(tmp_path: Path) -> None:
    coach, client = await preview_client(tmp_path, None)
    async with client:
        response = await client.get("/preview", params={"token": ""})
        assert response.status == 404
        assert "COACH_TRAINER_TOKEN" in await response.text()
    await coach.store.close()
