"""Volunteers and requests for a person, for admins and coordinators."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from bot.cli.loading import load_settings
from bot.config import Settings
from bot.services.desk_sign_in import SIGN_IN_PATH

DEMO_VOLUNTEER = "Demo volunteer"
volunteer_app = typer.Typer(help="Volunteers who meet learners.", no_args_is_help=True)


def _volunteers(settings: Settings) -> tuple[Any, Any]:
    from bot.services.coach import utc_now
    from bot.services.volunteers import Volunteers
    from bot.store.database import create_engine
    from bot.store.unit_of_work import Store

    store = Store(create_engine(settings.database_url))
    return store, Volunteers(store, utc_now)


async def _bot_username(settings: Settings) -> str:
    """The Telegram bot's @username, or "" when the coach has no Telegram bot."""
    if settings.telegram_bot_username:
        return settings.telegram_bot_username
    if settings.telegram_token is None:
        return ""
    from bot.channels.telegram.runtime import make_bot

    bot = make_bot(settings.telegram_token.get_secret_value(), settings.telegram_api_base)
    try:
        me = await bot.me()
    finally:
        await bot.session.close()
    return me.username or ""


def _codes(raw: str) -> list[str]:
    return [code.strip() for code in raw.split(",") if code.strip()]


@volunteer_app.command("invite")
def volunteer_invite(
    name: Annotated[str, typer.Option(help="How learners and coordinators will see them.")],
    languages: Annotated[str, typer.Option(help="Languages they speak, e.g. fr,ar")] = "",
    places: Annotated[
        str, typer.Option(help="Drop-in places where they help, comma-separated")
    ] = "",
    coordinator: Annotated[
        bool, typer.Option(help="They also see every request, its times and rating.")
    ] = False,
) -> None:
    """Create a volunteer and print their single-use links (valid 7 days): one registers
    their Telegram account, the other signs them in to the desk in a browser."""

    async def run() -> None:
        settings = load_settings()
        username = await _bot_username(settings)
        store, volunteers = _volunteers(settings)
        try:
            invite = await volunteers.invite(
                name, _codes(languages), _codes(places), username, coordinator
            )
        finally:
            await store.close()
        until = f"{invite.expires_at:%Y-%m-%d %H:%M} UTC"
        typer.echo(f"Volunteer {invite.volunteer_id}: {name}")
        typer.echo(f"Send them these links; each works once, until {until}.")
        if invite.link:
            typer.echo(f"In Telegram:  {invite.link}")
        typer.echo(f"In a browser: {settings.web_address}{SIGN_IN_PATH}{invite.web_token}")

    asyncio.run(run())


@volunteer_app.command("web-link")
def volunteer_web_link(
    volunteer_id: Annotated[int, typer.Argument(help="The number from `list`.")],
) -> None:
    """A new single-use link that signs a volunteer in to the desk on another browser."""
    from bot.services.coach import utc_now
    from bot.services.desk_sign_in import DeskSignIn

    async def run() -> tuple[str, Any] | None:
        store, _ = _volunteers(settings)
        try:
            return await DeskSignIn(store, utc_now).link(volunteer_id)
        finally:
            await store.close()

    settings = load_settings()
    made = asyncio.run(run())
    if made is None:
        typer.echo(f"No active volunteer {volunteer_id}.", err=True)
        raise typer.Exit(1)
    token, expires = made
    typer.echo(f"Send them this link; it works once, until {expires:%Y-%m-%d %H:%M} UTC:")
    typer.echo(f"{settings.web_address}{SIGN_IN_PATH}{token}")


@volunteer_app.command("sign-out")
def volunteer_sign_out(
    volunteer_id: Annotated[int, typer.Argument(help="The number from `list`.")],
) -> None:
    """End a volunteer's desk sessions in every browser, and their unused sign-in links."""
    from bot.services.coach import utc_now
    from bot.services.desk_sign_in import DeskSignIn

    async def run() -> int:
        store, _ = _volunteers(load_settings())
        try:
            return await DeskSignIn(store, utc_now).revoke(volunteer_id)
        finally:
            await store.close()

    ended = asyncio.run(run())
    typer.echo(f"Volunteer {volunteer_id}: {ended} browser session(s) ended.")


