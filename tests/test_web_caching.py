"""What the page costs to fetch: text travels gzipped, the page's files are named by their
content and kept a year, the page itself is checked each time (a 304 when unchanged), and
the installable page's manifest and service worker are served as what they are."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp.test_utils import TestClient

from bot.web.static_files import compact_script

IMMUTABLE = "public, max-age=31536000, immutable"
GZIP = {"Accept-Encoding": "gzip"}


async def page_html(client: TestClient[Any, Any]) -> str:
    return await (await client.get("/", headers=GZIP)).text()


def linked(html: str, pattern: str) -> str:
    found = re.search(pattern, html)
    assert found, pattern
    return found.group(1)


async def test_the_page_is_gzipped_and_checked_each_time_with_an_etag(
    client: TestClient[Any, Any],
) -> None:
    page = await client.get("/", headers=GZIP)
    assert page.headers["Content-Encoding"] == "gzip"
    assert page.headers["Cache-Control"] == "no-cache"
    assert "Accept-Encoding" in page.headers["Vary"] and "Accept-Language" in page.headers["Vary"]
    etag = page.headers["ETag"]
    again = await client.get("/", headers={**GZIP, "If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""
    plain = await client.get("/", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert await plain.text() == await page.text()


async def test_the_pages_files_are_named_by_their_content_and_kept_a_year(
    client: TestClient[Any, Any],
) -> None:
    html = await page_html(client)
    for pattern, kind in (
        (r'<script src="(/static/chat\.js\?v=[0-9a-f]{12})"', "text/javascript"),
        (r'<link rel="stylesheet" href="(/static/chat\.css\?v=[0-9a-f]{12})"', "text/css"),
    ):
        url = linked(html, pattern)
        response = await client.get(url, headers=GZIP)
        assert response.status == 200
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.content_type == kind
        body = await response.read()
        stale = await client.get(url.split("?")[0] + "?v=000000000000", headers=GZIP)
        assert stale.headers["Cache-Control"] == "no-cache"
        assert await stale.read() == body
        again = await client.get(url, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status == 304


async def test_api_answers_above_a_few_hundred_bytes_are_gzipped(
    client: TestClient[Any, Any],
) -> None:
    started = await client.post("/api/webchat", json={"text": "/start"}, headers=GZIP)
    assert started.headers.get("Content-Encoding") == "gzip"
    assert (await started.json())["messages"]
    description = await client.get("/api/openapi.json", headers=GZIP)
    assert description.headers.get("Content-Encoding") == "gzip"
    small = await client.get("/healthz", headers=GZIP)
    assert "Content-Encoding" not in small.headers  # 16 bytes: gzip would make it bigger


async def test_the_manifest_and_the_service_worker_are_served_as_what_they_are(
    client: TestClient[Any, Any],
) -> None:
    html = await page_html(client)
    manifest_url = linked(
        html, r'<link rel="manifest" href="(/static/manifest\.webmanifest\?v=\w+)"'
    )
    manifest = await client.get(manifest_url, headers=GZIP)
    assert manifest.content_type == "application/manifest+json"
    assert manifest.headers["Cache-Control"] == IMMUTABLE
    described = json.loads(await manifest.text())
    assert described["start_url"] == "/" and described["display"] == "standalone"
    icon = await client.get(described["icons"][0]["src"])
    assert icon.status == 200 and icon.content_type == "image/svg+xml"
    worker = await client.get("/sw.js", headers=GZIP)
    assert worker.status == 200
    assert worker.content_type == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-cache"
    script = await worker.text()
    assert linked(html, r'<script src="(/static/chat\.js\?v=\w+)"') in script
    assert "{{" not in script
    assert "Content-Security-Policy" in worker.headers


def test_scripts_travel_without_indentation_and_comment_lines_but_mean_the_same() -> None:
    script = "/* about\n   it */\nfunction f() {\n  // why\n  return 1; /* kept */\n}\n"
    assert compact_script(script) == "function f() {\nreturn 1; /* kept */\n}\n"
    template = "var a = `\n  x`;\n"
    assert compact_script(template) == template
    comment_then_code = "/* a\n b */ var c = 1;\n"
    assert compact_script(comment_then_code) == comment_then_code
