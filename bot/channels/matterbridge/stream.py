"""Following ``/api/stream``: every message handled in order, and once; a lost stream is
followed again after a growing pause.

On each connection the bridge sends its whole buffer again (``/api/messages`` is not cleared
on read either), so a message may come any number of times: the coach service recognises
each by its key and changes nothing the second time. A message the database could not take
is not skipped: the stream is dropped and followed again, and the buffer brings it back (it
is given up only when the database answers yet refused it ``most_tries`` times running).
``skip_before`` asks the bridge to leave out what was handled more than ``overlap`` ago.

With an ``election``, only the process that leads ``matterbridge-reader`` for this bridge
follows its stream (the bridge sees one client); another takes over within seconds when that
one stops, dies or loses the database. Every process still posts replies: a post is one
``POST /api/message``, and the outbox gives each message to one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import aiohttp

from bot.channels.matterbridge.api import MatterbridgeApi, Refused
from bot.channels.matterbridge.inbound import JSON, event_key
from bot.channels.matterbridge.lines import bounded_lines
from bot.services.coach import Unavailable, log_id
from bot.services.leader import Election
from bot.tracebacks import without_messages

log = logging.getLogger(__name__)
MOST_LINE = 4 * 1024 * 1024  # a relayed file (1 MB by default, in base64) fits
STOP_GRACE_SECONDS = 10.0
MOST_TRIES = 8  # a message refused this many times running, the database up, is skipped
LOST = (aiohttp.ClientError, TimeoutError, OSError)


def reader_name(base_url: str) -> str:
    """What the coach processes following one bridge elect a reader for (its address only as
    a digest, so logs do not carry it)."""
    return "matterbridge-reader:" + hashlib.sha256(base_url.encode()).hexdigest()[:12]


def pause_after(failures: int, first: float, longest: float) -> float:
    """Seconds before following again: ``first``, doubled at each failure up to ``longest``,
    with jitter so that several coaches do not all call at once."""
    return min(longest, first * 2.0 ** min(failures, 16)) + random.uniform(0, first)


async def assumed_up() -> bool:
    return True


def stamped(message: JSON) -> datetime | None:
    """The bridge's time on a message, if it has a real one."""
    raw = message.get("timestamp")
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None and moment.year > 2000 else None


class StreamFollower:
    def __init__(
        self,
        api: MatterbridgeApi,
        handle: Callable[[JSON], Awaitable[None]],
        *,
        first_pause: float = 1.0,
        longest_pause: float = 60.0,
        most_line: int = MOST_LINE,
        overlap: timedelta = timedelta(minutes=1),
        database_up: Callable[[], Awaitable[bool]] | None = None,
        election: Election | None = None,
    ) -> None:
        """``database_up``: whether the database answers, asked before a message it keeps
        refusing is given up (while it is away, every message waits for it). ``election``:
        follow only while this process leads the bridge's readers; None to always follow."""
        self.api = api
        self.handle = handle
        self.first_pause = first_pause
        self.longest_pause = longest_pause
        self.most_line = most_line
        self.overlap = overlap
        self.connections = 0  # streams the bridge greeted
        self.skipped = 0  # lines that were not a message: too long, not JSON, not an object
        self.handed = 0  # messages handed to the coach (again, when the bridge repeats them)
        self.most_tries = MOST_TRIES
        self.database_up = database_up or assumed_up
        self.election = election
        self._latest: datetime | None = None
        self._stuck: tuple[str, int] = ("", 0)  # a message the database did not take, tries
        self._stopping = asyncio.Event()
        self._busy = False
        self._greeted = False  # the stream being followed was greeted by the bridge
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._stopping.clear()
        if self.election is None:
            follow = self._follow()
        else:
            follow = self.election.run_while_leader(reader_name(self.api.base_url), self._follow)
        self._task = asyncio.create_task(follow, name="matterbridge-stream")

    async def stop_receiving(self) -> None:
        """Stop following; a message being handled is finished first (within a bound)."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is None:
            return
        if not self._busy:
            task.cancel()
        done, _ = await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)
        if not done:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def close(self) -> None:
        await self.stop_receiving()
        await self.api.close()

    async def _follow(self) -> None:
        failures = 0  # since the bridge last greeted a stream (or the database last answered)
        while not self._stopping.is_set():
            self._greeted = False
            try:
                await self._read()
                failures = 0 if self._greeted else failures + 1
            except Refused as refused:
                log.warning(
                    "matterbridge refused the stream (%d): check COACH_MATTERBRIDGE_TOKEN",
                    refused.status,
                )
                failures += 1
            except Unavailable:
                log.warning("database unavailable: the bridge's buffer will bring it again")
                failures += 1  # the pause grows while the database is away
            except LOST as error:
                log.info("matterbridge stream lost (%s)", type(error).__name__)
                failures = 1 if self._greeted else failures + 1
            except Exception as error:  # following must go on whatever went wrong
                log.error("matterbridge stream failed\n%s", without_messages(error))
                failures = 1 if self._greeted else failures + 1
            if self._stopping.is_set():
                return
            with contextlib.suppress(TimeoutError):
                pause = pause_after(failures, self.first_pause, self.longest_pause)
                await asyncio.wait_for(self._stopping.wait(), pause)

    async def _read(self) -> None:
        """Follow one connection until it ends."""
        skip_before = None if self._latest is None else self._latest - self.overlap
        async with self.api.stream(skip_before) as body:
            async for line in bounded_lines(body, self.most_line):
                message = self._message(line)
                if message is None:
                    continue
                if message.get("event") == "api_connected":
                    self.connections += 1
                    self._greeted = True
                    log.info("matterbridge stream connected")
                    continue
                self._busy = True
                try:
                    await self._handle(message)
                finally:
                    self._busy = False
                if self._stopping.is_set():
                    break

    def _message(self, line: bytes | None) -> JSON | None:
        if line is None:
            self.skipped += 1
            log.warning("matterbridge: a line longer than %d bytes skipped", self.most_line)
            return None
        if not line.strip():
            return None
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python's stack
            message = None
        if not isinstance(message, dict):
            self.skipped += 1
            log.warning("matterbridge: a line of %d bytes that is not a message skipped", len(line))
            return None
        return message

    async def _handle(self, message: JSON) -> None:
        try:
            await self.handle(message)
        except Unavailable:
            key = event_key(message)
            tries = self._stuck[1] + 1 if self._stuck[0] == key else 1
            self._stuck = (key, tries)
            if tries < self.most_tries or not await self.database_up():
                raise
            # The database answers, yet never took this message: the group's messages
            # after it must not wait behind it for ever.
            log.warning("matterbridge message %s skipped after %d tries", log_id(key), tries)
            return
        except Exception as error:  # one message that cannot be handled must not stop others
            key = event_key(message)
            log.error(
                "matterbridge message %s not handled\n%s", log_id(key), without_messages(error)
            )
            return
        self.handed += 1
        moment = stamped(message)
        if moment is not None and (self._latest is None or moment > self._latest):
            self._latest = moment
