"""Staff members (trainers, coordinators, admins), their sign-in links and sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.tables import StaffInvite, StaffMember, StaffSession

SHARED_TOKEN_NAME = "Trainer token"


async def add_member(
    session: AsyncSession, name: str, role: str, now: datetime, shared_token: bool = False
) -> StaffMember:
    member = StaffMember(name=name, role=role, created_at=now, shared_token=shared_token)
    session.add(member)
    await session.flush()
    return member


async def active_member(session: AsyncSession, staff_id: int) -> StaffMember | None:
    member = await session.get(StaffMember, staff_id)
    return member if member is not None and member.removed_at is None else None


async def members(session: AsyncSession) -> list[StaffMember]:
    """Everyone, the removed too, by id."""
    return list(await session.scalars(select(StaffMember).order_by(StaffMember.id)))


async def shared_token_member(session: AsyncSession, now: datetime) -> StaffMember:
    """The active member who signs in with the trainer token, made an admin the first time."""
    found = await session.scalar(
        select(StaffMember)
        .where(StaffMember.shared_token.is_(True), StaffMember.removed_at.is_(None))
        .order_by(StaffMember.id)
        .limit(1)
    )
    if found is not None:
        return found
    return await add_member(session, SHARED_TOKEN_NAME, "admin", now, shared_token=True)


async def set_role(session: AsyncSession, staff_id: int, role: str) -> bool:
    changed = await session.execute(
        update(StaffMember)
        .where(StaffMember.id == staff_id, StaffMember.removed_at.is_(None))
        .values(role=role)
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


async def remove_member(session: AsyncSession, staff_id: int, now: datetime) -> int | None:
    """Mark a member removed and end their sessions and unused links: the number of sessions
    ended, or None when there is no such active member."""
    removed = await session.execute(
        update(StaffMember)
        .where(StaffMember.id == staff_id, StaffMember.removed_at.is_(None))
        .values(removed_at=now)
    )
    if not removed.rowcount:  # type: ignore[attr-defined]
        return None
    await session.execute(
        update(StaffInvite)
        .where(StaffInvite.staff_id == staff_id, StaffInvite.used_at.is_(None))
        .values(used_at=now)
    )
    return await end_sessions(session, staff_id, now)


async def end_sessions(session: AsyncSession, staff_id: int, now: datetime) -> int:
    ended = await session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    return int(ended.rowcount)  # type: ignore[attr-defined]


def add_session(session: AsyncSession, hashed: str, staff_id: int, now: datetime) -> None:
    session.add(StaffSession(token_hash=hashed, staff_id=staff_id, created_at=now))


async def session_member(
    session: AsyncSession, hashed: str, staff_id: int, since: datetime
) -> StaffMember | None:
    """The active member behind a session that is still open and began after ``since``."""
    found: StaffMember | None = await session.scalar(
        select(StaffMember)
        .join(StaffSession, StaffSession.staff_id == StaffMember.id)
        .where(
            StaffSession.token_hash == hashed,
            StaffSession.staff_id == staff_id,
            StaffSession.ended_at.is_(None),
            StaffSession.created_at > since,
            StaffMember.removed_at.is_(None),
        )
    )
    return found


async def end_session(session: AsyncSession, hashed: str, now: datetime) -> None:
    await session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == hashed, StaffSession.ended_at.is_(None))
        .values(ended_at=now)
    )
