"""Every response of the web app carries security headers; the page needs no inline code."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from aiohttp.test_utils import TestClient

from bot.web.app import STATIC

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


async def test_every_kind_of_response_carries_the_security_headers(
    client: TestClient[Any, Any],
) -> None:
    started = await client.post("/api/webchat")
    responses = [
        started,
        await client.get("/"),
        await client.get("/static/chat.js"),
        await client.get("/static/missing.js"),
        await client.get("/api/openapi.json"),
        await client.get("/api/webchat/guessed-id"),
        await client.delete("/api/webchat/guessed-id"),
        await client.get("/healthz"),
        await client.get("/trainer"),
        await client.get("/preview", allow_redirects=False),
    ]
    for response in responses:
        for name, value in EXPECTED.items():
            assert response.headers.get(name) == value, (response.url, name)
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert started.headers["Cache-Control"] == "no-store"


class InlineCode(HTMLParser):
    """Finds what a Content-Security-Policy without 'unsafe-inline' would block."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> element")
        self.found += [
            f"{name} attribute" for name in names if name == "style" or name.startswith("on")
        ]


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


async def test_the_chat_page_and_the_trainer_pages_need_no_inline_code(
    client: TestClient[Any, Any],
) -> None:
    assert inline_code((STATIC / "index.html").read_text()) == []
    assert "javascript:" not in (STATIC / "index.html").read_text()
    assert inline_code(await (await client.get("/trainer")).text()) == []
    script = (STATIC / "chat.js").read_text()
    assert (
        "eval(" not in script and "innerHTML" not in script and "setAttribute('style'" not in script
    )
