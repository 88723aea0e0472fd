"""Volunteers in a browser: a single-use sign-in link opens a session that they can end,
and that an admin can revoke. Only hashes of links and sessions are kept."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import InstrumentedAttribute

from bot.store.tables import DeskSession, Volunteer, VolunteerInvite
from bot.store.unit_of_work import Store, UnitOfWork

log = logging.getLogger(__name__)
SIGN_IN_PATH = "/desk/sign-in/"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def new_token(uow: UnitOfWork, row: Callable[[str], object]) -> str:
    """A new single-use token; ``row`` makes the row that keeps its hash, never the token."""
    token = secrets.token_urlsafe(24)
    uow.session.add(row(token_hash(token)))
    await uow.session.flush()
    return token


async def use_token(
    uow: UnitOfWork,
    owner: InstrumentedAttribute[int],
    token: str,
    now: datetime,
    *where: ColumnElement[bool],
) -> int | None:
    """Use a token once: the ``owner`` column of its row (a table with ``token_hash``,
    ``expires_at`` and ``used_at``), or None when it is unknown, used or expired (even when
    several try it at once: one conditional update)."""
    table: Any = owner.class_
    used = await uow.session.execute(
        update(table)
        .where(
            table.token_hash == token_hash(token),
            table.used_at.is_(None),
            table.expires_at > now,
            *where,
        )
        .values(used_at=now)
        .returning(owner)
    )
    found: int | None = used.scalar_one_or_none()
    return found


async def new_invite(uow: UnitOfWork, volunteer_id: int, kind: str, expires: datetime) -> str:
    """A single-use token for a volunteer: ``telegram`` registers their account, ``web``
    signs them in to the desk. Only its hash is kept."""

    def row(hashed: str) -> VolunteerInvite:
        return VolunteerInvite(
            token_hash=hashed, volunteer_id=volunteer_id, expires_at=expires, kind=kind
        )

    return await new_token(uow, row)


async def use_invite(uow: UnitOfWork, token: str, kind: str, now: datetime) -> int | None:
    """Use a token of that kind once; its volunteer's id, or None when it is unknown, used
    or expired."""
    return await use_token(
        uow, VolunteerInvite.volunteer_id, token, now, VolunteerInvite.kind == kind
    )


@dataclass(frozen=True)
class DeskVolunteer:
    """Who is signed in: what the desk pages need, and nothing of their accounts."""

    id: int
    name: str
    languages: tuple[str, ...]
    places: tuple[str, ...]
    coordinator: bool
    language: str | None

    @classmethod
    def of(cls, row: Volunteer) -> DeskVolunteer:
        return cls(
            row.id,
            row.name,
            tuple(row.languages),
            tuple(row.places),
            row.coordinator,
            row.language,
        )


class DeskSignIn:
    def __init__(self, store: Store, clock: Callable[[], datetime], link_days: int = 7) -> None:
        self.store = store
        self.clock = clock
        self.link_days = link_days

    async def link_in(self, uow: UnitOfWork, volunteer_id: int) -> tuple[str, datetime]:
        """A new single-use sign-in token for the volunteer, and when it expires."""
        expires = self.clock() + timedelta(days=self.link_days)
        return await new_invite(uow, volunteer_id, "web", expires), expires

    async def link(self, volunteer_id: int) -> tuple[str, datetime] | None:
        """A sign-in token for an active volunteer; None for an unknown or removed one."""
        async with self.store.unit_of_work() as uow:
            volunteer = await uow.session.get(Volunteer, volunteer_id)
            if volunteer is None or not volunteer.active:
                return None
            return await self.link_in(uow, volunteer_id)

    async def redeem(self, token: str, language: str | None) -> str | None:
        """Use a sign-in token once: a new session's token, or None when the link is unknown,
        used, expired, or its volunteer removed. ``language``: the browser's, kept unless
        the volunteer already has one."""
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            volunteer_id = await use_invite(uow, token, "web", now)
            volunteer = await uow.session.get(Volunteer, volunteer_id) if volunteer_id else None
            if volunteer is None or not volunteer.active:
                log.info("desk sign-in refused")
                return None
            if volunteer.language is None:
                volunteer.language = language
            session = secrets.token_urlsafe(32)
            uow.session.add(
                DeskSession(
                    token_hash=token_hash(session), volunteer_id=volunteer.id, created_at=now
                )
            )
            log.info("volunteer %d signed in to the desk", volunteer.id)
            return session

    async def volunteer(self, session: str) -> DeskVolunteer | None:
        """The active volunteer behind a session still open; checked on every desk request."""
        async with self.store.unit_of_work() as uow:
            row = await uow.session.scalar(
                select(Volunteer)
                .join(DeskSession, DeskSession.volunteer_id == Volunteer.id)
                .where(
                    DeskSession.token_hash == token_hash(session),
                    DeskSession.ended_at.is_(None),
                    Volunteer.active.is_(True),
                )
            )
            return DeskVolunteer.of(row) if row is not None else None

    async def sign_out(self, session: str) -> None:
        async with self.store.unit_of_work() as uow:
            await uow.session.execute(
                update(DeskSession)
                .where(
                    DeskSession.token_hash == token_hash(session), DeskSession.ended_at.is_(None)
                )
                .values(ended_at=self.clock())
            )

    async def revoke(self, volunteer_id: int) -> int:
        """End every desk session of a volunteer, and their unused sign-in links."""
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            ended = await uow.session.execute(
                update(DeskSession)
                .where(DeskSession.volunteer_id == volunteer_id, DeskSession.ended_at.is_(None))
                .values(ended_at=now)
            )
            await uow.session.execute(
                update(VolunteerInvite)
                .where(
                    VolunteerInvite.volunteer_id == volunteer_id,
                    VolunteerInvite.kind == "web",
                    VolunteerInvite.used_at.is_(None),
                )
                .values(used_at=now)
            )
            return int(ended.rowcount)  # type: ignore[attr-defined]
