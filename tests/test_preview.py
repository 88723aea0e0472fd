"""Trainers sign in once, then open any lesson in any language in the web chat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.app import build
from tests.conftest import ROOT, settings_for


async def preview_client(
    tmp_path: Path, token: str | None, **extra: Any
) -> tuple[Any, TestClient[Any, Any]]:
    from bot.store.database import upgrade

    coach = build(
        settings_for(
            f"sqlite+aiosqlite:///{tmp_path}/p.db",
            curriculum=ROOT / "curriculum",
            trainer_token=token,
            languages=["en", "fr", "ar", "uk"],
            secret_key_file=tmp_path / "secret.key",
            **extra,
        )
    )
    await upgrade(coach.store.engine)
    return coach, TestClient(TestServer(coach.web))


async def signs_in(client: TestClient[Any, Any], token: str) -> Any:
    return await client.post("/trainer/sign-in", data={"token": token}, allow_redirects=False)


async def test_a_trainer_signs_in_and_opens_a_lesson_in_ukrainian(tmp_path: Path) -> None:
    coach, client = await preview_client(tmp_path, "s3cret")
    async with client:
        form = await (await client.get("/trainer")).text()
        assert 'action="/trainer/sign-in"' in form and 'type="password"' in form
        signed = await signs_in(client, "s3cret")
        assert signed.status == 303 and signed.headers["Location"] == "/trainer"
        cookie = signed.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "s3cret" not in cookie
        page = await (await client.get("/trainer")).text()
        assert "Buttons and numbers" in page and "lang=uk" in page and "s3cret" not in page
        opened = await client.get(
            "/trainer/preview",
            params={"lesson": "warmup-photo", "lang": "uk"},
            allow_redirects=False,
        )
        assert opened.status == 303
        chat, conversation = opened.headers["Location"].split("#c=", 1)
        assert chat == "/trainer/preview/warmup-photo/uk"
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


async def test_without_signing_in_there_is_no_preview(tmp_path: Path) -> None:
    coach, client = await preview_client(tmp_path, "s3cret")
    async with client:
        start = await client.get(
            "/trainer/preview",
            params={"lesson": "warmup-photo", "lang": "fr"},
            allow_redirects=False,
        )
        assert start.status == 303 and start.headers["Location"] == "/trainer"
        wrong = await signs_in(client, "guess")
        assert wrong.status == 403 and "This token is wrong" in await wrong.text()
        assert "Set-Cookie" not in wrong.headers
        page = await (await client.get("/trainer")).text()
        assert "Lesson preview" not in page
    await coach.store.close()


async def test_an_old_token_link_leads_to_the_sign_in_and_keeps_nothing(tmp_path: Path) -> None:
    coach, client = await preview_client(tmp_path, "s3cret")
    async with client:
        for path in ("/preview", "/preview/start"):
            old = await client.get(path, params={"token": "s3cret"}, allow_redirects=False)
            assert old.status == 302 and old.headers["Location"] == "/trainer"
        page = await (await client.get("/trainer")).text()
        assert "Lesson preview" not in page
    await coach.store.close()


async def test_guessing_the_token_is_stopped_after_five_tries(tmp_path: Path) -> None:
    coach, client = await preview_client(tmp_path, "s3cret")
    async with client:
        for attempt in range(5):
            assert (await signs_in(client, f"guess-{attempt}")).status == 403
        stopped = await signs_in(client, "s3cret")
        assert stopped.status == 429
        assert int(stopped.headers["Retry-After"]) > 0
        assert "Please wait" in await stopped.text()
        assert "Lesson preview" not in await (await client.get("/trainer")).text()
    await coach.store.close()


async def test_a_trainer_signs_out(tmp_path: Path) -> None:
    coach, client = await preview_client(tmp_path, "s3cret")
    async with client:
        await signs_in(client, "s3cret")
        assert "Lesson preview" in await (await client.get("/trainer")).text()
        out = await client.post("/trainer/sign-out", allow_redirects=False)
        assert out.status == 303
        assert "Lesson preview" not in await (await client.get("/trainer")).text()
    await coach.store.close()


async def test_a_sign_in_form_posted_from_another_site_is_refused(tmp_path: Path) -> None:
    coach, client = await preview_client(tmp_path, "s3cret")
    async with client:
        forged = await client.post(
            "/trainer/sign-in",
            data={"token": "s3cret"},
            headers={"Origin": "https://elsewhere.example"},
            allow_redirects=False,
        )
        assert forged.status == 403 and "Set-Cookie" not in forged.headers
        cross_site = await client.post(
            "/trainer/sign-in",
            data={"token": "s3cret"},
            headers={"Origin": "null", "Sec-Fetch-Site": "cross-site"},
            allow_redirects=False,
        )
        assert cross_site.status == 403 and "Set-Cookie" not in cross_site.headers
        own_page = await client.post(
            "/trainer/sign-in",
            data={"token": "s3cret"},
            headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
            allow_redirects=False,
        )
        assert own_page.status == 303
    await coach.store.close()


async def test_an_unknown_lesson_is_not_found(tmp_path: Path) -> None:
    coach, client = await preview_client(tmp_path, "s3cret")
    async with client:
        await signs_in(client, "s3cret")
        unknown = await client.get(
            "/trainer/preview", params={"lesson": "nope", "lang": "fr"}, allow_redirects=False
        )
        assert unknown.status == 404
    await coach.store.close()


async def test_without_a_configured_token_only_sign_in_links_sign_in(tmp_path: Path) -> None:
    coach, client = await preview_client(tmp_path, None)
    async with client:
        response = await client.get("/trainer")
        page = await response.text()
        assert response.status == 200 and 'type="password"' not in page
        assert "coach staff invite" in page and "COACH_TRAINER_TOKEN" in page
        refused = await signs_in(client, "")
        assert refused.status == 404 and "Set-Cookie" not in refused.headers
    await coach.store.close()


async def test_a_preview_has_a_banner_a_way_back_and_every_language(tmp_path: Path) -> None:
    coach, client = await preview_client(tmp_path, "s3cret")
    async with client:
        await signs_in(client, "s3cret")
        index = await (await client.get("/trainer")).text()
        assert '<bdi lang="ar" dir="rtl">العربية</bdi>' in index
        assert '<bdi lang="uk" dir="ltr">Українська</bdi>' in index
        assert (
            'href="/trainer/figures"' in index and 'href="/trainer/lessons/warmup-photo"' in index
        )
        opened = await client.get(
            "/trainer/preview", params={"lesson": "warmup-photo", "lang": "ar"}
        )
        page = await opened.text()
        assert opened.url.path == "/trainer/preview/warmup-photo/ar"
        assert '<html lang="ar" dir="rtl"' in page
        banner = page.split('<div class="preview-bar"', 1)[1].split("</div>", 1)[0]
        assert "<strong>Preview</strong>" in banner and 'href="/trainer"' in banner
        assert 'aria-current="true"><bdi lang="ar" dir="rtl">العربية</bdi>' in banner
        assert "lesson=warmup-photo&amp;lang=fr" in banner
        assert '<link rel="stylesheet" href="/static/trainer-preview.css">' in page
        assert (await client.get("/static/trainer-preview.css")).status == 200
        assert (await client.get("/trainer/preview/nope/ar")).status == 404
        assert (await client.get("/trainer/preview/warmup-photo/xx")).status == 404
        await client.post("/trainer/sign-out")
        gone = await client.get("/trainer/preview/warmup-photo/ar", allow_redirects=False)
        assert gone.status == 303 and gone.headers["Location"] == "/trainer"
    await coach.store.close()
