"""The volunteers' router: registering, settings, claiming, writing to learners, closing.

Every action is checked on the server against the volunteer's record and the request; a
forged or replayed button is refused and logged. Messages that are not a volunteer's
business go on to the learners' router.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.core.numbers import ID_DIGITS, payload_number
from bot.core.text import N_, Msg, Verbatim
from bot.i18n import Catalogs
from bot.services.handoffs import OUTCOMES, HandoffDesk, volunteer_payload
from bot.services.volunteers import INVITE_PREFIX, Volunteers, VolunteerView

log = logging.getLogger(__name__)


def volunteer_router(
    volunteers: Volunteers, desk: HandoffDesk, catalogs: Catalogs, admins: tuple[str, ...] = ()
) -> Router:
    router = Router(name="volunteers")
    router.message.filter(F.chat.type == "private")

    def say(message: Message | CallbackQuery, text: Msg) -> str:
        user = message.from_user
        language = catalogs.best_match(user.language_code if user else None, catalogs.fallback)
        return catalogs.render(text, language)

    @router.message(CommandStart(deep_link=True, magic=F.args.startswith(INVITE_PREFIX)))
    async def register(message: Message, command: CommandObject) -> None:
        """A volunteer opens their invitation link."""
        assert message.from_user is not None and command.args is not None
        token = command.args[len(INVITE_PREFIX) :]
        volunteer = await volunteers.redeem(token, str(message.from_user.id))
        if volunteer is None:
            log.warning("invitation refused for a Telegram account")
            refused = N_(
                "This invitation does not work: it was used already, or it expired. "
                "Ask for a new one."
            )
            await message.answer(say(message, refused))
            return
        welcome = N_(
            "Welcome, {name}! You are now a volunteer. You will get requests here. "
            "Send /volunteer to set your languages, places and availability.",
            name=Verbatim(volunteer.name),
        )
        await message.answer(say(message, welcome))

    @router.message(Command("invite"))
    async def invite(message: Message, command: CommandObject) -> None:
        """``/invite NAME``, for admins named in the configuration: a volunteer's link."""
        assert message.from_user is not None
        if str(message.from_user.id) not in admins:
            raise SkipHandler
        name = (command.args or "").strip()
        if not name:
            await message.answer(say(message, N_("Send /invite and the volunteer's name.")))
            return
        me = await message.bot.me() if message.bot else None
        made = await volunteers.invite(name[:64], [], [], me.username or "" if me else "")
        said = N_("Send this link to {name}. It works once, for 7 days:", name=Verbatim(name[:64]))
        await message.answer(f"{say(message, said)}\n{made.link}")

    @router.message(Command("volunteer"))
    async def settings(message: Message) -> None:
        """A volunteer's languages, places and availability, with buttons to change them."""
        assert message.from_user is not None
        volunteer = await volunteers.by_telegram(str(message.from_user.id))
        if volunteer is None:
            raise SkipHandler
        text, markup = _settings(volunteer, message, say, catalogs, desk)
        await message.answer(text, reply_markup=markup)

    @router.message(Command("reply"))
    async def reply(message: Message, command: CommandObject) -> None:
        """``/reply 12 text`` (or ``/reply text`` when holding one request)."""
        assert message.from_user is not None
        user = str(message.from_user.id)
        number, text = _number_and_text(command.args or "")
        if number is None:
            held = await desk.held_by(user)
            if len(held) != 1:
                usage = N_(
                    "Send /reply, the request number and your text, for example: /reply 12 Hello."
                )
                await message.answer(say(message, usage))
                return
            number = held[0]
        result = await desk.reply(user, number, text)
        if not result.ok and result.say is not None:
            await message.answer(say(message, result.say))

    @router.message(Command("done"))
    async def done(message: Message, command: CommandObject) -> None:
        """Close a request: the volunteer chooses how it went."""
        assert message.from_user is not None
        user = str(message.from_user.id)
        number, _ = _number_and_text(command.args or "")
        held = await desk.held_by(user)
        if number is None and len(held) == 1:
            number = held[0]
        if number is None or number not in held:
            await message.answer(say(message, N_("You can only close requests you took.")))
            return
        rows = [
            [
                InlineKeyboardButton(
                    text=say(message, label),
                    callback_data=volunteer_payload("done", str(number), code),
                )
            ]
            for code, label in OUTCOMES.items()
        ]
        question = N_("How did request #{id} end?", id=number)
        await message.answer(
            say(message, question), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
        )

    @router.message(F.reply_to_message, F.text)
    async def answer(message: Message) -> None:
        """A volunteer replies to a learner's message, or to the note request."""
        assert message.from_user is not None and message.reply_to_message is not None
        tag = await desk.tag_of(str(message.chat.id), str(message.reply_to_message.message_id))
        if tag is None or ":" not in tag or tag.split(":")[0] not in ("relay", "note"):
            raise SkipHandler
        kind, number = tag.split(":", 1)
        user = str(message.from_user.id)
        if kind == "relay":
            result = await desk.reply(user, int(number), message.text or "")
        else:
            result = await desk.note(user, int(number), message.text or "")
        if result.say is not None:
            await message.answer(say(message, result.say))

    @router.callback_query(F.data.startswith("vol:"))
    async def on_button(query: CallbackQuery) -> None:
        """Claim, close, or a setting; refused unless the presser may do it."""
        verb, _, rest = (query.data or "")[4:].partition("/")
        args = rest.split("/") if rest else []
        user = str(query.from_user.id)
        request_id = payload_number(args[0], ID_DIGITS) if args else None
        if verb == "claim" and len(args) == 1 and request_id is not None:
            result = await desk.claim(user, request_id)
        elif verb == "done" and len(args) == 2 and request_id is not None:
            result = await desk.close(user, request_id, args[1])
        elif verb in ("available", "language", "place"):
            changed = await volunteers.change(user, verb, args[0] if args else "")
            if changed is None:
                log.warning("volunteer setting refused: not an active volunteer")
                await query.answer(
                    say(query, N_("Only registered volunteers can do this.")), show_alert=True
                )
                return
            await query.answer()
            if isinstance(query.message, Message):
                text, markup = _settings(changed, query, say, catalogs, desk)
                await query.message.edit_text(text, reply_markup=markup)
            return
        else:
            log.warning("forged volunteer button refused")
            await query.answer(
                say(query, N_("This button does not work any more.")), show_alert=True
            )
            return
        if result.ok:
            await query.answer()
        else:
            await query.answer(
                say(query, result.say or N_("This button does not work any more.")), show_alert=True
            )

    return router


