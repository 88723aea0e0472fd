"""The volunteer desk: one volunteer event in, one transaction, the answers out as outbox rows.

The core reads the event (``bot.core.volunteering``) from facts gathered here, inside the
transaction: whether the sender is an active volunteer or an admin, the requests they hold,
the tag of the coach message they replied to. The event's key is stored in the same
transaction, so a redelivered update changes nothing and gets the same answers back.

Most messages are learners': whether a message may be a volunteer's is first read without
waiting for the database's writers (SQLite has one), and only then decided in a transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from bot.core import volunteering as rules
from bot.core.channel import Capabilities, Destination
from bot.core.effects import Choice, Reply
from bot.core.events import Inbound, InboundKind
from bot.core.privacy import is_forget_word
from bot.core.text import N_, Msg, Verbatim
from bot.i18n import Catalogs
from bot.services.coach import UNREACHABLE, Handled, Unavailable, exactly_once
from bot.services.erasure import VOLUNTEER_ERASED, ErasedKeys, erase_volunteer
from bot.services.group_commit import GroupCommit
from bot.services.handoffs import HandoffDesk, active_volunteer, active_volunteers
from bot.services.rendering import Renderer
from bot.services.volunteers import Volunteers, VolunteerView, change
from bot.store.tables import Handoff, Volunteer
from bot.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
LOOKUPS_TASK = "desk: look-ups"  # the task that reads whether messages are volunteers'
REFUSED_INVITE = N_(
    "This invitation does not work: it was used already, or it expired. Ask for a new one."
)


class VolunteerErased(Handled):
    """The answers to a volunteer who erased themselves; the requests they held go back to
    the queue once this is committed."""

    def __init__(self, handled: Handled, volunteer_id: int) -> None:
        super().__init__(list(handled), handled.notice)
        self.volunteer_id = volunteer_id


class VolunteerDesk:
    def __init__(
        self,
        desk: HandoffDesk,
        volunteers: Volunteers,
        catalogs: Catalogs,
        admins: tuple[str, ...] = (),
        on_outbox: Callable[[], None] | None = None,
        erased_keys: ErasedKeys | None = None,
    ) -> None:
        self.desk = desk
        self.erased_keys = erased_keys
        self.volunteers = volunteers
        self.catalogs = catalogs
        self.admins = admins
        self.on_outbox = on_outbox
        self._looks: GroupCommit[tuple[Inbound, Capabilities], bool] = GroupCommit(
            self._may_be_theirs, lambda message: message[0].key, workers=2, name=LOOKUPS_TASK
        )

    async def handle(
        self, event: Inbound, channel: Capabilities, bot_username: str = ""
    ) -> Handled | None:
        """Handle a volunteer's event exactly once; None when it is a learner's business."""
        if event.kind is not InboundKind.BUTTON and not await self._maybe_theirs(event, channel):
            return None
        handled = await exactly_once(
            event.key, lambda: self._handle_once(event, channel, bot_username)
        )
        if isinstance(handled, VolunteerErased):
            # As ``coach volunteer forget`` does: back in the queue after the erasure, so no
            # new alert names them.
            await self.desk.volunteer_removed(handled.volunteer_id)
        if handled and not channel.pull and self.on_outbox is not None:
            self.on_outbox()
        return handled

    async def _maybe_theirs(self, event: Inbound, channel: Capabilities) -> bool:
        """Whether a message may be a volunteer's business (or was handled already), read
        without waiting for a writer; the transaction decides again. The messages that
        come while one is read are read together (``GroupCommit``), in one look-up."""
        return await self._looks.submit((event, channel))

    async def _may_be_theirs(
        self, messages: list[tuple[Inbound, Capabilities]]
    ) -> list[bool | Exception]:
        try:
            async with self.desk.store.reading() as uow:
                seen = await uow.inbound_keys_seen(*(event.key for event, _ in messages))
                senders = {event.sender.user_id for event, _ in messages}
                volunteers = await active_volunteers(uow, senders)
                answers: list[bool | Exception] = []
                for event, channel in messages:
                    if event.key in seen:  # handled already: its stored answer is theirs
                        answers.append(True)
                        continue
                    volunteer = volunteers.get(event.sender.user_id)
                    facts = await self._facts(uow, event, channel, volunteer)
                    answers.append(rules.read_message(event, facts) is not None)
        except (DBAPIError, *UNREACHABLE) as error:
            name = type(error).__name__
            log.warning("database unavailable for %d messages: %s", len(messages), name)
            return [Unavailable() for _ in messages]
        return answers

    async def _handle_once(
        self, event: Inbound, channel: Capabilities, bot_username: str
    ) -> Handled | None:
        now = self.desk.clock()
        async with self.desk.store.unit_of_work() as uow:
            if await uow.inbound_seen(event.key):
                return Handled(await uow.outbox.for_inbound(event.key))
            volunteer = await active_volunteer(uow, event.sender.user_id)
            facts = await self._facts(uow, event, channel, volunteer)
            if event.kind is InboundKind.BUTTON:
                action: rules.Action | None = rules.read_button(event.payload or "", facts)
            else:
                action = rules.read_message(event, facts)
            if action is None:
                return None
            await uow.remember_inbound(event.key, None, now)
            await uow.record(None, "volunteer_action", {"action": type(action).__name__}, now)
            said, notice = await self._apply(uow, action, volunteer, event, bot_username, now)
            language = self.catalogs.best_match(event.sender.language_hint, self.catalogs.fallback)
            if volunteer is not None:  # one language for all the coach tells a volunteer
                volunteer.language = volunteer.language or language
                language = self.desk._language_of(volunteer)
            to = Destination.of(event, None)
            for row in Renderer(self.catalogs, channel).rows(said, to, language, now):
                await uow.outbox.add(row)
            handled = Handled(await uow.outbox.for_inbound(event.key), notice)
            if volunteer is not None and action == rules.Forget(confirmed=True):
                return VolunteerErased(handled, volunteer.id)
            return handled

    async def _facts(
        self, uow: UnitOfWork, event: Inbound, channel: Capabilities, volunteer: Volunteer | None
    ) -> rules.Facts:
        held: tuple[int, ...] = ()
        if volunteer is not None:
            ids = await uow.session.scalars(
                select(Handoff.id)
                .where(Handoff.volunteer_id == volunteer.id, Handoff.status == "claimed")
                .order_by(Handoff.id)
            )
            held = tuple(ids)
        tag = None
        if event.reply_to_message_id is not None:
            sender = event.sender
            tag = await uow.outbox.replied_tag(
                sender.channel, sender.chat_id, event.reply_to_message_id, channel.pull
            )
        admin = event.sender.user_id in self.admins
        words = False
        if volunteer is not None and event.kind is InboundKind.TEXT and event.text:
            words = is_forget_word(event.text, volunteer.language, self.desk.rules)
        return rules.Facts(volunteer is not None, admin, held, tag, words)

    async def _apply(
        self,
        uow: UnitOfWork,
        action: rules.Action,
        volunteer: Volunteer | None,
        event: Inbound,
        bot_username: str,
        now: datetime,
    ) -> tuple[list[Reply], Msg | None]:
        """The answers to the volunteer, and the notice for a refused button press."""
        refused: Msg | None = None
        said: list[Reply] = []
        if isinstance(action, rules.Refused):
            refused = action.say
        elif isinstance(action, rules.Register):
            language = self.catalogs.best_match(event.sender.language_hint, self.catalogs.fallback)
            said = [await self._register(uow, action.token, event.sender.user_id, language)]
        elif isinstance(action, rules.Invite):
            made = await self.volunteers.invite_in(uow, action.name, [], [], bot_username)
            send = N_("Send this link to {name}. It works once, for 7 days:", name=action.name)
            said = [Reply((send, Verbatim(made.link)))]
        elif volunteer is None:  # the core asks for a volunteer before any other action
            refused = rules.ONLY_VOLUNTEERS
        else:
            return await self._desk_action(uow, action, volunteer, event, now)
        if refused is not None and event.kind is not InboundKind.BUTTON:
            said, refused = [Reply((refused,))], None
        return said, refused

    async def _desk_action(
        self,
        uow: UnitOfWork,
        action: rules.Action,
        volunteer: Volunteer,
        event: Inbound,
        now: datetime,
    ) -> tuple[list[Reply], Msg | None]:
        said: list[Reply] = []
        refused: Msg | None = None
        desk = self.desk
        if isinstance(action, rules.ShowSettings):
            said = [self._settings(VolunteerView.of(volunteer))]
        elif isinstance(action, rules.Change):
            changed = change(volunteer, action.what, action.value)
            said = [self._settings(changed, edit=True)]
        elif isinstance(action, rules.Claim):
            refused = await desk.claim_in(uow, volunteer, action.request, now)
        elif isinstance(action, rules.Write):
            refused = await desk.reply_in(uow, volunteer, action.request, action.text, now)
        elif isinstance(action, rules.Forward):
            copy = {
                "kind": "copy",
                "from_chat": event.sender.chat_id,
                "message_id": action.message_id,
            }
            refused = await desk.reply_in(uow, volunteer, action.request, None, now, copy)
        elif isinstance(action, rules.AskWhich):
            said = [self._which(action)]
        elif isinstance(action, rules.AskOutcome):
            said = [self._outcomes(action.request)]
        elif isinstance(action, rules.Close):
            refused = await desk.close_in(uow, volunteer, action.request, action.outcome, now)
        elif isinstance(action, rules.Note):
            said = [Reply((await desk.note_in(uow, volunteer, action.request, action.text),))]
        elif isinstance(action, rules.AskForget):
            said = [self._forget_question()]
        elif isinstance(action, rules.Forget):
            said = [await self._forget(uow, volunteer, action.confirmed, now)]
        if refused is not None and event.kind is not InboundKind.BUTTON:
            said, refused = [Reply((refused,))], None
        return said, refused

    async def _register(self, uow: UnitOfWork, token: str, user_id: str, language: str) -> Reply:
        """A volunteer opens their invitation link."""
        volunteer = await self.volunteers.redeem_in(uow, token, user_id, language)
        if volunteer is None:
            log.warning("invitation refused for a Telegram account")
            return Reply((REFUSED_INVITE,))
        welcome = N_(
            "Welcome, {name}! You are now a volunteer. You will get requests here. "
            "Send /volunteer to set your languages, places and availability.",
            name=Verbatim(volunteer.name),
        )
        return Reply((welcome,))

    def _settings(self, volunteer: VolunteerView, edit: bool = False) -> Reply:
        """A volunteer's languages, places and availability, with buttons to change them."""
        state = (
            N_("✅ Available: you get requests.")
            if volunteer.available
            else N_("💤 Away: you get no requests.")
        )
        title = N_("Volunteer settings for {name}", name=Verbatim(volunteer.name))
        payload = rules.volunteer_payload
        choices = [Choice(N_("Change availability"), payload("available"))]
        for code, language in self.catalogs.languages.items():
            mark = "☑️" if code in volunteer.languages else "⬜"
            choices.append(Choice(Verbatim(f"{mark} {language.name}"), payload("language", code)))
        for place in self.desk.rules.handoff.places:
            mark = "☑️" if place.id in volunteer.places else "⬜"
            choices.append(Choice(Verbatim(f"{mark} {place.name}"), payload("place", place.id)))
        return Reply((title, state), tuple(choices), edit_pressed=edit)

    @staticmethod
    def _forget_question() -> Reply:
        question = N_(
            "Do you want me to erase your name and your Telegram account from the volunteers? "
            "The requests you hold go back to the queue. This cannot be undone."
        )
        choices = (
            Choice(N_("Yes, erase everything"), rules.volunteer_payload("forget", "yes")),
            Choice(N_("No, keep it"), rules.volunteer_payload("forget", "no")),
        )
        return Reply((question,), choices)

    async def _forget(
        self, uow: UnitOfWork, volunteer: Volunteer, confirmed: bool, now: datetime
    ) -> Reply:
        """Yes: their name, Telegram id, sign-ins and invitations go in this transaction; the
        requests they handled keep only their number, for the figures."""
        if not confirmed:
            return Reply((N_("OK. Nothing was erased."),))
        await erase_volunteer(uow, volunteer, now, self.erased_keys)
        done = N_(
            "Done. I erased your name and your Telegram account. The requests you held "
            "went back to the queue. Thank you for your help."
        )
        return Reply((done,), tag=VOLUNTEER_ERASED)

    @staticmethod
    def _outcomes(request: int) -> Reply:
        choices = tuple(
            Choice(label, rules.volunteer_payload("done", str(request), code))
            for code, label in rules.OUTCOMES.items()
        )
        return Reply((N_("How did request #{id} end?", id=request),), choices)

    @staticmethod
    def _which(action: rules.AskWhich) -> Reply:
        choices = tuple(
            Choice(
                N_("Request #{id}", id=request),
                rules.volunteer_payload("to", str(request), action.message_id),
            )
            for request in action.requests
        )
        which = N_("You are helping several learners. Which request is this message for?")
        return Reply((which,), choices)
