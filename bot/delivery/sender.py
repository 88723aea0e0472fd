"""The sender: drains the outbox through the channels, within their rate limits.

Replies go out as soon as the service wakes the sender; a message that cannot go yet
(flood control, a server error, a group at its limit) goes back to the outbox with a later
``not_before``, and a person who blocked the coach is marked stopped with their pending
messages dropped. A channel whose ``capabilities`` give ``chat_per_second`` (WhatsApp's pair
rate) has its private chats kept to that rate; a message the platform will not take until
the person writes again (WhatsApp's 24-hour window) is held out of the chat's queue.

With several coach processes on one PostgreSQL database, one of them is elected to send for
all (``run_elected``), so the rate limits are kept once for all of them; it hears at once of
the rows the others write (their NOTIFY), and another process takes over within seconds when
it stops, dies or loses the database (``COACH_LEADER_*``). On SQLite every process sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Protocol

from bot.core.channel import Capabilities
from bot.delivery.errors import Held, Moved, Rejected, RetryAfter, Transient, Unreachable
from bot.delivery.held import HeldMessages
from bot.delivery.limits import RateLimiter
from bot.delivery.sent_marks import SentMarks
from bot.services.figures_live import send_result
from bot.store.delivery_queue import DeliveryQueue
from bot.store.outbox import OutboundMessage
from bot.store.outbox_notices import announce, hearing
from bot.store.sealed import Unreadable
from bot.tracebacks import without_messages

if TYPE_CHECKING:
    from bot.services.leader import Election

log = logging.getLogger(__name__)
SENDER = "outbox-sender"  # what the coach processes elect one of to send
CLAIM_USED = 0.75  # past this share of a claim's lease, its messages are not sent any more


class _Stopping(Exception):
    """The sender stops before a message's turn came."""


class _ClaimRanOut(Exception):
    """A message's turn came after most of its claim's lease: the outbox may give it to
    another send soon, so it is left for that one rather than sent twice."""


class Delivery(Protocol):
    """A push channel's way of sending one outbox message."""

    def is_group(self, chat_id: str) -> bool: ...

    async def deliver(self, message: OutboundMessage) -> str | None:
        """Send it; the platform's message id. Raises a DeliveryError subclass."""
        ...


def channel_totals(deliveries: Mapping[str, Delivery]) -> dict[str, int]:
    """Each channel's own limit of messages a second, where its delivery gives one as
    ``per_second`` (WhatsApp's per-number throughput); the others share the bot's."""
    totals = {}
    for name, delivery in deliveries.items():
        per_second = getattr(delivery, "per_second", None)
        if isinstance(per_second, int) and per_second > 0:
            totals[name] = per_second
    return totals


def chat_rates(deliveries: Mapping[str, Delivery]) -> dict[str, float]:
    """Each channel's own rate for one private chat, where its capabilities give one (a
    delivery may say what its channel can do as ``capabilities``)."""
    rates = {}
    for name, delivery in deliveries.items():
        capabilities = getattr(delivery, "capabilities", None)
        if isinstance(capabilities, Capabilities) and capabilities.chat_per_second:
            rates[name] = capabilities.chat_per_second
    return rates


def by_chat(messages: list[OutboundMessage]) -> list[list[OutboundMessage]]:
    """Claimed messages, chat by chat, each chat's in order."""
    chats: dict[tuple[str, str], list[OutboundMessage]] = {}
    for message in messages:
        chats.setdefault((message.channel, message.chat_id), []).append(message)
    return list(chats.values())


def backoff(attempts: int) -> float:
    """Seconds to wait after the n-th failed try: 2, 4, 8 … up to 5 minutes, with jitter."""
    return float(min(300, 2**attempts)) + random.uniform(0, 1)


