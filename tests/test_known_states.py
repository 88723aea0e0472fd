"""Learners' states kept by the process that wrote them: a learner's next turn starts from
the state kept, exactly as it would from the database, and never from one that something
else changed since (another process, the desk, a reminder) nor from an undone transaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.channel import Buttons, Capabilities
from bot.core.state import LearnerState
from bot.services.coach import CoachService
from bot.store import turn_rows
from bot.store.known_states import KnownStates, stamp, written
from bot.store.turn_rows import TurnRows
from tests.builders import NOW, button, coach_service, command, sender, text
from tests.conftest import ROOT

CHANNEL = Capabilities("test", Buttons.INLINE, pull=False)


def comparable(state: LearnerState) -> tuple[str, list[str]]:
    """A state as text, its lessons in one order (the database gives them in its own), its
    request left out (read beside the state in every turn)."""
    lessons = sorted(repr(progress) for progress in state.progress.values())
    return repr(replace(state, progress={}, request=None)), lessons


async def stored_state(service: CoachService, user: str) -> LearnerState:
    async with service.store.unit_of_work() as uow:
        read = await TurnRows(uow).learners([sender(user)], NOW, "Europe/Paris")
    ((_, state),) = read.values()
    return state


async def test_a_kept_state_is_the_one_the_database_holds_turn_after_turn(
    engine: AsyncEngine,
) -> None:
    """Through the shipped course: lessons, quizzes, reviews, placement, the menus."""
    service = coach_service(engine, ROOT / "curriculum")
    replies = await service.handle(command("start", at=NOW), CHANNEL)
    pressed: set[str] = set()
    for turn in range(80):
        at = NOW + timedelta(minutes=turn)
        offered = [b.payload for m in replies for b in m.buttons if b.payload not in pressed]
        if offered:
            pressed.add(offered[0])
            event = button(offered[0], at=at)
        else:
            pressed.clear()
            event = text("menu" if turn % 2 else "ok", at=at)
        replies = await service.handle(event, CHANNEL)
        ((learner_id, (_, kept)),) = service.known._states.items()
        assert comparable(kept) == comparable(await stored_state(service, "u1")), turn
    assert service.known.hits >= 79 and service.known.misses <= 1
    assert len(service.known) == 1 and learner_id


async def test_a_learner_changed_elsewhere_is_read_again(engine: AsyncEngine) -> None:
    """Another coach process (or the desk, or a reminder) changed them: its version moved."""
    here, elsewhere = coach_service(engine), coach_service(engine)
    await here.handle(command("start"), CHANNEL)
    await here.handle(button("lang:en"), CHANNEL)
    async with elsewhere.store.unit_of_work() as uow:
        row = await uow.learners.find(sender("u1"))
        assert row is not None
        row.language = "fr"  # as another process's turn would, through the ORM

    replies = await here.handle(command("help"), CHANNEL)

    assert replies and {reply.language for reply in replies} == {"fr"}
    assert here.known.misses >= 1


async def test_an_undone_transaction_keeps_no_state(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = coach_service(engine)
    flush = TurnRows.flush

    async def written_then_undone(self: TurnRows, *args: Any) -> None:
        await flush(self, *args)
        raise RuntimeError("the transaction fails once everything is written")

    monkeypatch.setattr(turn_rows.TurnRows, "flush", written_then_undone)
    with pytest.raises(RuntimeError):
        await service.handle(command("start"), CHANNEL)

    assert len(service.known) == 0


async def test_an_erased_learner_is_not_kept(engine: AsyncEngine) -> None:
    service = coach_service(engine)
    await service.handle(command("start"), CHANNEL)
    assert len(service.known) == 1

    await service.handle(command("forget"), CHANNEL)
    await service.handle(button("forget:yes"), CHANNEL)

    assert len(service.known) == 0


# The keeping itself.


class Row:
    def __init__(self, id_: int, version: int, user: str = "u1", created: int = 0) -> None:
        self.id, self.version = id_, version
        self.created_at = NOW + timedelta(seconds=created)
        self.channel, self.chat_id, self.user_id = "test", user, user


STATE = LearnerState(language="en")


def test_a_state_holds_only_for_the_row_as_it_was_written() -> None:
    known = KnownStates()
    known.put(1, written(stamp(Row(1, 4))), STATE)

    assert known.get(Row(1, 5)) is STATE
    assert known.get(Row(1, 4)) is None  # not yet written
    assert known.get(Row(1, 6)) is None  # changed since
    assert known.get(Row(1, 5, created=1)) is None  # another learner with the same id
    assert known.get(Row(1, 5, user="u2")) is None
    assert known.get(Row(2, 5)) is None


def test_at_most_so_many_are_kept_the_least_recently_used_going_first() -> None:
    known = KnownStates(most=2)
    for learner_id in (1, 2):
        known.put(learner_id, stamp(Row(learner_id, 1)), STATE)
    assert known.get(Row(1, 1)) is STATE  # 2 is now the least recently used
    known.put(3, stamp(Row(3, 1)), STATE)

    assert len(known) == 2
    assert known.get(Row(2, 1)) is None
    assert known.get(Row(1, 1)) is STATE and known.get(Row(3, 1)) is STATE
