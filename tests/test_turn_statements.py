"""What one learner turn asks of the database: a step in a lesson reads each table once, and
not even its progress when this process wrote the learner's last turn."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import event

from bot.app import Coach
from bot.store.known_states import KnownStates
from tests.web_learner import WebLearner

QUOTE = '"'


def counted(coach: Coach) -> Counter[str]:
    """Statements the coach's engine runs, by verb and table (``SELECT lesson_progress``)."""
    seen: Counter[str] = Counter()

    @event.listens_for(coach.store.engine.sync_engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        words = statement.split()
        verb = words[0].upper()
        marker = {"SELECT": "FROM", "INSERT": "INTO", "UPDATE": verb, "DELETE": "FROM"}.get(verb)
        if marker is None or marker.upper() not in (w.upper() for w in words):
            return
        at = [w.upper() for w in words].index(marker.upper())
        table = words[at + 1].strip(QUOTE)
        seen[f"{verb} {table}"] += 1

    return seen


async def test_a_step_in_a_lesson_reads_the_learner_s_progress_once(
    client: Any, coach: Coach
) -> None:
    learner = WebLearner(client)
    await learner.says("/start")
    await learner.taps("English")
    await learner.taps("Basics")
    await learner.taps("First steps (2 min)")
    coach.service.known = KnownStates()  # as after a restart (else it is not read at all)
    statements = counted(coach)
    assert await learner.says("1") == ["Which is a colour?"]  # the lesson's progress moves
    assert statements["SELECT lesson_progress"] == 1
    assert statements["UPDATE lesson_progress"] == 1
    assert statements["SELECT outbox"] == 0  # the replies are not read back
    assert statements["SELECT inbound_keys"] == 1  # the update's key and its tombstone


async def test_the_next_step_starts_from_the_state_this_process_wrote(
    client: Any, coach: Coach
) -> None:
    learner = WebLearner(client)
    await learner.says("/start")
    for label in ("English", "Basics", "First steps (2 min)"):
        await learner.taps(label)
    statements = counted(coach)
    assert await learner.says("1") == ["Which is a colour?"]
    assert statements["SELECT learners"] == 1  # its version says nothing changed since
    assert statements["SELECT lesson_progress"] == 0
    assert statements["UPDATE lesson_progress"] == 1
