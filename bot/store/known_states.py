"""Learners' states as this process last wrote them, so that a learner's next turn need not
read their lessons' progress again nor rebuild their state from the row.

A state is kept with the version its learner's row was given when it was written (every
change to a learner moves the row's ``version``: a turn, a reminder, the desk, an erasure,
in this process or another) and the row's identity and creation time. It is used only for a
row read now with all of these the same, so nothing written since, anywhere, is missed; a
state is kept only once its transaction has committed. At most ``most`` learners are kept,
the least recently used going first; an erased learner's state is dropped at once.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Any

from bot.core.state import LearnerState

KNOWN_MOST = 1024  # learners: a few hundred write in a busy hour

Stamp = tuple[int, datetime, str, str, str]  # version, created, channel, chat, user


def stamp(row: Any) -> Stamp:
    """What must be unchanged in a learner's row for a state kept of it to hold."""
    return (row.version, row.created_at, row.channel, row.chat_id, row.user_id)


def written(read: Stamp) -> Stamp:
    """The stamp of a row read as ``read`` once a turn wrote it (its version moved on)."""
    version, created, channel, chat_id, user_id = read
    return (version + 1, created, channel, chat_id, user_id)


class KnownStates:
    def __init__(self, most: int = KNOWN_MOST) -> None:
        self.most = most
        self._states: OrderedDict[int, tuple[Stamp, LearnerState]] = OrderedDict()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._states)

    def get(self, row: Any) -> LearnerState | None:
        """The state kept for this learner's row as read now, if it still holds."""
        kept = self._states.get(row.id)
        if kept is None or kept[0] != stamp(row):
            self.misses += 1
            return None
        self._states.move_to_end(row.id)
        self.hits += 1
        return kept[1]

    def put(self, learner_id: int, written: Stamp, state: LearnerState) -> None:
        """Keep the state a committed transaction wrote, with the row's stamp then."""
        self._states[learner_id] = (written, state)
        self._states.move_to_end(learner_id)
        while len(self._states) > self.most:
            self._states.popitem(last=False)

    def forget(self, learner_id: int) -> None:
        self._states.pop(learner_id, None)
