"""Trainers see, per language, which texts are missing, fuzzy or unreviewed, the English and
the translation side by side, and mark a draft reviewed: its catalog loses that one flag line.

Every test works on a copy of ``locales/``; the counts are worked out here from the files."""

from __future__ import annotations

import csv
import difflib
import html
import io
import re
import shutil
import stat
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from babel.messages.catalog import Message
from babel.messages.pofile import read_po, write_po
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build
from bot.translations.work import digest, one_flag_line, text_key
from tests.conftest import ROOT, settings_for

FORM = re.compile(
    r'name="domain" value="(\w+)">'
    r'<input type="hidden" name="key" value="(\w+)">'
    r'<input type="hidden" name="seen" value="(\w+)">'
)
SAME_SITE = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}


@pytest.fixture
def locales(tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", copy, ignore=shutil.ignore_patterns("*.mo"))  # built
    yield copy
    for place in copy.rglob("*"):  # a test may have made them read-only
        place.chmod(place.stat().st_mode | stat.S_IWUSR)


@pytest.fixture
async def trainer(
    engine: AsyncEngine, database_url: str, locales: Path
) -> AsyncIterator[TestClient[Any, Any]]:
    settings = settings_for(database_url, trainer_token="s3cret")
    coach = build(settings.model_copy(update={"locales_path": locales}))
    try:
        async with TestClient(TestServer(coach.web)) as client:
            yield client
    finally:
        await coach.store.close()


async def signs_in(client: TestClient[Any, Any]) -> None:
    signed = await client.post("/trainer/sign-in", data={"token": "s3cret"}, allow_redirects=False)
    assert signed.status == 303


def expected_counts(po: Path) -> Counter[str]:
    """Worked out from the file alone: empty, fuzzy, flagged unreviewed, or reviewed."""
    with po.open("rb") as handle:
        catalog = read_po(handle)
    counts: Counter[str] = Counter()
    for message in catalog:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple | list) else [message.string]
        if not all(forms):
            counts["missing"] += 1
        elif "fuzzy" in message.flags:
            counts["fuzzy"] += 1
        else:
            counts["unreviewed" if "unreviewed" in message.flags else "reviewed"] += 1
    return counts


async def table(client: TestClient[Any, Any], path: str, **query: str) -> list[list[str]]:
    response = await client.get(path, params=query)
    assert response.status == 200, await response.text()
    assert response.content_type == "text/csv"
    return list(csv.reader(io.StringIO(await response.text())))


async def counts_of(client: TestClient[Any, Any], code: str) -> dict[str, str]:
    rows = await table(client, "/trainer/translations/languages.csv")
    row = next(row for row in rows[1:] if row[1] == code)
    return dict(zip(rows[0], row, strict=True))


def changed_lines(before: bytes, after: bytes) -> list[str]:
    diff = difflib.unified_diff(before.decode().splitlines(), after.decode().splitlines(), n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("---", "+++")]


async def test_the_counts_are_those_of_the_catalogs(
    trainer: TestClient[Any, Any], locales: Path
) -> None:
    await signs_in(trainer)
    index = await (await trainer.get("/trainer")).text()
    assert '<a href="/trainer/translations">Translation work</a>' in index
    page = await (await trainer.get("/trainer/translations")).text()
    assert '<bdi lang="ar" dir="rtl">العربية</bdi>' in page
    assert "/trainer/translations/fr?domain=curriculum&amp;show=unreviewed" in page
    for code in ("fr", "ar"):
        shown = await counts_of(trainer, code)
        for domain, name in (("messages", "interface texts"), ("curriculum", "lesson texts")):
            expected = expected_counts(locales / code / "LC_MESSAGES" / f"{domain}.po")
            for state in ("missing", "fuzzy", "unreviewed", "reviewed"):
                assert shown[f"{name}: {state}"] == str(expected[state]), (code, domain, state)
    rows = await table(trainer, "/trainer/translations/languages.csv")
    assert [row[1] for row in rows[1:]] == ["fr", "ar"]  # not English, the course's own


