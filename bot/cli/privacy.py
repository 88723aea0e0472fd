"""An admin erases a learner or a volunteer: ``coach forget`` and ``coach volunteer forget``."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from bot.cli import people
from bot.cli.loading import load_settings


async def _with_coach(act: Any) -> Any:
    """Run ``act(coach)`` on a coach built from the settings (its desk tells volunteers)."""
    from bot.app import build

    coach = build(load_settings())
    try:
        return await act(coach)
    finally:
        for receiver in coach.receivers:
            await receiver.close()
        await coach.store.close()


def forget(
    channel: Annotated[str, typer.Option(help="The learner's channel: telegram, whatsapp, web…")],
    chat: Annotated[str, typer.Option(help="The learner's chat id on that channel.")],
    user: Annotated[
        str | None, typer.Option(help="In a group chat: the person's user id there.")
    ] = None,
) -> None:
    """Erase a learner: progress, requests' words, messages; their volunteer is told."""
    from bot.core.events import Sender
    from bot.services.coach import utc_now
    from bot.services.erasure import erase_learner
    from bot.store.database import forget_old_pages

    async def run(coach: Any) -> int | None:
        async with coach.store.unit_of_work() as uow:
            learner = await uow.learners.find(Sender(channel, chat, user or chat))
            if learner is None:
                return None
            tell = coach.desk.learner_gone if coach.desk is not None else None
            keys = coach.service.erased_keys
            await erase_learner(uow, learner, utc_now(), tell_desk=tell, erased_keys=keys)
            number = int(learner.id)
        await forget_old_pages(coach.store.engine)
        return number

    erased = asyncio.run(_with_coach(run))
    if erased is None:
        typer.echo("No learner with this channel and chat id.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Learner {erased} erased.")


@people.volunteer_app.command("forget")
def volunteer_forget(
    volunteer_id: Annotated[int, typer.Argument(help="The number from `list`.")],
) -> None:
    """Erase a volunteer's name and Telegram id; their requests go back to the queue."""
    from bot.services.coach import utc_now
    from bot.services.erasure import erase_volunteer
    from bot.services.volunteers import Volunteers
    from bot.store.database import forget_old_pages
    from bot.store.tables import Volunteer

    async def run(coach: Any) -> bool:
        await Volunteers(coach.store, utc_now).remove(volunteer_id)
        async with coach.store.unit_of_work() as uow:
            volunteer = await uow.session.get(Volunteer, volunteer_id)
            if volunteer is None:
                return False
            await erase_volunteer(uow, volunteer, utc_now(), coach.service.erased_keys)
        if coach.desk is not None:  # after: a request back in the queue no longer names them
            await coach.desk.volunteer_removed(volunteer_id)
        await forget_old_pages(coach.store.engine)
        return True

    if not asyncio.run(_with_coach(run)):
        typer.echo(f"No volunteer {volunteer_id}.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Volunteer {volunteer_id} erased.")
