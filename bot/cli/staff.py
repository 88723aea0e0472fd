"""Staff who sign in to the trainer pages: trainers, coordinators and admins."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated, TypeVar

import typer

from bot.cli.loading import load_settings
from bot.config import Settings
from bot.services.staff import SIGN_IN_PATH, Staff

app = typer.Typer(
    help="Staff of the trainer pages: trainers see previews and course figures, "
    "coordinators also the hand-off figures, admins everything.",
    no_args_is_help=True,
)
Result = TypeVar("Result")


class Role(StrEnum):
    trainer = "trainer"
    coordinator = "coordinator"
    admin = "admin"


def _with_staff(settings: Settings, work: Callable[[Staff], Awaitable[Result]]) -> Result:
    from bot.services.coach import utc_now
    from bot.store.database import create_engine
    from bot.store.unit_of_work import Store

    async def run() -> Result:
        store = Store(create_engine(settings.database_url))
        try:
            return await work(Staff(store, utc_now))
        finally:
            await store.close()

    return asyncio.run(run())


def _print_link(settings: Settings, token: str, expires: str) -> None:
    typer.echo(f"Send them this link; it works once, until {expires} UTC:")
    typer.echo(f"{settings.web_address}{SIGN_IN_PATH}{token}")


@app.command("invite")
def invite(
    name: Annotated[str, typer.Argument(help="How the staff pages will name them.")],
    role: Annotated[Role, typer.Option(help="What they may open.")] = Role.trainer,
) -> None:
    """Add a person and print their single-use sign-in link (valid 7 days)."""
    settings = load_settings()
    link = _with_staff(settings, lambda staff: staff.invite(name, role.value))
    typer.echo(f"Staff {link.staff_id}: {name} ({role.value})")
    _print_link(settings, link.token, f"{link.expires_at:%Y-%m-%d %H:%M}")


@app.command("link")
def new_link(
    staff_id: Annotated[int, typer.Argument(help="The number from `list`.")],
) -> None:
    """A new single-use sign-in link for a person, for another browser."""
    settings = load_settings()
    link = _with_staff(settings, lambda staff: staff.link(staff_id))
    if link is None:
        typer.echo(f"No active staff member {staff_id}.", err=True)
        raise typer.Exit(1)
    _print_link(settings, link.token, f"{link.expires_at:%Y-%m-%d %H:%M}")


@app.command("list")
def listed() -> None:
    """Everyone: number, name, role, since when, removed or not."""
    people = _with_staff(load_settings(), lambda staff: staff.listed())
    if not people:
        typer.echo("No staff yet: invite one with `coach staff invite NAME --role admin`.")
    for person in people:
        state = f"removed {person.removed_at:%Y-%m-%d}" if person.removed_at else "active"
        token = "  (signs in with COACH_TRAINER_TOKEN)" if person.shared_token else ""
        typer.echo(
            f"{person.id:>4}  {person.name:<24} {person.role:<12} "
            f"since {person.created_at:%Y-%m-%d}  {state}{token}"
        )


@app.command("role")
def role(
    staff_id: Annotated[int, typer.Argument(help="The number from `list`.")],
    new_role: Annotated[Role, typer.Argument(metavar="ROLE", help="trainer, coordinator or admin")],
) -> None:
    """Give a person another role; it holds from their next page."""
    changed = _with_staff(load_settings(), lambda staff: staff.set_role(staff_id, new_role.value))
    if not changed:
        typer.echo(f"No active staff member {staff_id}.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Staff {staff_id} is now {new_role.value}.")


@app.command("remove")
def remove(
    staff_id: Annotated[int, typer.Argument(help="The number from `list`.")],
) -> None:
    """Remove a person: their sessions end at once and their links stop working."""
    ended = _with_staff(load_settings(), lambda staff: staff.remove(staff_id))
    if ended is None:
        typer.echo(f"No active staff member {staff_id}.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Staff {staff_id} removed; {ended} browser session(s) ended.")