async def test_a_trainer_marks_a_french_draft_reviewed(
    trainer: TestClient[Any, Any], locales: Path
) -> None:
    po = locales / "fr" / "LC_MESSAGES" / "messages.po"
    before = po.read_bytes()
    unreviewed = expected_counts(po)["unreviewed"]
    await signs_in(trainer)
    listed = await trainer.get("/trainer/translations/fr", params={"show": "unreviewed"})
    page = await listed.text()
    assert '<td lang="fr" dir="ltr">' in page and "Mark reviewed" in page
    assert f"Texts 1–100 of {unreviewed}" in page
    rows = await table(trainer, "/trainer/translations/fr/texts.csv", show="unreviewed")
    assert rows[0][:5] == ["context", "state", "English", "English plural", "translation"]
    assert len(rows) == unreviewed + 1 and {row[1] for row in rows[1:]} == {"unreviewed"}
    assert rows[1][2] == page_source(page)
    domain, key, seen = FORM.findall(page)[0]
    marked = await trainer.post(
        "/trainer/translations/fr/reviewed",
        data={"domain": domain, "key": key, "seen": seen, "show": "unreviewed"},
        headers=SAME_SITE,
        allow_redirects=False,
    )
    assert marked.status == 303
    assert marked.headers["Location"].startswith("/trainer/translations/fr?domain=messages")
    after = await (await trainer.get(marked.headers["Location"])).text()
    assert "Marked reviewed" in after and f"of {unreviewed - 1}" in after
    assert changed_lines(before, po.read_bytes()) == ["-#, unreviewed"]
    assert (await counts_of(trainer, "fr"))["interface texts: unreviewed"] == str(unreviewed - 1)
    again = await trainer.post(
        "/trainer/translations/fr/reviewed",
        data={"domain": domain, "key": key, "seen": seen},
        headers=SAME_SITE,
        allow_redirects=False,
    )
    assert again.status == 303  # already reviewed: nothing more to write
    assert changed_lines(before, po.read_bytes()) == ["-#, unreviewed"]


def page_source(page: str) -> str:
    """The first listed text's English, as the page shows it (escaped, lines broken)."""
    cell = re.search(r'<td lang="en" dir="ltr">(.*?)(?:<p class="note">|</td>)', page, re.S)
    assert cell is not None
    return html.unescape(cell.group(1).replace("<br>\n", "\n"))


async def test_a_plural_text_keeps_its_other_flags(
    trainer: TestClient[Any, Any], locales: Path
) -> None:
    po = locales / "ar" / "LC_MESSAGES" / "messages.po"
    before = po.read_bytes()
    await signs_in(trainer)
    streak = r'<tr id="t-\w+"><td></td><td lang="en" dir="ltr"><p>Streak.*?</tr>'
    number, plural, page = 0, None, ""
    while plural is None:  # the list's page that holds the plural text "Streak…"
        number += 1
        got = await trainer.get("/trainer/translations/ar", params={"page": str(number)})
        page = await got.text()
        assert got.status == 200 and f"Page {number} of " in page
        plural = re.search(streak, page)
    assert '<td lang="ar" dir="rtl">' in page
    forms = re.findall(r"n = ([^:]+):</bdi>", plural.group(0))
    assert forms == ["0", "1", "2", "3, 4, 5…", "100, 101, 102…", "11, 12, 13…"]
    domain, key, seen = FORM.findall(plural.group(0))[0]
    hidden = f'name="show" value="all"><input type="hidden" name="page" value="{number}">'
    assert hidden in page
    marked = await trainer.post(
        "/trainer/translations/ar/reviewed",
        data={"domain": domain, "key": key, "seen": seen, "show": "all", "page": str(number)},
        headers=SAME_SITE,
        allow_redirects=False,
    )
    assert marked.status == 303
    assert marked.headers["Location"].startswith(
        f"/trainer/translations/ar?domain=messages&show=all&page={number}&marked="
    )
    lines = changed_lines(before, po.read_bytes())
    assert lines == ["-#, python-brace-format, unreviewed", "+#, python-brace-format"]


async def test_catalog_text_is_escaped(trainer: TestClient[Any, Any], locales: Path) -> None:
    po = locales / "fr" / "LC_MESSAGES" / "curriculum.po"
    text = po.read_text()
    po.write_text(text.replace('msgstr "ameli et la CAF"', 'msgstr "<script>x()</script> & co"'))
    await signs_in(trainer)
    page = await (
        await trainer.get("/trainer/translations/fr", params={"domain": "curriculum"})
    ).text()
    assert "<script>" not in page and "&lt;script&gt;x()&lt;/script&gt; &amp; co" in page
    assert "<td>admin-ameli-caf</td><td></td><td>title</td>" in page


