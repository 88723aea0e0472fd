"""What the web chat costs a learner in data, measured in Debian's Chromium.

``python -m bench.web_data [--json]``. The shipped course is served on loopback behind a proxy that
counts every byte of every connection both ways (HTTP headers included, TCP/IP not), and
Chromium (Playwright, phone size, English) opens it. Beside the proxy's count, the page's
own DevTools accounting: ``Network.loadingFinished``'s encodedDataLength (what arrived,
headers included) for each response, ``dataReceived`` for a stream still open, and each
request's headers and body as sent (``requestWillBeSentExtraInfo``). The service worker's
own fetches are not the page's, so only the proxy sees them: targets are judged on the
larger of the two counts.

Printed, bytes for: the first visit (until the first messages are shown), the way to the
first lesson (language, time, menu, the lesson's cost), the first warm-up lesson end to end
from "Start" with its picture (set against the size the coach said it would cost),
ten idle minutes with the page open, and a returning visit before any new message (it
installs the service worker) and a third one (the shell comes from the service worker);
then a second learner, in a browser of their own, takes the same lesson from "Start without
pictures" (set against the text part of the size said before it). ``--json`` prints the
figures as one JSON object instead.
Ten idle minutes are simulated honestly but faster: the stream's heartbeat is set to
60 s / SCALE (``COACH_WEB_STREAM_HEARTBEAT_SECONDS``) and the page idles 600 s / SCALE,
so it sees the same ten heartbeats it would in ten real minutes (the stream's lifetime
is counted in heartbeats, so it scales too).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app import build, running
from bot.config import Settings
from bot.store.database import upgrade

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PHONE: Any = {"width": 390, "height": 844}
SCALE = 30
HEARTBEAT = 60.0 / SCALE
IDLE = 600.0 / SCALE
QUIET = 1.5  # seconds without a byte on the wire: the page has settled
TCP_IP = 52  # bytes of IPv4 + TCP headers (with time stamps) a segment, for the estimate
TARGETS = {
    "first visit": 20_000,
    "returning visit": 10_000,
    "first warm-up lesson": 30_000,
    "lesson without pictures": 10_000,
    "ten idle minutes": 5_000,
}


@dataclass
class Wire:
    """Bytes through the counting proxy, both ways, and how many reads (≈ segments)."""

    up: int = 0
    down: int = 0
    reads: int = 0
    last: float = field(default_factory=time.monotonic)

    def count(self, up: bool, size: int) -> None:
        if up:
            self.up += size
        else:
            self.down += size
        self.reads += 1
        self.last = time.monotonic()


@contextlib.asynccontextmanager
async def counting_proxy(target: str, wire: Wire) -> AsyncIterator[str]:
    """A TCP proxy to ``target`` (host:port); yields its own http://host:port."""
    host, port = target.rsplit(":", 1)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, up: bool) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while chunk := await reader.read(65536):
                wire.count(up, len(chunk))
                writer.write(chunk)
                await writer.drain()
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            writer.close()

    async def connected(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(host, int(port))
        await asyncio.gather(pipe(client_r, server_w, True), pipe(server_r, client_w, False))

    server = await asyncio.start_server(connected, "127.0.0.1", 0)
    bound = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{bound}"
    finally:
        server.close()


@dataclass
class Request:
    sent: int = 0
    received: int = 0
    served_by_worker: bool = False


class DevTools:
    """The page's network accounting from the DevTools protocol (CDP)."""

    def __init__(self) -> None:
        self.requests: dict[str, Request] = {}
        self.up = 0
        self.down = 0

    def _get(self, params: dict[str, Any]) -> Request:
        return self.requests.setdefault(params["requestId"], Request())

    def sent(self, params: dict[str, Any]) -> None:
        request = params["request"]
        body = len(request.get("postData", "").encode()) if request.get("hasPostData") else 0
        self._get(params).sent = body
        self.up += body

    def headers_sent(self, params: dict[str, Any]) -> None:
        headers = params.get("headers", {})
        size = sum(len(k) + len(str(v)) + 4 for k, v in headers.items()) + 2
        self.up += size  # the request line is in the proxy's count; CDP gives no raw form

    def response(self, params: dict[str, Any]) -> None:
        response = params["response"]
        found = self._get(params)
        found.served_by_worker = bool(response.get("fromServiceWorker"))
        if not found.served_by_worker and not response.get("fromDiskCache"):
            self._add(found, int(response.get("encodedDataLength", 0)))

    def data(self, params: dict[str, Any]) -> None:
        found = self._get(params)
        if not found.served_by_worker:
            self._add(found, int(params.get("encodedDataLength", 0)))

    def finished(self, params: dict[str, Any]) -> None:
        found = self._get(params)
        if not found.served_by_worker:
            total = int(params.get("encodedDataLength", 0))
            self._add(found, max(0, total - found.received))

    def _add(self, found: Request, size: int) -> None:
        found.received += size
        self.down += size


@dataclass
class Phase:
    name: str
    wire_up: int
    wire_down: int
    reads: int
    devtools_up: int
    devtools_down: int

    @property
    def wire(self) -> int:
        return self.wire_up + self.wire_down

    @property
    def devtools(self) -> int:
        return self.devtools_up + self.devtools_down

    @property
    def counted(self) -> int:
        return max(self.wire, self.devtools)


class Meter:
    def __init__(self, wire: Wire, devtools: DevTools) -> None:
        self.wire = wire
        self.devtools = devtools
        self.phases: list[Phase] = []
        self.shown: dict[str, str] = {}  # for each lesson phase, the cost said before it
        self._mark = self._now()

    def _now(self) -> tuple[int, int, int, int, int]:
        w, d = self.wire, self.devtools
        return w.up, w.down, w.reads, d.up, d.down

    def phase(self, name: str) -> Phase:
        now = self._now()
        deltas = [b - a for a, b in zip(self._mark, now, strict=True)]
        self._mark = now
        found = Phase(name, *deltas)
        self.phases.append(found)
        return found

    async def settled(self, at_least: float = QUIET) -> None:
        """Wait until nothing has crossed the wire for ``at_least`` seconds."""
        while True:
            left = at_least - (time.monotonic() - self.wire.last)
            if left <= 0:
                return
            await asyncio.sleep(left)


async def watch(context: Any, page: Any, devtools: DevTools) -> Any:
    session = await context.new_cdp_session(page)
    handlers: dict[str, Callable[[dict[str, Any]], None]] = {
        "Network.requestWillBeSent": devtools.sent,
        "Network.requestWillBeSentExtraInfo": devtools.headers_sent,
        "Network.responseReceived": devtools.response,
        "Network.dataReceived": devtools.data,
        "Network.loadingFinished": devtools.finished,
    }
    for name, handler in handlers.items():
        session.on(name, handler)
    await session.send("Network.enable")
    return session


async def tap(page: Any, label: str) -> None:
    """Tap the newest choice whose label matches."""
    choice = page.locator(".msg.bot .choice", has_text=re.compile(label)).last
    await choice.wait_for(timeout=15000)
    await choice.click()


async def said(page: Any, text: str) -> None:
    await page.locator(".msg.bot", has_text=re.compile(text)).last.wait_for(timeout=15000)


async def open_page(context: Any, url: str, devtools: DevTools) -> Any:
    page = await context.new_page()
    await watch(context, page, devtools)
    await page.goto(url)
    return page


async def to_the_first_lesson(page: Any, meter: Meter, phase: str) -> None:
    """Language, time, no placement, the warm-up module, its first lesson: the cost said."""
    await tap(page, "English")
    await tap(page, r"^1\. ")  # the time where the learner is
    await tap(page, r"\. Skip$")  # the questions on where to begin
    await tap(page, "Using this chat")
    await said(page, "choose a lesson")
    await tap(page, "Buttons and numbers")
    cost = page.locator(".msg.bot", has_text="This lesson:").last
    await cost.wait_for(timeout=15000)
    meter.shown[phase] = await cost.inner_text()  # what the lesson will cost, before it


async def the_first_lesson(page: Any, pictures: bool) -> None:
    """The first warm-up lesson to its recap, from the choice after its cost."""
    await tap(page, r"\. ▶️ Start$" if pictures else r"\. Start without pictures$")
    await tap(page, "Next")
    if pictures:
        await page.locator(".msg.bot img").last.wait_for(timeout=15000)
        await page.wait_for_function(
            "[...document.querySelectorAll('.msg.bot img')].every(i => i.complete)"
        )
    else:
        await said(page, "🖼")  # the picture's description, said instead of it
    await tap(page, "Next")
    await tap(page, "Blue")
    await tap(page, "Both work")
    await page.locator("#msg").fill("OK")
    await page.locator("#send").click()
    await said(page, "You learned")


async def walk(url: str, meter: Meter) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = await browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB"
        )
        page = await open_page(context, url, meter.devtools)
        await said(page, "Choose your language")
        await meter.settled()
        meter.phase("first visit")

        await to_the_first_lesson(page, meter, "first warm-up lesson")
        await meter.settled()
        meter.phase("to the first lesson")

        await the_first_lesson(page, pictures=True)
        await meter.settled()
        meter.phase("first warm-up lesson")

        await asyncio.sleep(IDLE)
        meter.phase("ten idle minutes")

        await page.close()
        await meter.settled(0.5)
        meter.phase("(closing the page)")
        for name in ("returning visit", "third visit"):
            page = await open_page(context, url, meter.devtools)
            await said(page, "You learned")
            await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            await asyncio.sleep(QUIET)  # the stream opens
            await meter.settled()
            meter.phase(name)
            await page.close()
            await meter.settled(0.5)
            meter.phase("(closing the page)")
        await context.close()

        context = await browser.new_context(  # another learner, who saves data
            viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB"
        )
        page = await open_page(context, url, meter.devtools)
        await said(page, "Choose your language")
        await to_the_first_lesson(page, meter, "lesson without pictures")
        await meter.settled()
        meter.phase("(another learner, to the first lesson)")
        await the_first_lesson(page, pictures=False)
        await meter.settled()
        meter.phase("lesson without pictures")
        await context.close()
        await browser.close()


