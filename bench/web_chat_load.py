"""The web chat under load: 50 learners at once through its JSON API, beside a bare handler.

Each server runs alone in a process of its own, as ``coach run`` does; the learners are
coroutines in this process, each on its own keep-alive connection from an address of its
own on the loopback network (127.0.0.2, 127.0.0.3, ...: each learner is a client of its own,
as in real life). A learner starts with ``POST /api/webchat`` (``/start``), then posts its
next action as soon as the previous answer came: the first button of the last message with
buttons that it has not tapped yet (so a wrong quiz answer is followed by the next option),
or a short text when no button is offered. That walks through the shipped course's lessons.

- coach: the whole coach (``build`` + ``running``, web chat only), on a temporary SQLite
  file and, when COACH_BENCH_DATABASE_URL (or COACH_TEST_DATABASE_URL) names a PostgreSQL
  server, on a scratch database created there and dropped after.
- bare handler: an aiohttp app whose handlers read the JSON body and answer a fixed message
  shaped like the coach's (text, three buttons), with no database.

The coach's per-client rate limits (``COACH_WEB_RATE_LIMIT``, 600/minute, and
``COACH_WEB_START_LIMIT``, 60/minute) would refuse a learner posting as fast as it is
answered: this benchmark sets both to 1,000,000/minute.

Counted: the answers that arrive within the measured window (after a warm-up), their
status, their latency (request written to answer read); the server's CPU time in that window;
the SQL statements and transactions the coach's process ran, per request it answered.

``python -m bench.web_chat_load [--learners 50] [--seconds 20] [--json]``;
``--serve coach|bare`` is the server process it starts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.scratch import (
    code_version,
    count_statements,
    figures_out,
    migrated,
    postgres_server,
    rounded,
    scratch_postgres,
)

ROOT = Path(__file__).resolve().parent.parent
LEARNERS = 50
SECONDS = 20.0
WARM_UP = 3.0
HIGH_LIMIT = "1000000/minute"
SQL_LINE = "sql "  # the coach's process says what SQL it ran, at its end, in a line of this
ENGINES = ("sqlite", "postgresql")
TICKS = os.sysconf("SC_CLK_TCK")
BARE_MESSAGE = {
    "id": 1,
    "text": "Your neighbour falls and cannot breathe well. Which number?",
    "media": None,
    "lang": "en",
    "direction": "ltr",
    "asks": None,
}


# The servers (run in a child process).


def bare_app() -> web.Application:
    """A JSON handler with no database: it reads the action and answers one message."""
    counter = iter(range(1, 10**12))

    def answer(conversation: str | None) -> web.Response:
        n = next(counter)
        buttons = [{"label": f"{i}. Option {i}", "payload": f"b{n}:{i}"} for i in (1, 2, 3)]
        body: dict[str, Any] = {"messages": [BARE_MESSAGE | {"id": n, "buttons": buttons}]}
        if conversation is not None:
            body = {"conversation": conversation, **body}
        return web.json_response(body)

    async def start(request: web.Request) -> web.Response:
        await request.json()
        return answer(f"bare-{next(counter)}")

    async def post(request: web.Request) -> web.Response:
        await request.json()
        return answer(None)

    app = web.Application()
    app.router.add_post("/api/webchat", start)
    app.router.add_post("/api/webchat/{conversation}", post)
    return app


@contextlib.asynccontextmanager
async def bare_server() -> AsyncIterator[str]:
    runner = web.AppRunner(bare_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def coach_server(url: str, folder: Path) -> AsyncIterator[str]:
    from bot.app import build, running
    from bot.config import Settings

    settings = Settings(
        _env_file=None,
        database_url=url,
        secret_key_file=folder / "secret.key",
        web_host="127.0.0.1",
        web_port=0,
        web_rate_limit=HIGH_LIMIT,  # the learners post as fast as they are answered
        web_start_limit=HIGH_LIMIT,
    )
    coach = build(settings)
    statements = count_statements(coach.store.engine)
    async with running(coach, long_lived=True) as address:  # as ``coach run`` does
        yield address
    print(f"{SQL_LINE}{json.dumps(statements)}", flush=True)


async def serve(kind: str, url: str, folder: Path) -> None:
    """Serve until SIGTERM; the address goes to stdout as the first line."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    server = bare_server() if kind == "bare" else coach_server(url, folder)
    async with server as address:
        print(address, flush=True)
        await stop.wait()