async def test_a_lesson_text_is_marked_in_its_catalog(
    trainer: TestClient[Any, Any], locales: Path
) -> None:
    po = locales / "fr" / "LC_MESSAGES" / "curriculum.po"
    before = po.read_bytes()
    await signs_in(trainer)
    query = {"domain": "curriculum", "show": "unreviewed", "page": "5"}
    page = await (await trainer.get("/trainer/translations/fr", params=query)).text()
    domain, key, seen = FORM.findall(page)[-1]
    marked = await trainer.post(
        "/trainer/translations/fr/reviewed",
        data={"domain": domain, "key": key, "seen": seen, "show": "unreviewed", "page": "5"},
        headers=SAME_SITE,
        allow_redirects=False,
    )
    assert marked.status == 303
    assert changed_lines(before, po.read_bytes()) == ["-#, unreviewed"]


async def test_pages_are_for_signed_in_trainers_only(
    trainer: TestClient[Any, Any], locales: Path
) -> None:
    for path in (
        "/trainer/translations",
        "/trainer/translations/languages.csv",
        "/trainer/translations/fr",
        "/trainer/translations/fr/texts.csv",
    ):
        response = await trainer.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/trainer"
    po = locales / "fr" / "LC_MESSAGES" / "messages.po"
    before = po.read_bytes()
    posted = await trainer.post(
        "/trainer/translations/fr/reviewed",
        data={"domain": "messages", "key": "0" * 16, "seen": "0" * 16},
        headers=SAME_SITE,
        allow_redirects=False,
    )
    assert posted.status == 303 and posted.headers["Location"] == "/trainer"
    assert po.read_bytes() == before


async def test_a_form_from_another_site_is_refused(
    trainer: TestClient[Any, Any], locales: Path
) -> None:
    po = locales / "fr" / "LC_MESSAGES" / "messages.po"
    before = po.read_bytes()
    await signs_in(trainer)
    page = await (await trainer.get("/trainer/translations/fr")).text()
    domain, key, seen = FORM.findall(page)[0]
    for headers in (
        {"Origin": "https://elsewhere.example", "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://elsewhere.example"},
    ):
        forged = await trainer.post(
            "/trainer/translations/fr/reviewed",
            data={"domain": domain, "key": key, "seen": seen},
            headers=headers,
            allow_redirects=False,
        )
        assert forged.status == 403
    assert po.read_bytes() == before


async def test_unknown_languages_and_texts_are_said_so(
    trainer: TestClient[Any, Any], locales: Path
) -> None:
    po = locales / "fr" / "LC_MESSAGES" / "messages.po"
    before = po.read_bytes()
    await signs_in(trainer)
    for path in (
        "/trainer/translations/xx",
        "/trainer/translations/en",
        "/trainer/translations/ru",
    ):
        missing = await trainer.get(path)
        assert missing.status == 404
        assert "no such language" in await missing.text()
    for query in ({"domain": "nope"}, {"show": "everything"}):
        assert (await trainer.get("/trainer/translations/fr", params=query)).status == 400

    async def posts(**form: str) -> tuple[int, str]:
        response = await trainer.post(
            "/trainer/translations/fr/reviewed", data=form, headers=SAME_SITE
        )
        return response.status, await response.text()

    status, said = await posts(domain="messages", key="0123456789abcdef", seen="00")
    assert status == 404 and "no such text" in said
    assert (await posts(domain="messages", key="", seen="x"))[0] == 400
    assert (await posts(domain="nope", key="0123456789abcdef", seen="x"))[0] == 400
    page = await (await trainer.get("/trainer/translations/fr")).text()
    domain, key, _seen = FORM.findall(page)[0]
    status, said = await posts(domain=domain, key=key, seen="0000000000000000")
    assert status == 409 and "changed since the page was shown" in said
    assert po.read_bytes() == before


async def test_read_only_catalogs_are_explained_and_left_alone(
    trainer: TestClient[Any, Any], locales: Path
) -> None:
    po = locales / "fr" / "LC_MESSAGES" / "messages.po"
    before = po.read_bytes()
    await signs_in(trainer)
    page = await (await trainer.get("/trainer/translations/fr")).text()
    domain, key, seen = FORM.findall(page)[0]
    make_read_only(locales)
    overview = await (await trainer.get("/trainer/translations")).text()
    assert "The catalogs are read-only here" in overview
    page = await (await trainer.get("/trainer/translations/fr")).text()
    assert "Mark reviewed" not in page
    assert "The catalogs are read-only here" in page
    assert "locales/fr/LC_MESSAGES/messages.po" in page and "#, unreviewed" in page
    refused = await trainer.post(
        "/trainer/translations/fr/reviewed",
        data={"domain": domain, "key": key, "seen": seen},
        headers=SAME_SITE,
        allow_redirects=False,
    )
    assert refused.status == 409
    assert "The catalogs are read-only here" in await refused.text()
    assert po.read_bytes() == before
    assert sorted(p.name for p in po.parent.iterdir()) == ["curriculum.po", "messages.po"]


