"""Spaced review of missed quiz questions, in Leitner boxes.

A question answered wrong in a lesson enters box 1. Answered right in a review, it
moves up a box and waits longer; answered right from the last box, it is retired.
Answered wrong, it goes back to box 1.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

ReviewKey = tuple[str, str]

BOX_WAIT = {1: timedelta(days=1), 2: timedelta(days=3), 3: timedelta(days=7)}
LAST_BOX = max(BOX_WAIT)


@dataclass(frozen=True)
class ReviewItem:
    lesson_id: str
    step_id: str
    box: int
    due_at: datetime

    @property
    def key(self) -> ReviewKey:
        return (self.lesson_id, self.step_id)


Reviews = tuple[ReviewItem, ...]


def schedule_wrong(items: Reviews, lesson_id: str, step_id: str, now: datetime) -> Reviews:
    """A wrong answer: the question (again) waits in box 1."""
    fresh = ReviewItem(lesson_id, step_id, 1, now + BOX_WAIT[1])
    if any(item.key == fresh.key for item in items):
        return tuple(fresh if item.key == fresh.key else item for item in items)
    return (*items, fresh)


def review_answered(items: Reviews, key: ReviewKey, correct: bool, now: datetime) -> Reviews:
    """Move the reviewed question up a box, retire it, or send it back to box 1."""
    changed: list[ReviewItem] = []
    for item in items:
        if item.key != key:
            changed.append(item)
        elif not correct:
            changed.append(replace(item, box=1, due_at=now + BOX_WAIT[1]))
        elif item.box < LAST_BOX:
            box = item.box + 1
            changed.append(replace(item, box=box, due_at=now + BOX_WAIT[box]))
    return tuple(changed)


def due_items(items: Reviews, now: datetime, limit: int = 3) -> Reviews:
    """Up to ``limit`` questions due at ``now``, the longest waiting first."""
    if limit < 0:
        raise ValueError(f"limit must be 0 or more, not {limit}.")
    due = sorted(
        (item for item in items if item.due_at <= now),
        key=lambda item: (item.due_at, item.key),
    )
    return tuple(due[:limit])
