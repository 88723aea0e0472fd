"""Staff who sign in to the trainer pages, each with a role.

A ``trainer`` opens lesson previews, course figures and translation pages; a
``coordinator`` also sees the hand-off figures; an ``admin`` sees everything, ``/metrics``
in a browser included, and invites others (``coach staff``). An admin invites a person with
a single-use link (the desk's single-use tokens); the trainer token (``COACH_TRAINER_TOKEN``)
signs in as one admin of its own. A session's token is kept as a hash only, and the role is
read on every request, so a new role or a removal takes effect at once.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.desk_sign_in import new_token, token_hash, use_token
from bot.store import staff as rows
from bot.store.tables import StaffInvite, StaffMember
from bot.store.unit_of_work import Store

log = logging.getLogger(__name__)
ROLES = ("trainer", "coordinator", "admin")  # each role sees what the ones before it see
SIGN_IN_PATH = "/trainer/sign-in/"


def holds(role: str, needed: str) -> bool:
    """Whether someone with ``role`` may open what ``needed`` opens."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


@dataclass(frozen=True)
class StaffPerson:
    id: int
    name: str
    role: str
    created_at: datetime
    removed_at: datetime | None
    shared_token: bool

    @classmethod
    def of(cls, row: StaffMember) -> StaffPerson:
        return cls(row.id, row.name, row.role, row.created_at, row.removed_at, row.shared_token)


@dataclass(frozen=True)
class Link:
    staff_id: int
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class Signed:
    """A new session: whose, and its token (the browser keeps it; the database its hash)."""

    staff_id: int
    token: str


class Staff:
    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        link_days: int = 7,
        session_hours: int = 12,
    ) -> None:
        self.store = store
        self.clock = clock
        self.link_days = link_days
        self.session_hours = session_hours

    async def invite(self, name: str, role: str) -> Link:
        """A new staff member and their single-use sign-in link."""
        if role not in ROLES:
            raise ValueError(role)
        async with self.store.unit_of_work() as uow:
            member = await rows.add_member(uow.session, name, role, self.clock())
            staff_id = member.id
        link = await self.link(staff_id)
        assert link is not None
        log.info("staff %d invited as %s", staff_id, role)
        return link

    async def link(self, staff_id: int) -> Link | None:
        """A new single-use sign-in link for an active member; None for anyone else."""
        expires = self.clock() + timedelta(days=self.link_days)

        def row(hashed: str) -> StaffInvite:
            return StaffInvite(token_hash=hashed, staff_id=staff_id, expires_at=expires)

        async with self.store.unit_of_work() as uow:
            if await rows.active_member(uow.session, staff_id) is None:
                return None
            return Link(staff_id, await new_token(uow, row), expires)

    async def listed(self) -> list[StaffPerson]:
        async with self.store.reading() as uow:
            return [StaffPerson.of(row) for row in await rows.members(uow.session)]

    async def set_role(self, staff_id: int, role: str) -> bool:
        """Give an active member another role; it holds from their next request."""
        if role not in ROLES:
            raise ValueError(role)
        async with self.store.unit_of_work() as uow:
            changed = await rows.set_role(uow.session, staff_id, role)
        if changed:
            log.info("staff %d is now %s", staff_id, role)
        return changed

    async def remove(self, staff_id: int) -> int | None:
        """Remove a member: their sessions end at once and their links stop working. The
        number of sessions ended, or None when there is no such active member."""
        async with self.store.unit_of_work() as uow:
            ended = await rows.remove_member(uow.session, staff_id, self.clock())
        if ended is not None:
            log.info("staff %d removed, %d session(s) ended", staff_id, ended)
        return ended

    async def redeem(self, token: str) -> Signed | None:
        """Use a sign-in link once: a new session, or None when the link is unknown, used,
        expired, or its member removed."""
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            staff_id = await use_token(uow, StaffInvite.staff_id, token, now)
            member = await rows.active_member(uow.session, staff_id) if staff_id else None
            if member is None:
                log.info("staff sign-in refused")
                return None
            return self._open(uow.session, member.id, now)

    async def with_shared_token(self) -> Signed:
        """A new session for the member who signs in with the trainer token (checked by
        the caller), an admin made the first time."""
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            member = await rows.shared_token_member(uow.session, now)
            return self._open(uow.session, member.id, now)

    def _open(self, session: AsyncSession, staff_id: int, now: datetime) -> Signed:
        token = secrets.token_urlsafe(32)
        rows.add_session(session, token_hash(token), staff_id, now)
        log.info("staff %d signed in", staff_id)
        return Signed(staff_id, token)

    async def person(self, staff_id: int, token: str) -> StaffPerson | None:
        """Who is behind a session still open, with their role now; None when it ended,
        is too old, or its member was removed."""
        since = self.clock() - timedelta(hours=self.session_hours)
        async with self.store.reading() as uow:
            row = await rows.session_member(uow.session, token_hash(token), staff_id, since)
            return StaffPerson.of(row) if row is not None else None

    async def sign_out(self, token: str) -> None:
        async with self.store.unit_of_work() as uow:
            await rows.end_session(uow.session, token_hash(token), self.clock())
