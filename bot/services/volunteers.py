"""Volunteers: invited by an admin, registered by opening a single-use Telegram link."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.core.volunteering import INVITE_PREFIX
from bot.services.desk_sign_in import DeskSignIn, new_invite, use_invite
from bot.store.tables import Volunteer
from bot.store.unit_of_work import Store, UnitOfWork


@dataclass(frozen=True)
class VolunteerView:
    id: int
    name: str
    registered: bool
    languages: tuple[str, ...]
    places: tuple[str, ...]
    available: bool
    active: bool

    @classmethod
    def of(cls, row: Volunteer) -> VolunteerView:
        return cls(
            row.id,
            row.name,
            row.telegram_user_id is not None,
            tuple(row.languages),
            tuple(row.places),
            row.available,
            row.active,
        )


@dataclass(frozen=True)
class Invite:
    volunteer_id: int
    link: str  # Telegram's, or "" when the coach has no Telegram bot
    expires_at: datetime
    web_token: str = ""  # for the desk's sign-in link in a browser


class Volunteers:
    def __init__(self, store: Store, clock: Callable[[], datetime], invite_days: int = 7) -> None:
        self.store = store
        self.clock = clock
        self.invite_days = invite_days

    async def invite(
        self,
        name: str,
        languages: list[str],
        places: list[str],
        bot_username: str,
        coordinator: bool = False,
    ) -> Invite:
        """A new volunteer and the links that register them; each works once, for a week."""
        async with self.store.unit_of_work() as uow:
            return await self.invite_in(uow, name, languages, places, bot_username, coordinator)

    async def invite_in(
        self,
        uow: UnitOfWork,
        name: str,
        languages: list[str],
        places: list[str],
        bot: str,
        coordinator: bool = False,
    ) -> Invite:
        now = self.clock()
        expires = now + timedelta(days=self.invite_days)
        volunteer = Volunteer(
            name=name,
            languages=languages,
            places=places,
            available=True,
            active=True,
            coordinator=coordinator,
            created_at=now,
        )
        uow.session.add(volunteer)
        await uow.session.flush()
        token = await new_invite(uow, volunteer.id, "telegram", expires)
        link = f"https://t.me/{bot.lstrip('@')}?start={INVITE_PREFIX}{token}" if bot else ""
        web_token, _ = await DeskSignIn(self.store, self.clock, self.invite_days).link_in(
            uow, volunteer.id
        )
        return Invite(volunteer.id, link, expires, web_token)

    async def redeem(self, token: str, telegram_user_id: str) -> VolunteerView | None:
        """Register whoever opened the link; None when it is unknown, used, expired or removed."""
        async with self.store.unit_of_work() as uow:
            return await self.redeem_in(uow, token, telegram_user_id)

    async def redeem_in(
        self, uow: UnitOfWork, token: str, telegram_user_id: str, language: str | None = None
    ) -> VolunteerView | None:
        """``language``: the one their Telegram is in, kept as the coach's language for them."""
        volunteer_id = await use_invite(uow, token, "telegram", self.clock())
        if volunteer_id is None:
            return None
        taken = await uow.session.scalar(
            select(Volunteer).where(Volunteer.telegram_user_id == telegram_user_id)
        )
        volunteer = await uow.session.get(Volunteer, volunteer_id)
        if volunteer is None or not volunteer.active or taken is not None:
            return None
        volunteer.telegram_user_id = telegram_user_id
        volunteer.language = volunteer.language or language
        return VolunteerView.of(volunteer)

    async def listed(self) -> list[VolunteerView]:
        async with self.store.unit_of_work() as uow:
            rows = await uow.session.scalars(select(Volunteer).order_by(Volunteer.id))
            return [VolunteerView.of(row) for row in rows]

    async def remove(self, volunteer_id: int) -> bool:
        """No more alerts, claims or relays for them; their invitation stops working."""
        async with self.store.unit_of_work() as uow:
            volunteer = await uow.session.get(Volunteer, volunteer_id)
            if volunteer is None or not volunteer.active:
                return False
            volunteer.active = False
            volunteer.available = False
            volunteer.removed_at = self.clock()
            return True

    async def by_telegram(self, telegram_user_id: str) -> VolunteerView | None:
        """The active volunteer behind a Telegram account, checked on every volunteer action."""
        async with self.store.unit_of_work() as uow:
            row = await uow.session.scalar(
                select(Volunteer).where(
                    Volunteer.telegram_user_id == telegram_user_id, Volunteer.active.is_(True)
                )
            )
            return VolunteerView.of(row) if row is not None else None

    async def change(
        self, telegram_user_id: str, what: str, value: str = ""
    ) -> VolunteerView | None:
        """``/volunteer`` settings: toggle ``available``, a ``language`` or a ``place``."""
        async with self.store.unit_of_work() as uow:
            row = await uow.session.scalar(
                select(Volunteer).where(
                    Volunteer.telegram_user_id == telegram_user_id, Volunteer.active.is_(True)
                )
            )
            return change(row, what, value) if row is not None else None


def change(row: Volunteer, what: str, value: str) -> VolunteerView:
    """Toggle ``available``, a ``language`` or a ``place`` of a volunteer's record."""
    if what == "available":
        row.available = not row.available
    elif what in ("language", "place") and value:
        field = "languages" if what == "language" else "places"
        current = list(getattr(row, field))
        setattr(
            row,
            field,
            [v for v in current if v != value] if value in current else [*current, value],
        )
    return VolunteerView.of(row)
