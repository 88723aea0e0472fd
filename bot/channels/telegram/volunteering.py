"""Volunteers on Telegram: registering, settings, claiming, writing to learners, closing.

Every action is checked on the server against the volunteer's record and the request; a
forged or replayed button is refused and logged. Messages that are not a volunteer's
business are left to the learners' handling (the methods then return False).
"""

from __future__ import annotations

import logging

from bot.channels.telegram.api import BotCalls, Keyboard
from bot.channels.telegram.inbound import JSON, BotUser, is_private
from bot.core.commands import Command, parse_command
from bot.core.numbers import ID_DIGITS, payload_number
from bot.core.text import N_, Msg, Verbatim
from bot.i18n import Catalogs
from bot.services.handoffs import OUTCOMES, HandoffDesk, volunteer_payload
from bot.services.volunteers import INVITE_PREFIX, Volunteers, VolunteerView

log = logging.getLogger(__name__)
PREFIX = "vol:"
REFUSED_INVITE = N_(
    "This invitation does not work: it was used already, or it expired. Ask for a new one."
)
USAGE_REPLY = N_("Send /reply, the request number and your text, for example: /reply 12 Hello.")
GONE = N_("This button does not work any more.")


class Volunteering:
    def __init__(
        self,
        volunteers: Volunteers,
        desk: HandoffDesk,
        catalogs: Catalogs,
        admins: tuple[str, ...] = (),
    ) -> None:
        self.volunteers = volunteers
        self.desk = desk
        self.catalogs = catalogs
        self.admins = admins

    def say(self, person: JSON, text: Msg) -> str:
        language = self.catalogs.best_match(person.get("language_code"), self.catalogs.fallback)
        return self.catalogs.render(text, language)

    async def message(self, message: JSON, me: BotUser, bot: BotCalls) -> bool:
        """A volunteer's command or reply in a private chat; False when it is not theirs."""
        if not is_private(message):
            return False
        command = parse_command(message.get("text") or "")
        mine = command is not None and command.meant_for(me.username)
        if mine and command is not None and await self._command(command, message, me, bot):
            return True
        if message.get("reply_to_message") and message.get("text"):
            return await self._answer(message, bot)
        return False

    async def _command(self, command: Command, message: JSON, me: BotUser, bot: BotCalls) -> bool:
        person, chat = message["from"], int(message["chat"]["id"])
        user, args = str(person["id"]), command.argument or ""
        answer: str | None = None
        keyboard: Keyboard = ()
        if command.name == "start" and args.startswith(INVITE_PREFIX):
            answer = await self._register(person, args[len(INVITE_PREFIX) :])
        elif command.name == "invite" and user in self.admins:
            answer = await self._invite(person, args.strip(), me)
        elif command.name == "volunteer":
            volunteer = await self.volunteers.by_telegram(user)
            if volunteer is None:
                return False
            answer, keyboard = self._settings(volunteer, person)
        elif command.name == "reply":
            said = await self._reply(user, args)
            answer = self.say(person, said) if said is not None else None
        elif command.name == "done":
            answer, keyboard = await self._done(person, args)
        else:
            return False
        if answer is not None:
            await bot.send_text(chat, answer, keyboard)
        return True

    async def _register(self, person: JSON, token: str) -> str:
        """A volunteer opens their invitation link."""
        volunteer = await self.volunteers.redeem(token, str(person["id"]))
        if volunteer is None:
            log.warning("invitation refused for a Telegram account")
            return self.say(person, REFUSED_INVITE)
        welcome = N_(
            "Welcome, {name}! You are now a volunteer. You will get requests here. "
            "Send /volunteer to set your languages, places and availability.",
            name=Verbatim(volunteer.name),
        )
        return self.say(person, welcome)

    async def _invite(self, person: JSON, name: str, me: BotUser) -> str:
        """``/invite NAME``, for admins named in the configuration: a volunteer's link."""
        if not name:
            return self.say(person, N_("Send /invite and the volunteer's name."))
        made = await self.volunteers.invite(name[:64], [], [], me.username or "")
        said = N_("Send this link to {name}. It works once, for 7 days:", name=Verbatim(name[:64]))
        return f"{self.say(person, said)}\n{made.link}"

    async def _reply(self, user: str, args: str) -> Msg | None:
        """``/reply 12 text`` (or ``/reply text`` when holding one request)."""
        number, text = number_and_text(args)
        if number is None:
            held = await self.desk.held_by(user)
            if len(held) != 1:
                return USAGE_REPLY
            number = held[0]
        result = await self.desk.reply(user, number, text)
        return result.say if not result.ok else None

    async def _done(self, person: JSON, args: str) -> tuple[str, Keyboard]:
        """Close a request: the volunteer chooses how it went."""
        number, _ = number_and_text(args)
        held = await self.desk.held_by(str(person["id"]))
        if number is None and len(held) == 1:
            number = held[0]
        if number is None or number not in held:
            return self.say(person, N_("You can only close requests you took.")), ()
        keyboard = tuple(
            (self.say(person, label), volunteer_payload("done", str(number), code))
            for code, label in OUTCOMES.items()
        )
        return self.say(person, N_("How did request #{id} end?", id=number)), keyboard

    async def _answer(self, message: JSON, bot: BotCalls) -> bool:
        """A volunteer replies to a learner's message, or to the note request."""
        chat, replied = str(message["chat"]["id"]), str(message["reply_to_message"]["message_id"])
        tag = await self.desk.tag_of(chat, replied)
        if tag is None or ":" not in tag or tag.split(":")[0] not in ("relay", "note"):
            return False
        kind, number = tag.split(":", 1)
        user, text = str(message["from"]["id"]), message.get("text") or ""
        if kind == "relay":
            result = await self.desk.reply(user, int(number), text)
        else:
            result = await self.desk.note(user, int(number), text)
        if result.say is not None:
            await bot.send_text(int(chat), self.say(message["from"], result.say))
        return True

    async def button(self, query: JSON, bot: BotCalls) -> None:
        """Claim, close, or a setting; refused unless the presser may do it."""
        verb, _, rest = (query.get("data") or "")[len(PREFIX) :].partition("/")
        args = rest.split("/") if rest else []
        person, user = query["from"], str(query["from"]["id"])
        request_id = payload_number(args[0], ID_DIGITS) if args else None
        if verb == "claim" and len(args) == 1 and request_id is not None:
            result = await self.desk.claim(user, request_id)
        elif verb == "done" and len(args) == 2 and request_id is not None:
            result = await self.desk.close(user, request_id, args[1])
        elif verb in ("available", "language", "place"):
            await self._setting(query, verb, args[0] if args else "", bot)
            return
        else:
            log.warning("forged volunteer button refused")
            await bot.answer_button(query["id"], self.say(person, GONE))
            return
        refused = None if result.ok else self.say(person, result.say or GONE)
        await bot.answer_button(query["id"], refused)

    async def _setting(self, query: JSON, verb: str, value: str, bot: BotCalls) -> None:
        person = query["from"]
        changed = await self.volunteers.change(str(person["id"]), verb, value)
        if changed is None:
            log.warning("volunteer setting refused: not an active volunteer")
            only = N_("Only registered volunteers can do this.")
            await bot.answer_button(query["id"], self.say(person, only))
            return
        await bot.answer_button(query["id"])
        message = query.get("message") or {}
        if message.get("date"):  # still accessible: shown again with the change
            text, keyboard = self._settings(changed, person)
            await bot.edit_text(int(message["chat"]["id"]), message["message_id"], text, keyboard)

    def _settings(self, volunteer: VolunteerView, person: JSON) -> tuple[str, Keyboard]:
        """A volunteer's languages, places and availability, with buttons to change them."""
        state = (
            N_("✅ Available: you get requests.")
            if volunteer.available
            else N_("💤 Away: you get no requests.")
        )
        title = N_("Volunteer settings for {name}", name=Verbatim(volunteer.name))
        text = "\n".join([self.say(person, title), self.say(person, state)])
        rows = [(self.say(person, N_("Change availability")), volunteer_payload("available"))]
        for code, language in self.catalogs.languages.items():
            mark = "☑️" if code in volunteer.languages else "⬜"
            rows.append((f"{mark} {language.name}", volunteer_payload("language", code)))
        for place in self.desk.rules.handoff.places:
            mark = "☑️" if place.id in volunteer.places else "⬜"
            rows.append((f"{mark} {place.name}", volunteer_payload("place", place.id)))
        return text, tuple(rows)


def number_and_text(args: str) -> tuple[int | None, str]:
    first, _, rest = args.strip().partition(" ")
    number = payload_number(first.lstrip("#"), ID_DIGITS)
    if number is not None:
        return number, rest.strip()
    return None, args.strip()