# The learners (in this process).


class Connection:
    """One keep-alive HTTP/1.1 connection, written and read by hand (a light client, so the
    client's own cost stays small beside the server's)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int, source: str) -> Connection:
        reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
        return cls(reader, writer)

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        data = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Accept-Language: en\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        self.writer.write(head.encode() + data)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:] if line)
        }
        if headers.get("transfer-encoding", "").lower() == "chunked":
            payload = b""
            while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
                payload += (await self.reader.readexactly(size + 2))[:-2]
            await self.reader.readuntil(b"\r\n")
        else:
            payload = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            raise ConnectionError("the server closed the connection")
        try:
            parsed = json.loads(payload) if payload else {}
        except ValueError:
            parsed = {}
        return status, parsed if isinstance(parsed, dict) else {}

    def close(self) -> None:
        self.writer.close()


@dataclass
class Answer:
    started: float
    ended: float
    status: int


@dataclass
class Learner:
    """What a learner taps next: the first button not yet tried in the last choice shown."""

    number: int
    credential: str | None = None
    offered: tuple[str, ...] = ()
    tried: set[str] = field(default_factory=set)
    turns: int = 0

    def next_action(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        self.turns += 1
        key = f"l{self.number}t{self.turns}"
        with_buttons = [m for m in messages if m.get("buttons")]
        if with_buttons:
            offered = tuple(str(b["payload"]) for b in with_buttons[-1]["buttons"])
            if offered != self.offered:
                self.offered, self.tried = offered, set()
        if not self.offered:
            return {"text": "hello", "key": key}
        choice = next((p for p in self.offered if p not in self.tried), self.offered[0])
        self.tried.add(choice)
        return {"button": choice, "key": key}


async def learner_loop(
    number: int, port: int, answers: list[Answer], started: asyncio.Event, ready: asyncio.Event
) -> None:
    """Start, then post the next action as soon as answered, until cancelled."""
    learner = Learner(number)
    source = f"127.0.{1 + number // 250}.{2 + number % 250}"
    connection = await Connection.open("127.0.0.1", port, source)
    try:
        began = time.monotonic()
        status, body = await connection.post("/api/webchat", {"text": "/start"})
        answers.append(Answer(began, time.monotonic(), status))
        started.set()
        learner.credential = str(body.get("conversation", ""))
        messages: list[dict[str, Any]] = body.get("messages", [])
        await ready.wait()
        while True:
            action = learner.next_action(messages)
            began = time.monotonic()
            try:
                status, body = await connection.post(f"/api/webchat/{learner.credential}", action)
            except (ConnectionError, asyncio.IncompleteReadError):
                answers.append(Answer(began, time.monotonic(), 0))
                connection.close()
                connection = await Connection.open("127.0.0.1", port, source)
                continue
            answers.append(Answer(began, time.monotonic(), status))
            if status == 200:
                messages = body.get("messages", []) or messages
    finally:
        connection.close()


def cpu_seconds(pid: int) -> float:
    """The user and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class Result:
    name: str
    learners: int
    seconds: float
    answers: list[Answer]
    server_cpu: float
    client_cpu: float
    load: float  # the machine's load average over the last minute, at the window's end
    log_lines: list[str]
    sql: Counter[str] = field(default_factory=Counter)  # all the coach's process ran
    served: int = 0  # answers in all, warm-up and starts included

    def figures(self) -> dict[str, Any]:
        answers = self.answers
        latencies = sorted(a.ended - a.started for a in answers)
        statuses = Counter(a.status for a in answers)

        def at(share: float) -> float:
            return latencies[min(len(latencies) - 1, int(len(latencies) * share))] * 1000

        return {
            "learners": self.learners,
            "seconds": self.seconds,
            "requests": len(answers),
            "requests_per_second": rounded(len(answers) / self.seconds, 1),
            "p50_ms": rounded(at(0.50), 1) if latencies else None,
            "p90_ms": rounded(at(0.90), 1) if latencies else None,
            "p99_ms": rounded(at(0.99), 1) if latencies else None,
            "max_ms": rounded(latencies[-1] * 1000, 1) if latencies else None,
            "mean_ms": rounded(statistics.fmean(latencies) * 1000, 1) if latencies else None,
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "server_cpu_share": rounded(self.server_cpu / self.seconds, 2),
            "client_cpu_share": rounded(self.client_cpu / self.seconds, 2),
            "load_average": rounded(self.load, 2),
            "server_log_lines": len(self.log_lines),
        } | self.sql_figures()

    def sql_figures(self) -> dict[str, Any]:
        """SQL per request, over every request the coach answered (about: the requests in
        flight when the learners stopped are not counted)."""
        if not self.sql or not self.served:
            return {}
        kinds = Counter(self.sql)
        transactions = kinds.pop("transaction", 0)
        return {
            "sql_per_request": {
                "transactions": rounded(transactions / self.served, 2),
                "statements": rounded(sum(kinds.values()) / self.served, 2),
                "by_kind": {k: rounded(v / self.served, 2) for k, v in kinds.most_common()},
            }
        }

    def line(self) -> str:
        f = self.figures()
        bad = sum(n for status, n in f["statuses"].items() if status != "200")
        return (
            f"{self.name:<19} {f['requests']:>6} answers in {self.seconds:.0f} s: "
            f"{f['requests_per_second']:>8,.1f} requests/s, p50 {f['p50_ms']} ms, "
            f"p90 {f['p90_ms']} ms, p99 {f['p99_ms']} ms, max {f['max_ms']} ms; "
            f"{bad} not 200; CPU: server {f['server_cpu_share']:.0%} of a core, learners "
            f"{f['client_cpu_share']:.0%}; load average {f['load_average']:.1f}"
        )


