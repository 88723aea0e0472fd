"""Staff sign in with a single-use link or the trainer token; each page checks their role."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from bot.app import Coach, build
from bot.cli import app as cli
from bot.services.coach import utc_now
from bot.services.staff import SIGN_IN_PATH, Staff
from bot.store.tables import StaffSession
from tests.conftest import settings_for

METRICS_TOKEN = "scrape-me-please"
Client = TestClient[Any, Any]


@pytest.fixture
async def coach(engine: AsyncEngine, database_url: str) -> AsyncIterator[Coach]:
    built = build(settings_for(database_url, trainer_token="s3cret"))
    yield built
    await built.store.close()


@pytest.fixture
def staff(coach: Coach) -> Staff:
    return Staff(coach.store, utc_now)


async def browser(coach: Coach) -> Client:
    """A browser of its own: its own cookies."""
    client: Client = TestClient(TestServer(coach.web))
    await client.start_server()
    return client


async def opens_link(client: Client, token: str, **headers: str) -> Any:
    """Open the link, as a person does, then press its button."""
    page = await client.get(f"{SIGN_IN_PATH}{token}")
    assert page.status == 200 and "<button>Sign in</button>" in await page.text()
    return await client.post(f"{SIGN_IN_PATH}{token}", headers=headers, allow_redirects=False)


async def invited(coach: Coach, staff: Staff, name: str, role: str) -> Client:
    """A person invited with ``role``, signed in in their own browser."""
    link = await staff.invite(name, role)
    client = await browser(coach)
    signed = await opens_link(client, link.token)
    assert signed.status == 303 and signed.headers["Location"] == "/trainer"
    return client


async def status(client: Client, path: str) -> int:
    return (await client.get(path, allow_redirects=False)).status


async def test_each_role_opens_its_pages_and_is_refused_the_others(
    coach: Coach, staff: Staff
) -> None:
    trainer = await invited(coach, staff, "Tina", "trainer")
    coordinator = await invited(coach, staff, "Cody", "coordinator")
    admin = await invited(coach, staff, "Ada", "admin")
    try:
        index = await (await trainer.get("/trainer")).text()
        assert "Signed in as Tina (trainer)." in index and "Lesson preview" in index
        assert 'href="/trainer/figures"' in index and 'href="/trainer/handoffs"' not in index
        assert 'href="/metrics"' not in index and 'action="/trainer/sign-out"' in index
        assert await status(trainer, "/trainer/figures") == 200
        refused = await trainer.get("/trainer/handoffs")
        page = await refused.text()
        assert refused.status == 403 and "Tina (trainer)" in page
        assert "for coordinators and admins" in page and 'href="/trainer"' in page
        assert await status(trainer, "/trainer/handoffs/outcomes.csv") == 403

        index = await (await coordinator.get("/trainer")).text()
        assert "Signed in as Cody (coordinator)." in index
        assert 'href="/trainer/handoffs"' in index and 'href="/metrics"' not in index
        assert await status(coordinator, "/trainer/handoffs") == 200
        assert await status(coordinator, "/trainer/figures") == 200

        index = await (await admin.get("/trainer")).text()
        assert "Signed in as Ada (admin)." in index
        assert 'href="/trainer/handoffs"' in index and 'href="/metrics"' in index
        assert await status(admin, "/trainer/handoffs") == 200
    finally:
        for client in (trainer, coordinator, admin):
            await client.close()


async def test_the_link_page_only_shows_a_button_and_a_used_link_fails(
    coach: Coach, staff: Staff
) -> None:
    link = await staff.invite("Tina", "trainer")
    preview_bot, person, other = await browser(coach), await browser(coach), await browser(coach)
    try:
        shown = await preview_bot.get(f"{SIGN_IN_PATH}{link.token}")
        assert shown.status == 200 and "Set-Cookie" not in shown.headers
        assert shown.headers["Cache-Control"] == "no-store"
        assert "Lesson preview" not in await (await preview_bot.get("/trainer")).text()
        assert (await opens_link(person, link.token)).status == 303
        again = await opens_link(other, link.token)
        assert again.status == 403 and "Set-Cookie" not in again.headers
        assert "does not work" in await again.text()
        assert "Lesson preview" not in await (await other.get("/trainer")).text()
        assert (await opens_link(other, "made-up-token")).status == 403
    finally:
        for client in (preview_bot, person, other):
            await client.close()


async def test_the_trainer_token_signs_in_as_one_admin(coach: Coach, staff: Staff) -> None:
    first, second = await browser(coach), await browser(coach)
    try:
        for client in (first, second):
            signed = await client.post(
                "/trainer/sign-in", data={"token": "s3cret"}, allow_redirects=False
            )
            assert signed.status == 303
            assert "s3cret" not in signed.headers["Set-Cookie"]
        index = await (await first.get("/trainer")).text()
        assert "Signed in as Trainer token (admin)." in index and 'href="/metrics"' in index
        assert await status(second, "/trainer/handoffs") == 200
        listed = await staff.listed()
        assert [(p.name, p.role, p.shared_token) for p in listed] == [
            ("Trainer token", "admin", True)
        ]
    finally:
        await first.close()
        await second.close()


async def test_removing_a_person_ends_their_sessions_and_links_at_once(
    coach: Coach, staff: Staff
) -> None:
    client = await invited(coach, staff, "Tina", "trainer")
    other_browser = await browser(coach)
    try:
        [tina] = await staff.listed()
        spare = await staff.link(tina.id)
        assert spare is not None and await status(client, "/trainer/figures") == 200
        assert await staff.remove(tina.id) == 1
        page = await (await client.get("/trainer")).text()
        assert "Lesson preview" not in page and "Trainer sign-in" in page
        gone = await client.get("/trainer/figures", allow_redirects=False)
        assert gone.status == 303 and gone.headers["Location"] == "/trainer"
        assert (await opens_link(other_browser, spare.token)).status == 403
        assert await staff.link(tina.id) is None and await staff.remove(tina.id) is None
        [listed] = await staff.listed()
        assert listed.removed_at is not None
    finally:
        await client.close()
        await other_browser.close()


async def test_a_new_role_holds_from_the_next_request(coach: Coach, staff: Staff) -> None:
    client = await invited(coach, staff, "Tina", "trainer")
    try:
        [tina] = await staff.listed()
        assert await status(client, "/trainer/handoffs") == 403
        assert await staff.set_role(tina.id, "coordinator")
        assert await status(client, "/trainer/handoffs") == 200
        assert "Signed in as Tina (coordinator)." in await (await client.get("/trainer")).text()
        assert await staff.set_role(tina.id, "trainer")
        assert await status(client, "/trainer/handoffs") == 403
    finally:
        await client.close()


async def test_forms_posted_from_another_site_are_refused(coach: Coach, staff: Staff) -> None:
    link = await staff.invite("Tina", "trainer")
    client = await browser(coach)
    try:
        forged = await opens_link(client, link.token, Origin="https://elsewhere.example")
        assert forged.status == 403 and "Set-Cookie" not in forged.headers
        cross_site = await opens_link(client, link.token, Origin="null", **CROSS_SITE)
        assert cross_site.status == 403 and "Set-Cookie" not in cross_site.headers
        assert (await opens_link(client, link.token)).status == 303  # the link still works
        out = await client.post("/trainer/sign-out", headers=CROSS_SITE, allow_redirects=False)
        assert out.status == 403
        assert "Signed in as Tina" in await (await client.get("/trainer")).text()
        assert (await client.post("/trainer/sign-out", allow_redirects=False)).status == 303
        assert "Signed in as Tina" not in await (await client.get("/trainer")).text()
        async with coach.store.unit_of_work() as uow:
            still_open = await uow.session.scalar(
                select(func.count()).where(StaffSession.ended_at.is_(None))
            )
        assert still_open == 0
    finally:
        await client.close()


CROSS_SITE = {"Sec-Fetch-Site": "cross-site"}


async def test_metrics_without_a_token_are_for_this_machine_and_admins(
    coach: Coach, staff: Staff
) -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    admin = await invited(coach, staff, "Ada", "admin")
    trainer = await invited(coach, staff, "Tina", "trainer")
    try:
        assert (await trainer.get("/metrics")).status == 200  # from this machine
        assert (await trainer.get("/metrics", headers=forwarded)).status == 403
        shown = await admin.get("/metrics", headers=forwarded)
        assert shown.status == 200 and "coach_outbox_oldest_age_seconds" in await shown.text()
    finally:
        await admin.close()
        await trainer.close()


async def test_metrics_with_a_token_need_it_or_an_admin(
    engine: AsyncEngine, database_url: str
) -> None:
    coach = build(settings_for(database_url, metrics_token=METRICS_TOKEN))
    staff = Staff(coach.store, utc_now)
    scraper = await browser(coach)
    admin = await invited(coach, staff, "Ada", "admin")
    trainer = await invited(coach, staff, "Tina", "trainer")
    try:
        bare = await scraper.get("/metrics")
        assert bare.status == 401 and bare.headers["WWW-Authenticate"].startswith("Bearer")
        wrong = await scraper.get("/metrics", headers={"Authorization": "Bearer guess"})
        assert wrong.status == 401
        right = await scraper.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert right.status == 200 and "coach_outbox_oldest_age_seconds" in await right.text()
        assert (await trainer.get("/metrics")).status == 401
        assert (await admin.get("/metrics")).status == 200
    finally:
        for client in (scraper, admin, trainer):
            await client.close()
        await coach.store.close()


async def test_the_staff_commands_invite_list_change_and_remove(
    coach: Coach, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COACH_DATABASE_URL", database_url)
    monkeypatch.setenv("COACH_PUBLIC_URL", "https://coach.example")

    async def run(*words: str) -> Any:
        return await asyncio.to_thread(CliRunner().invoke, cli, ["staff", *words])

    made = await run("invite", "Cody", "--role", "coordinator")
    assert made.exit_code == 0, made.output
    assert "Staff 1: Cody (coordinator)" in made.output
    link = re.search(r"https://coach\.example/trainer/sign-in/(\S+)", made.output)
    assert link is not None
    client = await browser(coach)
    try:
        assert (await opens_link(client, link.group(1))).status == 303
        assert await status(client, "/trainer/handoffs") == 200
        listed = await run("list")
        assert listed.exit_code == 0 and re.search(
            r"1\s+Cody\s+coordinator .* active", listed.output
        )
        changed = await run("role", "1", "trainer")
        assert changed.exit_code == 0 and "Staff 1 is now trainer." in changed.output
        assert await status(client, "/trainer/handoffs") == 403
        assert (await run("role", "1", "boss")).exit_code != 0
        removed = await run("remove", "1")
        assert removed.exit_code == 0 and "1 browser session(s) ended" in removed.output
        assert await status(client, "/trainer/figures") == 303
        assert (await run("remove", "1")).exit_code == 1
        assert "removed" in (await run("list")).output
    finally:
        await client.close()


async def test_a_session_ends_after_its_hours(coach: Coach) -> None:
    now = [utc_now()]
    staff = Staff(coach.store, lambda: now[0], session_hours=12)
    link = await staff.invite("Tina", "trainer")
    signed = await staff.redeem(link.token)
    assert signed is not None and await staff.redeem(link.token) is None
    now[0] += timedelta(hours=11)
    person = await staff.person(signed.staff_id, signed.token)
    assert person is not None and (person.name, person.role) == ("Tina", "trainer")
    assert await staff.person(signed.staff_id + 1, signed.token) is None  # another's id
    now[0] += timedelta(hours=2)
    assert await staff.person(signed.staff_id, signed.token) is None
    late = await staff.invite("Cody", "coordinator")
    now[0] += timedelta(days=8)
    assert await staff.redeem(late.token) is None  # a link lasts 7 days
