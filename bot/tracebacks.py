"""Tracebacks for the log without what the exceptions say: a message may quote a learner's
text, name or chat id (a parsing error quotes its input, a platform its request). Where
each exception was raised stays, and its type; a database error keeps its message, from
which the engine already took the values (``bot.store.database``)."""

from __future__ import annotations

import traceback

from sqlalchemy.exc import SQLAlchemyError


def without_messages(error: BaseException) -> str:
    """The traceback of ``error`` and of the exceptions it came from, oldest first."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.insert(0, current)
        current = current.__cause__ or current.__context__
    lines: list[str] = []
    for each in chain:
        if lines:
            lines += ["", "which led to:", ""]
        lines.append("Traceback (most recent call last):")
        for frame in traceback.extract_tb(each.__traceback__):
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        lines.append(_named(each))
    return "\n".join(lines)


def _named(error: BaseException) -> str:
    kind = type(error)
    name = f"{kind.__module__}.{kind.__qualname__}"
    if isinstance(error, SQLAlchemyError):
        return f"{name}: {error}"
    return f"{name} (its message is not logged)"