def report(phases: list[Phase]) -> list[str]:
    lines = [
        f"{'':<24}{'wire ↑':>9}{'wire ↓':>9}{'DevTools ↑':>12}{'DevTools ↓':>12}"
        f"{'+TCP/IP≈':>10}  target"
    ]
    for p in phases:
        target = TARGETS.get(p.name)
        verdict = ""
        if target is not None:
            met = "met" if p.counted < target else "NOT met"
            verdict = f"< {target / 1000:.0f} kB: {met} ({p.counted / 1000:.1f} kB)"
        lines.append(
            f"{p.name:<24}{p.wire_up:>9}{p.wire_down:>9}{p.devtools_up:>12}{p.devtools_down:>12}"
            f"{tcp_ip(p):>10}  {verdict}"
        )
    return lines


def tcp_ip(phase: Phase) -> int:
    """The wire's bytes with TCP/IP's own, about: each segment, and an ACK for it."""
    return phase.wire + 2 * TCP_IP * phase.reads


async def measure() -> tuple[list[Phase], dict[str, str]]:
    """Every phase measured, and the cost said before each lesson phase."""
    os.environ["COACH_WEB_STREAM_HEARTBEAT_SECONDS"] = f"{HEARTBEAT:g}"
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{folder}/bench.db",
            curriculum_path=ROOT / "curriculum",
            locales_path=ROOT / "locales",
            secret_key_file=Path(folder) / "secret.key",
            web_port=0,
            _env_file=None,  # type: ignore[call-arg]
        )
        coach = build(settings)
        await upgrade(coach.store.engine)
        wire = Wire()
        meter = Meter(wire, DevTools())
        async with running(coach) as url, counting_proxy(url.split("//")[1], wire) as proxy:
            meter.phase("(starting)")
            await walk(proxy, meter)
    return [p for p in meter.phases if not p.name.startswith("(")], meter.shown


