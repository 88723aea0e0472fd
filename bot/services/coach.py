"""The coach service: one learner event in, one transaction, the replies out."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError

from bot.core.channel import Capabilities, Destination
from bot.core.data_cost import Transfer
from bot.core.data_use import DataUse, asks_data_use, data_use, since
from bot.core.effects import Effect, HandoffAction, Record, Reply
from bot.core.events import Inbound, InboundKind, Sender
from bot.core.groups import foreign_buttons
from bot.core.lesson import start_lesson
from bot.core.privacy import ERASED, answers_forget
from bot.core.reminders import due_at
from bot.core.rules import Rules
from bot.core.state import LearnerState
from bot.core.text import Msg
from bot.core.turn import step
from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.services import figures_live
from bot.services.erasure import ErasedKeys, erase_learner
from bot.services.figures import PREVIEW_OPENED
from bot.services.group_commit import GroupCommit
from bot.services.handoffs import HandoffDesk
from bot.services.rendering import Renderer
from bot.services.transfers import Transfers
from bot.store.data_use import traffic_since
from bot.store.database import forget_old_pages, is_postgres
from bot.store.delivery_queue import PENDING, SENDING
from bot.store.known_states import KnownStates
from bot.store.outbox import OutboundMessage, OutboxDraft
from bot.store.turn_rows import Claim, Held, TurnRows, identity
from bot.store.unit_of_work import Store, UnitOfWork

log = logging.getLogger(__name__)
T = TypeVar("T")
_LOG_KEY = secrets.token_bytes(16)
ATTEMPTS = 5
# A database that cannot be reached in time: refused connections, network errors and
# every bounded wait (connect, pool checkout, statement) that ran out (TimeoutError is
# an OSError). None of them is retried here: the caller says "try again" at once.
UNREACHABLE = (OSError, PoolTimeout)
EVENTS_TASK = "coach: learner events"  # the task that writes batches of events (its name)


class Unavailable(Exception):
    """The database could not be reached; the event was not handled and may be sent again."""


@dataclass(frozen=True)
class Turn:
    """One learner event to handle, with what its channel gives it."""

    event: Inbound
    channel: Capabilities
    help_link: str | None
    transfer: Transfer


@dataclass(frozen=True)
class Done:
    """A turn taken: its messages (their ids set once written), and what it leaves for
    the end of the transaction (``later``: its effects, when it asks the desk or erases)."""

    index: int
    learner_id: int
    sent: list[OutboxDraft]
    later: list[Effect]
    handoff_id: int | None
    turn: Turn


def _erases(effects: list[Effect]) -> bool:
    return any(isinstance(e, Record) and e.name == ERASED for e in effects)


class Sending(Protocol):
    """This process's sender, as the service hands it the messages it claimed as it wrote
    them (``bot.delivery.sender.OutboxSender``)."""

    lease: timedelta

    def claimable(self) -> frozenset[str]: ...

    async def take(self, messages: list[OutboundMessage]) -> None: ...


def _lane(turn: Turn) -> tuple[str, str, str]:
    return identity(turn.event.sender)


class Handled(list[OutboundMessage]):
    """The replies to one event, and a ``notice`` for the person who pressed a button when
    the press changed nothing (a chat app shows it as a short alert)."""

    def __init__(self, messages: list[OutboundMessage], notice: Msg | None = None) -> None:
        super().__init__(messages)
        self.notice = notice


def _offered(effects: list[Effect]) -> tuple[str, ...]:
    """The payloads of the options offered last, so typed numbers work in a preview too."""
    offered = [e for e in effects if isinstance(e, Reply) and e.choices]
    return tuple(c.payload for c in offered[-1].choices) if offered else ()


def log_id(key: str) -> str:
    """A short name for an event in the log: keys may hold chat ids, which logs never show.
    Keyed per process, so lines about one event match and nothing can be looked up."""
    return hashlib.blake2b(key.encode(), key=_LOG_KEY, digest_size=6).hexdigest()


async def exactly_once(key: str, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run one event's transaction until it commits once: a concurrent duplicate or a row
    changed underneath is tried again (the retry finds the event done, or redoes it); a lost
    connection is tried again; a database that cannot be reached is ``Unavailable``."""
    for number in range(1, ATTEMPTS + 1):
        try:
            return await attempt()
        except IntegrityError:
            # A concurrent delivery of the same update, or a learner created twice.
            log.info("conflict on event %s, attempt %d", log_id(key), number)
        except StaleDataError:
            log.info("learner changed under event %s, attempt %d", log_id(key), number)
        except DBAPIError as error:
            if retryable(error) and number < ATTEMPTS:
                log.info("deadlock or conflict on event %s, attempt %d", log_id(key), number)
                continue
            if not error.connection_invalidated or number == ATTEMPTS:
                log.warning(
                    "database unavailable for event %s: %s", log_id(key), type(error).__name__
                )
                raise Unavailable from error
            log.info("database connection lost, retrying event %s", log_id(key))
        except UNREACHABLE as error:
            log.warning("database unreachable for event %s: %s", log_id(key), type(error).__name__)
            raise Unavailable from error
    raise Unavailable(f"event {log_id(key)} conflicted {ATTEMPTS} times")


