"""Volunteers are invited by an admin and register once with their link."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from bot.cli import app
from bot.services.volunteers import INVITE_PREFIX, Volunteers
from bot.store.database import create_engine, upgrade
from bot.store.unit_of_work import Store
from tests.builders import NOW


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


def token_of(link: str) -> str:
    return link.split(f"start={INVITE_PREFIX}", 1)[1]


async def test_an_invitation_registers_one_person_once(engine: AsyncEngine) -> None:
    volunteers = Volunteers(Store(engine), Clock())
    invite = await volunteers.invite("Nadia", ["fr", "ar"], ["library"], "@coach_test_bot")
    assert invite.link.startswith("https://t.me/coach_test_bot?start=v_")
    token = token_of(invite.link)
    assert len(token) >= 30 and len(f"{INVITE_PREFIX}{token}") <= 64
    registered = await volunteers.redeem(token, "7001")
    assert registered is not None and registered.name == "Nadia" and registered.registered
    assert registered.languages == ("fr", "ar")
    assert await volunteers.redeem(token, "7002") is None
    assert (await volunteers.by_telegram("7001")) == registered
    assert await volunteers.by_telegram("7002") is None


async def test_two_people_opening_one_link_at_once_register_one(engine: AsyncEngine) -> None:
    volunteers = Volunteers(Store(engine), Clock())
    token = token_of((await volunteers.invite("Omar", [], [], "coach_test_bot")).link)
    results = await asyncio.gather(*(volunteers.redeem(token, f"80{i}") for i in range(4)))
    assert sum(result is not None for result in results) == 1


async def test_an_expired_or_unknown_invitation_registers_nobody(engine: AsyncEngine) -> None:
    clock = Clock()
    volunteers = Volunteers(Store(engine), clock)
    token = token_of((await volunteers.invite("Lea", [], [], "coach_test_bot")).link)
    clock.now += timedelta(days=8)
    assert await volunteers.redeem(token, "9001") is None
    assert await volunteers.redeem("made-up-token", "9001") is None
    assert [v.registered for v in await volunteers.listed()] == [False]


async def test_a_removed_volunteer_is_no_longer_recognised(engine: AsyncEngine) -> None:
    volunteers = Volunteers(Store(engine), Clock())
    token = token_of((await volunteers.invite("Sam", ["en"], [], "coach_test_bot")).link)
    registered = await volunteers.redeem(token, "9100")
    assert registered is not None
    assert await volunteers.remove(registered.id)
    assert await volunteers.by_telegram("9100") is None
    assert not await volunteers.remove(registered.id)


def test_the_admin_invites_lists_and_removes_volunteers_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/v.db")
    monkeypatch.setenv("COACH_TELEGRAM_BOT_USERNAME", "coach_test_bot")
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    invited = runner.invoke(app, ["volunteer", "invite", "--name", "Nadia", "--languages", "fr,ar"])
    assert invited.exit_code == 0, invited.output
    assert "In Telegram:  https://t.me/coach_test_bot?start=v_" in invited.output
    assert "In a browser: http://127.0.0.1:8080/desk/sign-in/" in invited.output
    another = runner.invoke(app, ["volunteer", "web-link", "1"])
    assert "http://127.0.0.1:8080/desk/sign-in/" in another.output, another.output
    ended = runner.invoke(app, ["volunteer", "sign-out", "1"])
    assert "0 browser session(s) ended" in ended.output, ended.output
    listed = runner.invoke(app, ["volunteer", "list"])
    assert "Nadia" in listed.output and "invited" in listed.output and "fr,ar" in listed.output
    assert runner.invoke(app, ["volunteer", "remove", "1"]).exit_code == 0
    assert "removed" in runner.invoke(app, ["volunteer", "list"]).output
    missing = runner.invoke(app, ["volunteer", "remove", "42"])
    assert missing.exit_code == 1


def test_without_telegram_an_invitation_is_the_browser_link_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/v.db")
    monkeypatch.setenv("COACH_PUBLIC_URL", "https://coach.example.org/")
    monkeypatch.delenv("COACH_TELEGRAM_BOT_USERNAME", raising=False)
    monkeypatch.delenv("COACH_TELEGRAM_TOKEN", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["volunteer", "invite", "--name", "X"])
    assert result.exit_code == 0, result.output
    assert "t.me" not in result.output
    assert "In a browser: https://coach.example.org/desk/sign-in/" in result.output


async def test_the_demo_prints_a_new_desk_link_for_its_one_volunteer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli.loading import load_settings
    from bot.cli.people import demo_desk_link

    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/d.db")
    settings = load_settings()
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    first, second = await demo_desk_link(settings), await demo_desk_link(settings)
    assert first.startswith("http://127.0.0.1:8080/desk/sign-in/") and first != second
    listed = await Volunteers(Store(engine), Clock()).listed()
    assert [v.name for v in listed] == ["Demo volunteer"]
    await engine.dispose()
