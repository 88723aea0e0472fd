"""A coach serving a bridged WhatsApp group through the fake Matterbridge API account, and
people in that group who write, as the bridge streams them, and read what the coach posts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import patch

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import Coach, build, running
from bot.channels.matterbridge.delivery import MatterbridgeDelivery
from bot.channels.matterbridge.inbound import event_key
from bot.channels.matterbridge.stream import StreamFollower
from bot.store.tables import InboundKey, Learner
from tests.conftest import settings_for
from tests.fakes.matterbridge_api import (
    GATEWAY,
    TOKEN,
    FakeMatterbridge,
    Person,
    fake_matterbridge,
)
from tests.fakes.matterbridge_api import JSON as JSON
from tests.telegram_learner import (
    UNLIMITED,
    _readers,
    _shared_catalogs,
    drained,
    eventually,
    reading,
)

GREETING = "Hello! I am Coach. I help you learn to use your phone, step by step."


def follower(coach: Coach) -> StreamFollower:
    receiver = coach.channels["matterbridge"].receiver
    assert isinstance(receiver, StreamFollower)
    return receiver


def delivery(coach: Coach) -> MatterbridgeDelivery:
    sending = coach.channels["matterbridge"].delivery
    assert isinstance(sending, MatterbridgeDelivery)
    return sending


@asynccontextmanager
async def coach_on_matterbridge(
    database_url: str,
    bridge: FakeMatterbridge | None = None,
    *,
    greeted: bool = True,
    **settings: Any,
) -> AsyncIterator[tuple[Coach, FakeMatterbridge]]:
    """The whole coach following the fake bridge's stream (quick to follow it again after a
    loss), once the bridge greeted it unless ``greeted`` is False; the sender's own limits
    off, the group's limit as configured (20 a minute)."""
    async with _bridge(bridge) as fake:
        values = {
            "web_port": 0,
            **UNLIMITED,
            "matterbridge_url": fake.base_url,
            "matterbridge_token": TOKEN,
            "matterbridge_gateways": [GATEWAY],
            **settings,
        }
        with patch("bot.app.Catalogs", _shared_catalogs):
            coach = build(settings_for(database_url, **values))
        assert coach.sender is not None
        coach.sender.idle_seconds = 0.25
        stream = follower(coach)
        stream.first_pause, stream.longest_pause = 0.05, 0.5
        if coach.store.engine.dialect.name == "sqlite":
            _readers[id(coach)] = create_async_engine(database_url)
        try:
            async with running(coach):
                if greeted:
                    await connected(coach)
                yield coach, fake
        finally:
            reader = _readers.pop(id(coach), None)
            if reader is not None:
                await reader.dispose()


@asynccontextmanager
async def _bridge(bridge: FakeMatterbridge | None) -> AsyncIterator[FakeMatterbridge]:
    if bridge is not None:
        yield bridge
        return
    async with fake_matterbridge() as fake:
        yield fake


async def connected(coach: Coach, times: int = 1) -> None:
    """Wait until the bridge has greeted the coach's stream ``times`` times."""

    async def greeted() -> bool:
        return follower(coach).connections >= times

    await eventually(greeted)


async def handled(coach: Coach, said: JSON) -> bool:
    async with reading(coach) as session:
        return await session.get(InboundKey, event_key(said)) is not None


async def handled_count(coach: Coach) -> int:
    async with reading(coach) as session:
        keys = await session.scalars(select(InboundKey.key).where(InboundKey.key.like("mb:%")))
        return len(list(keys))


async def learner_row(coach: Coach, person: Person) -> Learner:
    async with reading(coach) as session:
        row = await session.scalar(
            select(Learner).where(
                Learner.channel == "matterbridge",
                Learner.user_id == f"{person.protocol}:{person.userid}",
            )
        )
    assert row is not None, f"{person.name} is no learner"
    return row


@dataclass
class BridgedPerson:
    """Someone in the bridged WhatsApp group: what they write (as the bridge streams it) and
    what the coach posts in the group meanwhile."""

    coach: Coach
    bridge: FakeMatterbridge
    person: Person
    last: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.person.name

    async def says(self, text: str) -> list[str]:
        """Write ``text`` in the group; the coach's posts from then until all is sent."""
        before = len(self.bridge.posts())
        said = self.bridge.say(self.person, text)
        await eventually(lambda: handled(self.coach, said))
        await drained(self.coach)
        self.last = [post.text for post in self.bridge.posts()[before:]]
        return self.last


async def everyone_says(people: list[tuple[BridgedPerson, str]]) -> list[str]:
    """Several people write at the same moment; the coach's posts once all is handled and sent."""
    assert people
    first = people[0][0]
    before = len(first.bridge.posts())
    said = [person.bridge.say(person.person, text) for person, text in people]
    for message in said:
        await eventually(lambda message=message: handled(first.coach, message))  # type: ignore[misc]
    await drained(first.coach)
    return [post.text for post in first.bridge.posts()[before:]]


def said_to(name: str, posts: list[str], names: tuple[str, ...]) -> list[str]:
    """What the coach said to ``name`` in these posts: each of its replies opens with the
    person's name, and a post may carry replies to several people one after the other."""
    openings = tuple(f"{other}: " for other in names)
    whose, said = None, []
    for post in posts:
        for paragraph in post.split("\n\n"):
            if paragraph.startswith(openings):
                whose = paragraph.split(": ", 1)[0]
                if whose == name:
                    said.append(paragraph.split(": ", 1)[1])
                    continue
            if whose == name:
                said[-1] += "\n\n" + paragraph
    return said


def number_for(label: str, said: str) -> str:
    """The number to type for option ``label`` in a message's numbered lines."""
    for line in said.split("\n"):
        number, _, rest = line.partition(". ")
        if rest == label and number.isdigit():
            return number
    raise AssertionError(f"no option {label!r} in {said!r}")
