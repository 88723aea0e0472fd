"""Spaced review in Leitner boxes, without a database or a clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.review import ReviewItem, due_items, review_answered, schedule_wrong

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_a_wrong_answer_puts_the_question_in_box_one_for_tomorrow() -> None:
    items = schedule_wrong((), "first", "colour", NOW)
    assert items == (ReviewItem("first", "colour", 1, NOW + DAY),)


def test_a_question_missed_again_goes_back_to_box_one_without_a_duplicate() -> None:
    items = schedule_wrong((), "first", "colour", NOW)
    items = review_answered(items, ("first", "colour"), True, NOW + DAY)
    items = schedule_wrong(items, "first", "colour", NOW + 2 * DAY)
    assert items == (ReviewItem("first", "colour", 1, NOW + 3 * DAY),)


def test_right_answers_move_up_the_boxes_and_then_retire_the_question() -> None:
    items = schedule_wrong((), "first", "colour", NOW)
    key = ("first", "colour")
    items = review_answered(items, key, True, NOW + DAY)
    assert items == (ReviewItem("first", "colour", 2, NOW + 4 * DAY),)
    items = review_answered(items, key, True, NOW + 4 * DAY)
    assert items == (ReviewItem("first", "colour", 3, NOW + 11 * DAY),)
    assert review_answered(items, key, True, NOW + 11 * DAY) == ()


def test_a_wrong_answer_in_review_sends_the_question_back_to_box_one() -> None:
    items = (ReviewItem("first", "colour", 3, NOW),)
    assert review_answered(items, ("first", "colour"), False, NOW) == (
        ReviewItem("first", "colour", 1, NOW + DAY),
    )


def test_answering_a_question_not_in_review_changes_nothing() -> None:
    items = (ReviewItem("first", "colour", 2, NOW),)
    assert review_answered(items, ("other", "step"), True, NOW) == items


def test_other_questions_keep_their_place_and_box() -> None:
    items = schedule_wrong((), "a", "1", NOW)
    items = schedule_wrong(items, "b", "2", NOW)
    items = schedule_wrong(items, "c", "3", NOW)
    items = review_answered(items, ("b", "2"), True, NOW + DAY)
    assert [(item.key, item.box) for item in items] == [
        (("a", "1"), 1),
        (("b", "2"), 2),
        (("c", "3"), 1),
    ]


def test_due_items_are_the_oldest_due_first_and_at_most_the_limit() -> None:
    items = (
        ReviewItem("a", "1", 1, NOW - 1 * DAY),
        ReviewItem("b", "2", 2, NOW + 1 * DAY),
        ReviewItem("c", "3", 1, NOW - 3 * DAY),
        ReviewItem("d", "4", 3, NOW),
        ReviewItem("e", "5", 1, NOW - 2 * DAY),
    )
    assert [item.lesson_id for item in due_items(items, NOW)] == ["c", "e", "a"]
    assert [item.lesson_id for item in due_items(items, NOW, limit=10)] == ["c", "e", "a", "d"]
    assert due_items(items, NOW, limit=0) == ()
    assert due_items(items, NOW - 10 * DAY) == ()


def test_questions_due_at_the_same_time_come_in_a_stable_order() -> None:
    items = (
        ReviewItem("b", "1", 1, NOW),
        ReviewItem("a", "2", 1, NOW),
        ReviewItem("a", "1", 1, NOW),
    )
    assert [item.key for item in due_items(items, NOW)] == [("a", "1"), ("a", "2"), ("b", "1")]


def test_a_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        due_items((), NOW, limit=-1)