async def measure(
    name: str, kind: str, url: str, learners: int, seconds: float, folder: Path
) -> Result:
    """Start the server process, warm up, measure ``seconds``, stop it."""
    log = folder / f"{name.replace(' ', '-').replace(',', '')}.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.web_chat_load",
            "--serve",
            kind,
            "--url",
            url,
            "--folder",
            str(folder),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=sink,
        )
    try:
        assert process.stdout is not None
        address = (await asyncio.wait_for(process.stdout.readline(), 60)).decode().strip()
        if not address:
            raise RuntimeError(f"the {kind} server did not start; see {log}")
        port = int(address.rsplit(":", 1)[1])
        answers: list[Answer] = []
        ready = asyncio.Event()
        events = [asyncio.Event() for _ in range(learners)]
        tasks = [
            asyncio.create_task(learner_loop(n, port, answers, events[n], ready))
            for n in range(learners)
        ]
        waiting = [asyncio.create_task(e.wait()) for e in events]
        await asyncio.wait(waiting, timeout=60)  # every learner started its conversation
        for waiter in waiting:
            waiter.cancel()
        ready.set()
        await asyncio.sleep(WARM_UP)
        window_start, cpu_before = time.monotonic(), cpu_seconds(process.pid)
        client_before = sum(os.times()[:2])
        await asyncio.sleep(seconds)
        window_end, cpu = time.monotonic(), cpu_seconds(process.pid) - cpu_before
        client_cpu = sum(os.times()[:2]) - client_before
        load = os.getloadavg()[0]
        failed = [t.exception() for t in tasks if t.done() and not t.cancelled()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if any(failed):
            raise RuntimeError(f"a learner failed: {next(f for f in failed if f)!r}")
        counted = [a for a in answers if window_start <= a.ended < window_end]
    finally:
        said = b""
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                said, _ = await asyncio.wait_for(process.communicate(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
    lines = log.read_text(errors="replace").splitlines()
    sql: Counter[str] = Counter()
    for line in said.decode(errors="replace").splitlines():
        if line.startswith(SQL_LINE):
            sql.update(json.loads(line.removeprefix(SQL_LINE)))
    result = Result(name, learners, seconds, counted, cpu, client_cpu, load, lines)
    result.sql, result.served = sql, len(answers)
    return result


async def run(
    learners: int = LEARNERS, seconds: float = SECONDS, engines: tuple[str, ...] = ENGINES
) -> dict[str, Any]:
    server = postgres_server() if "postgresql" in engines else None
    print("== web chat under load: learners at once through the JSON API, beside a bare handler ==")
    print(
        f"{learners} learners, each posting its next action as soon as answered; {WARM_UP:.0f} s "
        f"warm-up, then {seconds:.0f} s measured; each server in a process of its own; the "
        f"coach's per-client limits set to {HIGH_LIMIT} (COACH_WEB_RATE_LIMIT, "
        "COACH_WEB_START_LIMIT); "
        + " and ".join(
            name for name, on in (("SQLite", "sqlite" in engines), ("PostgreSQL", server)) if on
        )
    )
    if "postgresql" in engines and not server:
        print("PostgreSQL skipped: set COACH_BENCH_DATABASE_URL to a server to run it")
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as name:
        folder = Path(name)
        results["bare"] = await measure("bare handler", "bare", "", learners, seconds, folder)
        print(results["bare"].line(), flush=True)
        if "sqlite" in engines:
            sqlite = f"sqlite+aiosqlite:///{folder}/webchat.db"
            await migrated(sqlite)
            results["sqlite"] = await measure(
                "coach, sqlite", "coach", sqlite, learners, seconds, folder
            )
            print(results["sqlite"].line(), flush=True)
        if server:
            async with scratch_postgres(server, "coach_webload") as url:
                await migrated(url)
                results["postgresql"] = await measure(
                    "coach, postgresql", "coach", url, learners, seconds, folder
                )
            print(results["postgresql"].line(), flush=True)
    bare = results["bare"].figures()
    version = await asyncio.to_thread(code_version)
    print(f"coach code: {version}")
    figures: dict[str, Any] = {
        "code": version,
        "learners": learners,
        "seconds": seconds,
        "limits": HIGH_LIMIT,
    }
    figures["bare"] = bare
    for engine in ("sqlite", "postgresql"):
        if engine not in results:
            continue
        coach = results[engine].figures()
        ratio = coach["requests_per_second"] / bare["requests_per_second"]
        coach["per_bare"] = rounded(ratio)
        figures[engine] = coach
        print(
            f"ratio, {engine:<10} coach / bare handler = {ratio:.3f} requests/s; p99 "
            f"{coach['p99_ms']} ms against {bare['p99_ms']} ms"
        )
        sql = coach.get("sql_per_request")
        if sql:
            kinds = ", ".join(f"{k} {v:.1f}" for k, v in list(sql["by_kind"].items())[:8])
            print(
                f"  SQL per request, {engine}: {sql['transactions']:.1f} transactions, "
                f"{sql['statements']:.1f} statements ({kinds})"
            )
        lines = results[engine].log_lines
        if lines:
            print(f"  coach log, {engine}: {len(lines)} lines; first: {lines[0][:150]}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.web_chat_load", description=__doc__)
    parser.add_argument("--learners", type=int, default=LEARNERS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--json", action="store_true", help="the figures as JSON on stdout")
    parser.add_argument("--engine", choices=ENGINES, action="append", help="this database only")
    parser.add_argument("--serve", choices=("coach", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        asyncio.run(serve(arguments.serve, arguments.url, arguments.folder))
        return
    with figures_out(arguments.json) as give:
        engines = tuple(arguments.engine or ENGINES)
        give(asyncio.run(run(arguments.learners, arguments.seconds, engines)))


if __name__ == "__main__":
    main()
