"""Whether a person in a bridged group has a question of the coach's waiting for an answer.

With no buttons in a bridged group, a typed number is how a person answers the coach; it is
meant for the coach while that person has options waiting (their language, a quiz, a menu,
a task), and is group talk otherwise. So is a reply (WhatsApp's swipe) to one of the coach's
posts: the bridge keeps no id for what the coach posted, so with ``PreserveThreading`` on
the API account a reply to a person's message names its parent and a reply to the coach's
comes as ``msg-parent-not-found``.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from bot.core.events import Inbound, InboundKind, Sender
from bot.core.numbers import typed_number
from bot.store.tables import Learner, OutboxRow
from bot.store.unit_of_work import Store

PARENT_NOT_FOUND = "msg-parent-not-found"  # Matterbridge's word for a parent it has no id of


class PendingQuestions:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def waiting(self, sender: Sender) -> bool:
        """Whether the coach offered this person options they have not answered yet."""
        async with self.store.unit_of_work() as uow:
            choices = await uow.session.scalar(
                select(Learner.choices).where(
                    Learner.channel == sender.channel,
                    Learner.chat_id == sender.chat_id,
                    Learner.user_id == sender.user_id,
                    Learner.status != "stopped",
                )
            )
        return bool(choices)

    async def latest_tag(self, sender: Sender) -> str | None:
        """The tag of the newest message the coach sent this person that has one (the
        message a practice task asks them to reply to)."""
        async with self.store.unit_of_work() as uow:
            return await uow.session.scalar(
                select(OutboxRow.tag)
                .join(Learner, Learner.id == OutboxRow.learner_id)
                .where(
                    Learner.channel == sender.channel,
                    Learner.chat_id == sender.chat_id,
                    Learner.user_id == sender.user_id,
                    OutboxRow.tag.is_not(None),
                )
                .order_by(OutboxRow.id.desc())
                .limit(1)
            )

    async def addressed(self, event: Inbound, replied_to_coach: bool = False) -> Inbound:
        """The event, marked as meant for the coach when it is a number that answers it, or
        a reply to the coach's post from a person it is waiting for. Such a reply is taken
        as a reply to the newest tagged message the coach sent that person: the bridge does
        not say which of the coach's posts it answers, only that it is one of them."""
        if event.kind is not InboundKind.TEXT:
            return event
        if typed_number(event.text or "") is None and not replied_to_coach:
            return event
        if not await self.waiting(event.sender):
            return event
        if not replied_to_coach:
            return replace(event, addressed=True)
        tag = await self.latest_tag(event.sender)
        return replace(event, addressed=True, reply_to_tag=tag)