def stalled(error: Exception) -> bool:
    """The database did not answer in time or could not be reached (SQLite's "database is
    locked" after its wait, PostgreSQL's timeouts): no event can be handled now."""
    if isinstance(error, UNREACHABLE):
        return True
    return (
        isinstance(error, OperationalError)
        and not error.connection_invalidated
        and not retryable(error)
    )


def retryable(error: DBAPIError) -> bool:
    """PostgreSQL gave up one of two transactions waiting on each other (40P01), or could not
    serialise it (40001): done again, it goes through."""
    return getattr(error.orig, "sqlstate", None) in ("40P01", "40001")


def utc_now() -> datetime:
    return datetime.now(UTC)


class CoachService:
    def __init__(
        self,
        store: Store,
        courses: CourseHolder,
        catalogs: Catalogs,
        rules: Rules,
        *,
        default_language: str,
        clock: Callable[[], datetime] = utc_now,
        on_outbox: Callable[[], None] | None = None,
        desk: HandoffDesk | None = None,
    ) -> None:
        self.store = store
        self.courses = courses
        self.catalogs = catalogs
        self.default_language = default_language
        self.rules = rules
        self.clock = clock
        self.on_outbox = on_outbox
        # New replies of the channels it sends go out claimed for it, without a claim.
        self.sender: Sending | None = None
        self.desk = desk
        # Recognises the updates of learners erased since (set from the app's secret key).
        self.erased_keys = ErasedKeys()
        # Per channel, the link to a private chat that asks for a person (``handle``'s
        # ``help_link``), for a channel that learns it only once it runs (Telegram's getMe).
        self.help_links: dict[str, str] = {}
        self.transfers = Transfers(store)
        self.known = KnownStates()  # learners' states as this process last wrote them
        # Events that arrive while a batch is in its transaction go together in the next.
        # On PostgreSQL two batches may be in flight (SQLite writes one at a time anyway).
        self.turns: GroupCommit[Turn, Handled] = GroupCommit(
            self._batch,
            _lane,
            name=EVENTS_TASK,
            workers=2 if is_postgres(store.engine) else 1,
        )

    async def handle(
        self, event: Inbound, channel: Capabilities, *, help_link: str | None = None
    ) -> Handled:
        """Handle one event exactly once; a redelivered event gets the same replies back.

        ``help_link``: a link to a private chat with the coach that asks for a person there,
        given to a learner who asks in a group; by default the channel's in ``help_links``.
        """
        link = help_link or self.help_links.get(channel.name)
        started = time.perf_counter()
        transfer = await self.transfers.of(channel)
        handled = await self.turns.submit(Turn(event, channel, link, transfer))
        figures_live.event_handled(channel.name, event.kind.value, time.perf_counter() - started)
        return handled

    async def language_for(self, sender: Sender) -> str:
        """The language to speak to this sender in, before any event is handled."""
        guess = self.catalogs.best_match(sender.language_hint, self.default_language)
        try:
            async with self.store.reading() as uow:
                row = await uow.learners.find(sender, lock=False)
        except (DBAPIError, *UNREACHABLE):
            return guess
        return row.language if row is not None and row.language else guess

    @contextlib.asynccontextmanager
    async def _reading(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work for a look-up (it waits for no writer); a database that cannot be
        reached is Unavailable."""
        try:
            async with self.store.reading() as uow:
                yield uow
        except (DBAPIError, *UNREACHABLE) as error:
            raise Unavailable from error

    async def messages_after(self, channel: str, chat_id: str, after: int) -> list[OutboundMessage]:
        """What a pull channel's chat received after message ``after``."""
        async with self._reading() as uow:
            return await uow.outbox.after(channel, chat_id, after)

    async def preview(
        self, channel: Capabilities, conversation: str, language: str, lesson_id: str
    ) -> bool:
        """Open a lesson for a trainer in a fresh conversation, in the given language."""
        lesson = self.courses.course.lesson(lesson_id)
        if lesson is None or language not in self.catalogs.languages:
            return False
        now = self.clock()
        sender = Sender(channel.name, conversation, conversation)
        async with self.store.unit_of_work() as uow:
            row, before = await uow.learners.load_or_create(sender, now, self.rules.timezones[0])
            state = replace(before, language=language)
            after, effects = start_lesson(state, lesson, now, await self.transfers.of(channel))
            after = replace(after, choices=_offered(effects) or after.choices)
            await uow.learners.save(row, before, after, now, None)
            # Marks a trainer's conversation: no reminders, not in the course figures.
            await uow.record(row.id, PREVIEW_OPENED, {"lesson": lesson_id}, now)
            key = f"preview:{conversation}:{lesson_id}:{language}"
            to = Destination(channel.name, conversation, key, row.id)
            replies = [effect for effect in effects if isinstance(effect, Reply)]
            for outbox_row in Renderer(self.catalogs, channel).rows(replies, to, language, now):
                await uow.outbox.add(outbox_row)
        log.info("trainer preview of %s in %s", lesson_id, language)
        return True

    async def _batch(self, turns: list[Turn]) -> list[Handled | Exception]:
        """A batch of turns in one transaction. Should it fail, each turn is handled alone
        (and a failure is its own); a database that cannot be reached fails them all."""
        figures_live.batch_handled(len(turns))
        if len(turns) > 1:
            try:
                return list(await self._handle_together(turns))
            except Exception as error:
                if stalled(error):  # tried one by one, each would wait as long again
                    name = type(error).__name__
                    log.warning("database unavailable for %d events: %s", len(turns), name)
                    return [Unavailable() for _ in turns]
                # A conflict, or a fault in one of the turns: that one fails alone.
                log.info("%d events handled one by one: %s", len(turns), type(error).__name__)
        outcomes: list[Handled | Exception] = []
        for turn in turns:
            try:
                alone = await exactly_once(
                    turn.event.key, functools.partial(self._handle_together, [turn])
                )
                outcomes.append(alone[0])
            except Exception as error:
                outcomes.append(error)
        return outcomes

    async def _handle_together(self, turns: list[Turn]) -> list[Handled]:
        """Handle these turns (one per learner) in one transaction: their rows are read and
        written by table (``TurnRows``), the steps run in memory in the order they came.
        What goes to the desk and erasures come last, once the rest is written."""
        now = self.clock()
        answers: list[Handled | None] = [None] * len(turns)
        async with self.store.unit_of_work() as uow:
            going = await self._sort_out(uow, turns, answers, now)
            rows = TurnRows(uow)
            learners = await rows.learners(
                [turn.event.sender for _, turn in going], now, self.rules.timezones[0], self.known
            )
            requests = await uow.requests.current_of([held.id for held, _ in learners.values()])
            done: list[Done] = []
            for index, turn in going:
                held, before = learners[identity(turn.event.sender)]
                before = replace(before, request=requests.get(held.id))
                done.append(await self._turn(uow, rows, index, turn, held, before, now))
            await rows.flush(self._claim(now))
            erased = await self._desk_and_erasure(uow, [d for d in done if d.later], now)
        for learner_id, (stamp, state) in rows.written.items():  # committed: theirs now
            self.known.put(learner_id, stamp, state)
        for learner_id in erased:
            self.known.forget(learner_id)
        for taken in done:
            answers[taken.index] = Handled([OutboundMessage.of(row) for row in taken.sent])
            log.info(
                "event %s for learner %d: %d replies",
                log_id(turns[taken.index].event.key),
                taken.learner_id,
                len(taken.sent),
            )
        if erased and not await forget_old_pages(self.store.engine):
            log.warning("erasure of learners %s: the WAL is still in use", erased)
        claimed = [OutboundMessage.of(row) for d in done for row in d.sent if row.status == SENDING]
        if claimed and self.sender is not None:
            await self.sender.take(claimed)
        if self.on_outbox is not None and any(
            row.status == PENDING for taken in done for row in taken.sent
        ):
            self.on_outbox()
        return [answer for answer in answers if answer is not None]

    def _claim(self, now: datetime) -> Claim | None:
        """New replies go out claimed for this process's sender, when it sends now."""
        if self.sender is None:
            return None
        channels = self.sender.claimable()
        return Claim(channels, now, now + self.sender.lease) if channels else None

    async def _sort_out(
        self, uow: UnitOfWork, turns: list[Turn], answers: list[Handled | None], now: datetime
    ) -> list[tuple[int, Turn]]:
        """The turns to take, with what their events refer to; the others are answered in
        ``answers`` (a redelivery, an erased learner's, a press that is not theirs)."""
        tombstones = [self.erased_keys.tombstone(turn.event.key) for turn in turns]
        seen = await uow.inbound_keys_seen(*(turn.event.key for turn in turns), *tombstones)
        going: list[tuple[int, Turn]] = []
        for index, turn in enumerate(turns):
            event = turn.event
            if event.key in seen:
                answers[index] = Handled(await uow.outbox.for_inbound(event.key))
            elif tombstones[index] in seen or await self._gone_learner_answers(uow, event):
                answers[index] = Handled([])
            else:
                event, refused = await self._in_context(uow, event, turn.channel)
                if refused is None:
                    going.append((index, replace(turn, event=event)))
                    continue
                await uow.record(None, "input_refused", {"reason": "foreign_buttons"}, now)
                answers[index] = Handled([], notice=refused)
        return going

    async def _turn(
        self,
        uow: UnitOfWork,
        rows: TurnRows,
        index: int,
        turn: Turn,
        held: Held,
        before: LearnerState,
        now: datetime,
    ) -> Done:
        """One learner's step: what it changed is kept in ``rows``; what it asks of the desk
        or of an erasure is given back for later."""
        event = turn.event
        if held.new and await self.erased_keys.seen(uow, event.key):
            # Erased while this waited for their row (PostgreSQL): undone, then seen as done.
            raise StaleDataError(f"event {log_id(event.key)}: its learner was erased")
        used = await self._data_use(uow, event, before, held, turn.channel, turn.transfer, now)
        after, effects = step(
            before,
            event,
            self.courses.course,
            now,
            self.rules,
            help_link=turn.help_link,
            transfer=turn.transfer,
            data_use=used,
        )
        rows.save(held, before, after, now, due_at(after, self.rules, now, event.sender.group))
        rows.remember(event.key, held.id, now)
        language = after.language or self.catalogs.best_match(
            event.sender.language_hint, self.default_language
        )
        request_id = await uow.requests.save(held.id, before.request, after.request, language, now)
        later = any(isinstance(e, HandoffAction) for e in effects) and self.desk is not None
        later = later or _erases(effects)
        if not later:
            for effect in effects:
                if isinstance(effect, Record):
                    rows.record(held.id, effect.name, effect.data, now)
        replies = [effect for effect in effects if isinstance(effect, Reply)]
        sent = rows.send(
            Renderer(self.catalogs, turn.channel).rows(
                replies, Destination.of(event, held.id), language, now
            )
        )
        handoff_id = request_id or (before.request.id if before.request else None)
        return Done(index, held.id, sent, effects if later else [], handoff_id, turn)

    async def _desk_and_erasure(
        self, uow: UnitOfWork, turns: list[Done], now: datetime
    ) -> list[int]:
        """What these turns ask of the desk, and their erasures, with their records in order
        with the desk's; the learners erased."""
        erased: list[int] = []
        for turn in turns:
            learner = await uow.learners.stored(turn.learner_id)
            for effect in turn.later:
                if isinstance(effect, Record):
                    await uow.record(learner.id, effect.name, effect.data, now)
                elif isinstance(effect, HandoffAction) and self.desk is not None:
                    await self.desk.apply(uow, effect, turn.handoff_id, learner, now)
            if _erases(turn.later):
                # A pull channel's answers go back with this response: nothing is kept.
                keep = None if turn.turn.channel.pull else turn.turn.event.key
                tell = self.desk.learner_gone if self.desk is not None else None
                await erase_learner(
                    uow, learner, now, tell_desk=tell, keep_key=keep, erased_keys=self.erased_keys
                )
                erased.append(learner.id)
        return erased

    async def _data_use(
        self,
        uow: UnitOfWork,
        event: Inbound,
        state: LearnerState,
        row: Held,
        channel: Capabilities,
        transfer: Transfer,
        now: datetime,
    ) -> DataUse | None:
        """The learner's data the coach used lately: counted only when they ask (``/data``),
        never in a group, where no one's own figure can be told."""
        if event.sender.group or not asks_data_use(event, state.language, self.rules):
            return None
        moved = await traffic_since(uow.session, row.id, row.channel, row.chat_id, since(now))
        return data_use(moved, transfer, channel.pull)

    @staticmethod
    async def _gone_learner_answers(uow: UnitOfWork, event: Inbound) -> bool:
        """A press on the erasure question of a learner who is gone (an update handled
        before its learner was erased is known by its key's tombstone): nothing is done,
        nobody is made."""
        # Locked: on PostgreSQL an erasure in progress is waited for, then seen.
        return answers_forget(event) and await uow.learners.find(event.sender) is None

    @staticmethod
    async def _in_context(
        uow: UnitOfWork, event: Inbound, channel: Capabilities
    ) -> tuple[Inbound, Msg | None]:
        """The event with what it refers to (the coach message it replies to), and whether
        it must be refused (a group button pressed by someone it was not sent to)."""
        sender = event.sender
        if event.reply_to_message_id is not None and event.reply_to_tag is None:
            tag = await uow.outbox.replied_tag(
                sender.channel, sender.chat_id, event.reply_to_message_id, channel.pull
            )
            event = replace(event, reply_to_tag=tag)
        if event.kind is InboundKind.BUTTON and sender.group and event.pressed_message_id:
            owner = await uow.outbox.owner_of(
                sender.channel, sender.chat_id, event.pressed_message_id
            )
            return event, foreign_buttons(event, owner)
        return event, None