def _number_and_text(args: str) -> tuple[int | None, str]:
    first, _, rest = args.strip().partition(" ")
    number = payload_number(first.lstrip("#"), ID_DIGITS)
    if number is not None:
        return number, rest.strip()
    return None, args.strip()


Say = Callable[[Message | CallbackQuery, Msg], str]


def _settings(
    volunteer: VolunteerView,
    message: Message | CallbackQuery,
    say: Say,
    catalogs: Catalogs,
    desk: HandoffDesk,
) -> tuple[str, InlineKeyboardMarkup]:
    state = (
        N_("✅ Available: you get requests.")
        if volunteer.available
        else N_("💤 Away: you get no requests.")
    )
    text = "\n".join(
        [
            say(message, N_("Volunteer settings for {name}", name=Verbatim(volunteer.name))),
            say(message, state),
        ]
    )
    rows = [
        [
            InlineKeyboardButton(
                text=say(message, N_("Change availability")),
                callback_data=volunteer_payload("available"),
            )
        ]
    ]
    for code, language in catalogs.languages.items():
        mark = "☑️" if code in volunteer.languages else "⬜"
        rows.append(
            [
                InlineKeyboardButton(
                    text=f"{mark} {language.name}",
                    callback_data=volunteer_payload("language", code),
                )
            ]
        )
    for place in desk.rules.handoff.places:
        mark = "☑️" if place.id in volunteer.places else "⬜"
        rows.append(
            [
                InlineKeyboardButton(
                    text=f"{mark} {place.name}", callback_data=volunteer_payload("place", place.id)
                )
            ]
        )
    return text, InlineKeyboardMarkup(inline_keyboard=rows)