@dataclass(frozen=True)
class Shown:
    """The size said before a lesson (the text part only, for a lesson taken without its
    pictures), against what the lesson really moved."""

    lesson: str
    text: str
    said: int | None
    moved: int

    @property
    def off(self) -> float | None:
        return None if self.said is None else (self.said - self.moved) / self.moved

    @property
    def met(self) -> bool:
        return self.off is not None and abs(self.off) <= 0.10

    def line(self) -> str:
        if self.off is None or self.said is None:
            return f"size shown before the {self.lesson}: not found ({self.text!r})"
        return (
            f"size shown before the {self.lesson}: {self.said / 1000:.0f} kB; it moved "
            f"{self.moved / 1000:.1f} kB: {self.off:+.0%} "
            f"(within 10 %: {'met' if self.met else 'NOT met'})"
        )


def shown_against_measured(shown: dict[str, str], phases: list[Phase]) -> list[Shown]:
    found = []
    for phase in phases:
        if (text := shown.get(phase.name)) is None:
            continue
        sizes = [float(n) for n in re.findall(r"([0-9]+(?:\.[0-9]+)?) kB", text)]
        if phase.name == "lesson without pictures":
            sizes = sizes[:1]  # "about 10 kB (text) + 3 kB (1 picture)": the text
        said = round(sum(sizes) * 1000) if sizes else None
        found.append(Shown(phase.name, text, said, phase.counted))
    return found


def as_json(phases: list[Phase], shown: list[Shown]) -> dict[str, Any]:
    return {
        "phases": {
            p.name: {
                "wire_up": p.wire_up,
                "wire_down": p.wire_down,
                "devtools_up": p.devtools_up,
                "devtools_down": p.devtools_down,
                "with_tcp_ip": tcp_ip(p),
                "counted": p.counted,
                "target": TARGETS.get(p.name),
                "met": None if p.name not in TARGETS else p.counted < TARGETS[p.name],
            }
            for p in phases
        },
        "shown": {
            s.lesson: {"text": s.text, "said": s.said, "moved": s.moved, "off": s.off, "met": s.met}
            for s in shown
        },
        "heartbeat_seconds": HEARTBEAT,
        "idle_seconds": IDLE,
    }


async def run(json_out: bool) -> None:
    if not await asyncio.to_thread(CHROMIUM.exists):
        print("skipped: Debian's Chromium is not at /usr/bin/chromium")
        return
    if not json_out:
        print("== web chat data: bytes a learner's phone sends and receives, Chromium, English ==")
        print(
            f"(ten idle minutes: heartbeat {HEARTBEAT:g} s for 60 s, {IDLE:g} s idle for 600 s; "
            "wire = HTTP bytes through a counting proxy, service worker included; "
            "+TCP/IP ≈ wire plus 52 bytes a segment and its ACK)"
        )
    phases, said = await measure()
    shown = shown_against_measured(said, phases)
    if json_out:
        print(json.dumps(as_json(phases, shown), ensure_ascii=False, indent=2))
        return
    for line in [*report(phases), *(s.line() for s in shown)]:
        print(line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="the figures as one JSON object")
    asyncio.run(run(parser.parse_args().json))