class OutboxSender:
    def __init__(
        self,
        queue: DeliveryQueue,
        deliveries: Mapping[str, Delivery],
        limiter: RateLimiter,
        clock: Callable[[], datetime],
        *,
        batch: int = 200,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 8,
        concurrency: int = 64,
        idle_seconds: float = 1.0,
        hold_seconds: float = 2.0,
    ) -> None:
        """``hold_seconds``: the longest a chat may keep the others waiting for its own limit
        (a group at 20 a minute); its next message then waits in the outbox instead."""
        self.queue = queue
        self.deliveries = deliveries
        self.limiter = limiter
        self.clock = clock
        self.batch = batch
        self.lease = lease
        self.max_attempts = max_attempts
        self.idle_seconds = idle_seconds
        self.hold_seconds = hold_seconds
        self.chat_rates = chat_rates(deliveries)
        self.channel_totals = channel_totals(deliveries)
        self.held = HeldMessages(queue.store)
        self.marks = SentMarks(queue, on_written=self.wake)
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._stopping = False
        self.on_unreachable: Callable[[str, str], Awaitable[None]] | None = None
        self.election: Election | None = None
        self._sending: set[asyncio.Task[bool]] = set()  # one task a chat, while it sends
        self._chats: dict[tuple[str, str], asyncio.Task[bool]] = {}  # the newest of each chat
        self._in_flight = 0  # messages claimed and not yet sent or put back
        self._running = False
        for channel in deliveries:
            announce(channel)

    def wake(self) -> None:
        """New messages are in the outbox: look now rather than at the next poll."""
        self._wake.set()

    @property
    def sending(self) -> bool:
        """Whether this process sends now: always unless elections decide."""
        return self.election is None or SENDER in self.election.leading

    @property
    def _taking(self) -> bool:
        """Whether messages claimed as they are written may be handed to this sender now:
        it runs, is not stopping, and is the one that sends."""
        return self._running and not self._stopping and self.sending

    def claimable(self) -> frozenset[str]:
        """The channels whose new messages this process may claim as it writes them, to
        hand them to ``take`` once written: none unless it is the one that sends now."""
        return frozenset(self.deliveries) if self._taking else frozenset()

    async def take(self, messages: list[OutboundMessage]) -> None:
        """Send these messages, claimed as they were written (``claimable``), without
        claiming them from the outbox again. Should this process have stopped sending
        meanwhile, they are given back to the outbox for the one that sends now."""
        if self._taking:
            self._start(messages)
        else:
            await self.queue.release([message.id for message in messages])

    async def run_elected(self, election: Election) -> None:
        """``run`` whenever this process is elected to send, until stopped."""
        self.election = election

        async def sending() -> None:
            engine, retry = self.queue.store.engine, max(self.idle_seconds, 1.0)
            async with hearing(engine, lambda _chat_id: self.wake(), retry_seconds=retry):
                await self.run()

        await election.run_while_leader(SENDER, sending)

    def stop(self) -> None:
        """Finish the messages being sent, put back those still waiting for a rate limit,
        then return from ``run``."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Claim and send until stopped. A chat waiting for its own limit (WhatsApp's pair
        rate, a group's minute) holds up no other: what is claimed meanwhile goes out beside
        it (the outbox never gives a chat's messages to two sends at once: a chat with a
        message on its way is not claimed again)."""
        await self.queue.recover(self.clock())
        self._running = True
        try:
            while not self._stopping:
                try:
                    claimed = await self._claim_and_start()
                except Exception as error:  # a lost database must not end delivery
                    log.error("outbox drain failed; retrying\n%s", without_messages(error))
                    claimed = 0
                if claimed == 0 and not self._stopping:
                    await self._idle()
        finally:
            self._running = False
            if not self._stopping:  # cancelled: what is on its way stops too (its claim runs out)
                for task in self._sending:
                    task.cancel()
            await asyncio.gather(*self._sending, return_exceptions=True)
            with contextlib.suppress(TimeoutError):  # a database away: their claims run out
                async with asyncio.timeout(self.lease.total_seconds() / 2):
                    await self.marks.flush()

    async def _claim_and_start(self) -> int:
        """Claim what is due, up to a batch in flight in all, and start each chat's sends."""
        room = self.batch - self._in_flight
        if room <= 0:
            return 0
        messages = await self.queue.claim(list(self.deliveries), self.clock(), room, self.lease)
        self._start(messages)
        return len(messages)

    def _start(self, messages: list[OutboundMessage]) -> None:
        """Send claimed messages, a task a chat. A chat still sending here (claimed by two
        transactions at once: a group's learners write together) sends these after."""
        for chat in by_chat(messages):
            key = (chat[0].channel, chat[0].chat_id)
            self._in_flight += len(chat)
            task = asyncio.create_task(self._send_chat(chat, after=self._chats.get(key)))
            self._chats[key] = task
            self._sending.add(task)
            task.add_done_callback(partial(self._chat_done, key, len(chat)))

    def _chat_done(self, key: tuple[str, str], count: int, task: asyncio.Task[bool]) -> None:
        self._sending.discard(task)
        if self._chats.get(key) is task:
            del self._chats[key]
        self._in_flight -= count
        self._wake.set()  # the chat's next messages may be claimed now
        error = None if task.cancelled() else task.exception()
        if error is not None:
            log.error("a chat's sends failed\n%s", without_messages(error))

    async def _idle(self) -> None:
        """Wait for a wake-up or ``idle_seconds``. Not ``asyncio.wait_for``: on Python 3.11
        it returns normally when cancelled just as the event is set, so the loop went on."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.idle_seconds):
                await self._wake.wait()
        self._wake.clear()

    async def drain_once(self) -> int:
        """Claim what is due and send it all, each chat in order; the number claimed."""
        claimed = await self._claim_and_start()
        await asyncio.gather(*self._sending)
        await self.marks.flush()
        return claimed

    async def _send_chat(
        self, messages: list[OutboundMessage], after: asyncio.Task[bool] | None = None
    ) -> bool:
        """Send a chat's messages in order, once its earlier ones (``after``) went; whether
        all of them went (or ended for good): the chat's later messages may go too."""
        started = self.limiter.clock()
        if after is not None:
            await asyncio.wait([after])
            if after.cancelled() or after.exception() is not None or not after.result():
                await self.queue.release([m.id for m in messages])  # after the earlier ones
                return False
        for index, message in enumerate(messages):
            try:
                if not await self._send_one(message, started):
                    await self.queue.release([m.id for m in messages[index + 1 :]])
                    return False
            except _ClaimRanOut:
                log.warning("messages %d and after waited past their claim", message.id)
                return False  # theirs to send again once the claim runs out
        return True

    async def _send_one(self, message: OutboundMessage, started: float) -> bool:
        """Send one message; False when the chat's later messages must wait."""
        if isinstance(message.text, Unreadable):
            # Sealed with a key this coach was not given: its words cannot be sent, and the
            # placeholder must never reach a learner.
            log.warning("message %d is sealed with a key not in COACH_DATA_KEYS", message.id)
            send_result(message.channel, "failed")
            await self.queue.failed(message.id, "sealed with a key not in COACH_DATA_KEYS")
            return True
        delivery = self.deliveries[message.channel]
        chat_key = f"{message.channel}:{message.chat_id}"
        group = delivery.is_group(message.chat_id)
        rate = None if group else self.chat_rates.get(message.channel)
        if not await self._its_turn(message, chat_key, group, rate, started):
            return False
        try:
            async with self.limiter.sending(
                chat_key,
                group,
                lambda: self._stopping,
                rate=rate,
                channel=message.channel,
                total=self.channel_totals.get(message.channel),
            ) as allowed:
                if not allowed:
                    raise _Stopping
                if self.limiter.clock() - started > self.lease.total_seconds() * CLAIM_USED:
                    raise _ClaimRanOut
                async with self._slots:
                    platform_id = await delivery.deliver(message)
        except _Stopping:
            await self.queue.release([message.id])  # the next sender sends it
            return False
        except RetryAfter as flood:
            log.warning("flood control on message %d: retry after %s s", message.id, flood.seconds)
            send_result(message.channel, "flood_control")
            self.limiter.pause(message.channel if flood.everyone else chat_key, flood.seconds)
            until = self.clock() + timedelta(seconds=flood.seconds)
            await self.queue.retry(message.id, until, "flood control", attempt=False)
            return False
        except Unreachable:
            log.info("chat of message %d is unreachable; its learners stop", message.id)
            send_result(message.channel, "unreachable")
            await self.queue.unreachable(message.channel, message.chat_id, self.clock())
            if self.on_unreachable is not None:
                await self.on_unreachable(message.channel, message.chat_id)
            return False
        except Moved as moved:
            log.info("chat of message %d has a new id; its learners follow", message.id)
            send_result(message.channel, "moved")
            await self.queue.moved(message.channel, message.chat_id, moved.chat_id)
            return False
        except Held as held:
            log.info("message %d held: %s", message.id, held)
            send_result(message.channel, "held")
            await self.held.hold(message.id, str(held))
            return True
        except Transient as error:
            return await self._transient(message, str(error))
        except Rejected as error:
            log.warning("message %d refused: %s", message.id, error)
            send_result(message.channel, "failed")
            await self.queue.failed(message.id, str(error))
            return True
        self.marks.add(message.id, platform_id, self.clock())
        send_result(message.channel, "sent")
        return True

    async def _its_turn(
        self,
        message: OutboundMessage,
        chat_key: str,
        group: bool,
        rate: float | None,
        started: float,
    ) -> bool:
        """False when the message must wait in the outbox rather than for the chat's own
        limit here: it would hold up the batch's other chats."""
        wait = self.limiter.chat_wait(chat_key, group, rate, message.channel)
        if wait > 0 and (
            wait > self.hold_seconds or self.limiter.clock() - started > self.hold_seconds
        ):
            until = self.clock() + timedelta(seconds=wait)
            await self.queue.retry(message.id, until, "rate limit", attempt=False)
            return False
        return True

    async def _transient(self, message: OutboundMessage, error: str) -> bool:
        if message.attempts + 1 >= self.max_attempts:
            log.warning("message %d failed %d times; given up", message.id, self.max_attempts)
            send_result(message.channel, "failed")
            await self.queue.failed(message.id, error)
            return True
        send_result(message.channel, "retry")
        delay = backoff(message.attempts + 1)
        log.info("message %d not sent (%s); again in %.0f s", message.id, error, delay)
        until = self.clock() + timedelta(seconds=delay)
        await self.queue.retry(message.id, until, error, attempt=True)
        return False
