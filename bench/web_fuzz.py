"""Fuzz the web app: 10,000 generated and malformed requests against a live coach.

Runs on SQLite, and on PostgreSQL too when COACH_TEST_DATABASE_URL points at a server
(a private database is made and dropped). Prints, per engine: requests, responses >= 500,
how many of those were 503, hangs over 5 s, and tracebacks or errors in the log.
``python -m bench.web_fuzz [requests]``; ``make bench`` runs it too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import sys
import tempfile
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web

from bench.scratch import migrated, scratch_postgres
from bot.app import build
from bot.config import Settings
from bot.store.database import upgrade

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = 10_000
CONCURRENCY = 16
HANG_SECONDS = 5.0
WILD = [
    "\x00",
    "\ud800",
    "\udfff",
    "مرحبا بك",
    "\u202eabc",
    "²",
    "٣",
    "①",
    "/start",
    "",
    "a@" * 2048,
]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=klingon",
    "application/json; charset=utf-16",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=zz",
    "multipart/form-data",
    "text/plain",
    "",
]


class Troubles(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR:
            self.count += 1


def wild(rng: random.Random) -> object:
    choice = rng.randrange(8)
    if choice == 0:
        return rng.choice(WILD)
    if choice == 1:
        return rng.choice([2**63, -(2**63) - 1, 10**40, 0, -1, 1.5, True, None])
    if choice == 2:
        return [wild(rng) for _ in range(rng.randrange(3))]
    if choice == 3:
        return {rng.choice(["text", "button", "x"]): wild(rng)}
    return "".join(chr(rng.randrange(0x10FFFF)) for _ in range(rng.randrange(1, 30)))


def http_request(rng: random.Random, credential: str) -> bytes:
    """One request as bytes on the wire, well-formed or not."""
    path = rng.choice([f"/api/webchat/{credential}", "/api/webchat", "/api/webchat/guess-1234"])
    method, headers, body = "POST", {"Content-Type": "application/json"}, b""
    kind = rng.randrange(12)
    if kind < 4:
        action = {k: wild(rng) for k in ("text", "button", "key", "reply_to") if rng.random() < 0.5}
        body = json.dumps(action).encode()
    elif kind == 4:
        depth = rng.choice([100, 10_000, 40_000, 100_000])
        body = b"[" * depth + b"]" * depth
    elif kind == 5:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = rng.choice([b"kind=contact&name=%ff%fe", b"kind=location&latitude=%00", b"a=" * 100])
    elif kind == 6:
        headers["Content-Type"] = rng.choice(CONTENT_TYPES)
        body = rng.randbytes(rng.randrange(400))
    elif kind == 7:
        headers["Content-Type"] = "multipart/form-data; boundary=zz"
        body = rng.choice(
            [
                b"--zz\r\nContent-Disposition: form-data; name=kind\r\n\r\nphoto\r\n--zz\r\n"
                b'Content-Disposition: form-data; name=file; filename="a"\r\n\r\n\x89PNG\r\n\x1a\n'
                b"\r\n--zz--\r\n",
                b"--zz\r\nbroken",
                b"--zz\r\nContent-Disposition: form-data; name=kind\r\n\r\n",
            ]
        )
    elif kind == 8:
        method = "GET"
        after = rng.choice(["0", "yesterday", "9" * 30, "²", "%00", "-1", str(2**63)])
        path = f"{path}?after={after}"
    elif kind == 9:
        method = "GET"
        path = rng.choice(["/static/" + "a" * 5000, "/static/../../etc/passwd", "/static/%00", "/"])
    elif kind == 10:
        method = rng.choice(["DELETE", "PUT", "PROPFIND", "FOO", "G ET"])
    else:
        return (  # a body shorter than its Content-Length: the server must stop waiting
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 100\r\nConnection: close\r\n\r\n"
        ).encode() + b'{"text": "h'
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items() if value)
    return head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body


async def send(port: int, raw: bytes) -> int | None:
    """The response's status, or None when it did not come within HANG_SECONDS."""
    try:
        async with asyncio.timeout(HANG_SECONDS):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(raw)
            status_line = await reader.readline()
            writer.close()
    except TimeoutError:
        return None
    except OSError:
        return 0  # the server closed a connection it could not read: no status at all
    parts = status_line.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


@asynccontextmanager
async def serving(database_url: str, folder: Path) -> AsyncIterator[int]:
    settings = Settings(
        database_url=database_url,
        secret_key_file=folder / "secret.key",
        web_rate_limit="10000000/minute",
        web_start_limit="10000000/minute",
        web_body_idle_seconds=1.0,
        _env_file=None,
    )
    coach = build(settings)
    if coach.store.engine.dialect.name == "sqlite":
        await upgrade(coach.store.engine)
    runner = web.AppRunner(coach.web, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield int(runner.addresses[0][1])
    finally:
        await runner.cleanup()
        await coach.store.close()


async def fuzz(database_url: str, engine: str, requests: int) -> str:
    troubles = Troubles()
    logging.getLogger().addHandler(troubles)
    rng = random.Random(f"coach-{engine}")
    statuses: Counter[int | None] = Counter()
    with tempfile.TemporaryDirectory() as folder:
        async with serving(database_url, Path(folder)) as port:
            start = "POST /api/webchat HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write((start + "Content-Length: 0\r\n\r\n").encode())
            answer = await reader.read()
            writer.close()
            credential = json.loads(answer.split(b"\r\n\r\n", 1)[1])["conversation"]
            gate = asyncio.Semaphore(CONCURRENCY)

            async def one() -> None:
                async with gate:
                    statuses[await send(port, http_request(rng, credential))] += 1

            await asyncio.gather(*(one() for _ in range(requests)))
    logging.getLogger().removeHandler(troubles)
    server_errors = sum(n for status, n in statuses.items() if status and status >= 500)
    return (
        f"web fuzz ({engine}): {requests} requests, {server_errors} responses >= 500 "
        f"({statuses[503]} of them 503), {statuses[None]} hangs over {HANG_SECONDS:.0f} s, "
        f"{troubles.count} tracebacks or errors in the log; "
        f"statuses: {dict(sorted((str(k), v) for k, v in statuses.items()))}"
    )


@asynccontextmanager
async def private_postgres(server_url: str) -> AsyncIterator[str]:
    async with scratch_postgres(server_url, "coach_fuzz") as url:
        await migrated(url)
        yield url


async def run(requests: int = REQUESTS) -> None:
    with tempfile.TemporaryDirectory() as folder:
        print(await fuzz(f"sqlite+aiosqlite:///{folder}/fuzz.db", "sqlite", requests), flush=True)
    server_url = os.environ.get("COACH_TEST_DATABASE_URL")
    if server_url:
        async with private_postgres(server_url) as url:
            print(await fuzz(url, "postgresql", requests), flush=True)
    else:
        print("web fuzz (postgresql): skipped, set COACH_TEST_DATABASE_URL to run it")


if __name__ == "__main__":
    asyncio.run(run(int(sys.argv[1]) if len(sys.argv) > 1 else REQUESTS))
