"""One retry policy for every event's transaction: a deadlock or a serialisation failure that
PostgreSQL resolves by giving up one transaction is done again, not told as an outage."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from bot.services.coach import Unavailable, exactly_once


class PostgresError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def failing(sqlstate: str, times: int) -> tuple[list[int], object]:
    tries: list[int] = []

    async def attempt() -> str:
        tries.append(1)
        if len(tries) <= times:
            raise DBAPIError("UPDATE …", {}, PostgresError(sqlstate))
        return "done"

    return tries, attempt


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
async def test_a_deadlock_or_a_serialisation_failure_is_tried_again(sqlstate: str) -> None:
    tries, attempt = failing(sqlstate, 1)
    assert await exactly_once("k", attempt) == "done"  # type: ignore[arg-type]
    assert len(tries) == 2


async def test_any_other_database_error_is_unavailable_at_once() -> None:
    tries, attempt = failing("42P01", 1)
    with pytest.raises(Unavailable):
        await exactly_once("k", attempt)  # type: ignore[arg-type]
    assert len(tries) == 1