@volunteer_app.command("list")
def volunteer_list() -> None:
    """Every volunteer: registered or not, languages, places, available, removed."""

    async def run() -> None:
        store, volunteers = _volunteers(load_settings())
        try:
            listed = await volunteers.listed()
        finally:
            await store.close()
        if not listed:
            typer.echo("No volunteers yet: invite one with `coach volunteer invite --name NAME`.")
        for v in listed:
            state = "removed" if not v.active else ("available" if v.available else "away")
            joined = "registered" if v.registered else "invited"
            typer.echo(
                f"{v.id:>4}  {v.name:<24} {joined:<10} {state:<9} "
                f"languages: {','.join(v.languages) or '-'}  places: {','.join(v.places) or '-'}"
            )

    asyncio.run(run())


@volunteer_app.command("remove")
def volunteer_remove(
    volunteer_id: Annotated[int, typer.Argument(help="The number from `list`.")],
) -> None:
    """Remove a volunteer: no more alerts or messages; their requests go back to the queue."""
    from bot.app import build
    from bot.services.coach import utc_now
    from bot.services.volunteers import Volunteers

    async def run() -> int | None:
        coach = build(load_settings())
        try:
            if not await Volunteers(coach.store, utc_now).remove(volunteer_id):
                return None
            return await coach.desk.volunteer_removed(volunteer_id) if coach.desk else 0
        finally:
            for receiver in coach.receivers:
                await receiver.close()
            await coach.store.close()

    requeued = asyncio.run(run())
    if requeued is None:
        typer.echo(f"No active volunteer {volunteer_id}.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Volunteer {volunteer_id} removed; {requeued} request(s) back in the queue.")


async def demo_desk_link(settings: Settings) -> str:
    """For ``coach demo``: a sign-in link to the desk for the demo's volunteer, who is made
    a coordinator the first time (so they also see every request)."""
    from sqlalchemy import select

    from bot.services.desk_sign_in import DeskSignIn
    from bot.store.tables import Volunteer

    store, volunteers = _volunteers(settings)
    try:
        async with store.unit_of_work() as uow:
            found = await uow.session.scalar(
                select(Volunteer.id).where(Volunteer.name == DEMO_VOLUNTEER, Volunteer.active)
            )
        if found is None:
            made = await volunteers.invite(DEMO_VOLUNTEER, [], [], "", coordinator=True)
            token = made.web_token
        else:
            link = await DeskSignIn(store, volunteers.clock).link(found)
            assert link is not None
            token = link[0]
    finally:
        await store.close()
    return f"{settings.web_address}{SIGN_IN_PATH}{token}"


def handoffs(
    open_only: Annotated[
        bool, typer.Option("--open", help="Only requests still open or taken.")
    ] = False,
) -> None:
    """For coordinators: requests for a person, with their times to claim and to close."""
    from bot.services.handoff_figures import handoff_lines, median_to_claim

    async def run() -> list[Any]:
        store, _ = _volunteers(load_settings())
        try:
            return await handoff_lines(store, open_only)
        finally:
            await store.close()

    lines = asyncio.run(run())
    if not lines:
        typer.echo("No requests.")
        return
    header = ("#", "status", "topic", "lang", "asked (UTC)", "to claim", "to close")
    typer.echo("{:>5}  {:<10} {:<10} {:<6} {:<17} {:>9} {:>9}".format(*header))
    for line in lines:
        asked = f"{line.created_at:%Y-%m-%d %H:%M}"
        claim, close = _minutes(line.to_claim), _minutes(line.to_close)
        typer.echo(
            f"{line.id:>5}  {line.status:<10} {line.topic:<10} {line.language:<6} "
            f"{asked:<17} {claim:>9} {close:>9}"
        )
    median = median_to_claim(lines)
    typer.echo(f"Median time to claim: {_minutes(median) if median else 'no claim yet'}")


def _minutes(span: Any) -> str:
    return "-" if span is None else f"{span.total_seconds() / 60:.0f} min"