def make_read_only(locales: Path) -> None:
    """As a read-only mount would make them (the modes hold even for a coach run as root)."""
    for place in locales.rglob("*"):
        place.chmod(stat.S_IMODE(place.stat().st_mode) & ~0o222)


def test_only_one_flag_line_may_change() -> None:
    before = ["#, unreviewed", 'msgid "a"', 'msgstr "b"', "", "#, fuzzy", 'msgid "c"']
    assert one_flag_line(before, before[1:])
    assert one_flag_line(["#, x, unreviewed", *before[1:]], ["#, x", *before[1:]])
    assert not one_flag_line(before, before)
    assert not one_flag_line(before, [before[0], 'msgid "a"', 'msgstr "B"', *before[3:]])
    assert not one_flag_line(before, before[1:2] + before[3:])


def prepare_french(po: Path) -> list[Message]:
    """One draft made fuzzy (for an older source), one reviewed, one left untranslated."""
    with po.open("rb") as handle:
        catalog = read_po(handle)
    drafts = [m for m in catalog if m.id and "unreviewed" in m.flags and not m.pluralizable]
    drafts[0].flags.add("fuzzy")
    drafts[0].previous_id = ["An older <source>"]
    drafts[1].flags.discard("unreviewed")
    drafts[2].string = ""
    with po.open("wb") as handle:
        write_po(handle, catalog, width=76, include_previous=True)
    return drafts[:3]


async def test_fuzzy_missing_and_reviewed_texts_are_listed_apart(
    trainer: TestClient[Any, Any], locales: Path
) -> None:
    po = locales / "fr" / "LC_MESSAGES" / "messages.po"
    fuzzy, reviewed, missing = prepare_french(po)
    expected = expected_counts(po)
    assert expected["fuzzy"] == expected["reviewed"] == expected["missing"] == 1
    await signs_in(trainer)
    shown = await counts_of(trainer, "fr")
    for state in ("missing", "fuzzy", "unreviewed", "reviewed"):
        assert shown[f"interface texts: {state}"] == str(expected[state])
    for state, message in (("fuzzy", fuzzy), ("reviewed", reviewed), ("missing", missing)):
        page = await (await trainer.get("/trainer/translations/fr", params={"show": state})).text()
        assert html.escape(str(message.id)) in page and "Mark reviewed" not in page
        rows = await table(trainer, "/trainer/translations/fr/texts.csv", show=state)
        assert [row[2] for row in rows[1:]] == [message.id]
    page = await (await trainer.get("/trainer/translations/fr", params={"show": "fuzzy"})).text()
    assert "was made for: An older &lt;source&gt;" in page
    before = po.read_bytes()
    refused = await trainer.post(
        "/trainer/translations/fr/reviewed",
        data={
            "domain": "messages",
            "key": text_key(None, str(fuzzy.id)),
            "seen": digest(str(fuzzy.string)),
        },
        headers=SAME_SITE,
    )
    assert refused.status == 409 and "not fuzzy" in await refused.text()
    assert po.read_bytes() == before


async def test_a_catalog_in_another_form_is_not_rewritten(
    trainer: TestClient[Any, Any], locales: Path
) -> None:
    """Written by another tool (here: without wrapping), saving it would change more lines."""
    po = locales / "fr" / "LC_MESSAGES" / "messages.po"
    text = po.read_text()
    unwrapped = text.replace('"\n"', "", 1)  # joins the first wrapped string's first two lines
    assert unwrapped != text
    po.write_text(unwrapped)
    await signs_in(trainer)
    page = await (await trainer.get("/trainer/translations/fr")).text()
    domain, key, seen = FORM.findall(page)[-1]
    refused = await trainer.post(
        "/trainer/translations/fr/reviewed",
        data={"domain": domain, "key": key, "seen": seen},
        headers=SAME_SITE,
    )
    assert refused.status == 409 and "make translations" in await refused.text()
    assert po.read_text() == unwrapped
