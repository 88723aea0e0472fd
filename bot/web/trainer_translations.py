"""Translation work for signed-in trainers: per language, what is missing, fuzzy or unreviewed.

``/trainer/translations`` counts every language's texts in both catalogs; each count leads to
``/trainer/translations/<lang>?domain=messages|curriculum&show=missing|fuzzy|unreviewed|…``:
the English source and the translation side by side, 100 texts a page, and the whole list as
``/trainer/translations/<lang>/texts.csv`` with the same query. A draft is marked reviewed by
a form that removes its ``unreviewed`` flag from the ``.po`` file: the catalogs stay the only
record. Where they are read-only (production mounts them so), the page says how to do it in
the catalog instead. The page reads the files again whenever they change.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web
from babel.messages.pofile import PoFileError

from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.translations.work import (
    DOMAINS,
    STATES,
    Catalogue,
    Entry,
    Outcome,
    catalog_path,
    catalogue,
    mark_reviewed,
    writable,
)
from bot.web.bodies import FIELD_LIMIT, Refused, charset, parse_form, read_body
from bot.web.trainer_figures import SignedIn
from bot.web.trainer_tables import Table, csv_response, page
from bot.web.translation_tables import (
    DOMAIN_NAMES,
    PAGE_SIZE,
    counts_table,
    entries_table,
    html_page_of,
    overview_html,
    read_only_note,
    status_note,
)

log = logging.getLogger(__name__)
SHOWN = (*STATES, "all")
Stamp = tuple[tuple[int, int, int] | None, ...]


class TranslationPages:
    def __init__(
        self, locales: Path, catalogs: Catalogs, courses: CourseHolder, signed_in: SignedIn
    ) -> None:
        self.locales = locales
        self.catalogs = catalogs
        self.courses = courses
        self.signed_in = signed_in
        self.writing = asyncio.Lock()  # one marking at a time, each a read, a check, a rename
        self._read: dict[tuple[str, str], tuple[Stamp, Catalogue | None]] = {}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/trainer/translations", self.overview),
            web.get("/trainer/translations/languages.csv", self.overview_csv),
            web.get("/trainer/translations/{lang}", self.language_page),
            web.get("/trainer/translations/{lang}/texts.csv", self.language_csv),
            web.post("/trainer/translations/{lang}/reviewed", self.mark),
        ]

    def languages(self) -> list[str]:
        """Every offered language but the one the course is written in."""
        source = self.courses.course.source_language
        return [code for code in self.catalogs.languages if code != source]

    async def catalogue(self, code: str, domain: str) -> Catalogue | None:
        """The catalog as it is on disk now (read again when it changed); None if unreadable."""
        path = catalog_path(self.locales, code, domain)
        stamp = tuple(_stamp(place) for place in (path, self.locales / f"{domain}.pot"))
        known = self._read.get((code, domain))
        if known is not None and known[0] == stamp:
            return known[1]
        try:
            found: Catalogue | None = await asyncio.to_thread(catalogue, self.locales, code, domain)
        except (OSError, PoFileError, UnicodeDecodeError, ValueError):
            log.warning(
                "catalog %s/%s could not be read (see coach curriculum check)", code, domain
            )
            found = None
        self._read[(code, domain)] = (stamp, found)
        return found

    async def _signed_in(self, request: web.Request) -> None:
        if not await self.signed_in(request):
            raise web.HTTPSeeOther("/trainer")

    async def counts(self) -> Table:
        rows = {}
        for code in self.languages():
            rows[code] = {domain: await self.catalogue(code, domain) for domain in DOMAINS}
        return counts_table(rows, self.catalogs.names())

    async def overview(self, request: web.Request) -> web.Response:
        """Per language and catalog: texts missing, fuzzy, unreviewed and reviewed."""
        await self._signed_in(request)
        rtl = {code for code in self.languages() if self.catalogs.is_rtl(code)}
        body = overview_html(await self.counts(), rtl, self._writable_anywhere())
        return page("Translation work", body)

    async def overview_csv(self, request: web.Request) -> web.Response:
        await self._signed_in(request)
        return csv_response(await self.counts(), "translations.csv")

    def _writable_anywhere(self) -> bool:
        return any(
            writable(catalog_path(self.locales, code, domain))
            for code in self.languages()
            for domain in DOMAINS
        )

    def _language(self, request: web.Request) -> str:
        code = request.match_info["lang"]
        if code not in self.languages():
            raise web.HTTPNotFound(text="There is no such language to translate into.")
        return code

    async def _texts(self, request: web.Request) -> tuple[str, str, str, Catalogue]:
        """The language, catalog and filter the query names, and that catalog."""
        await self._signed_in(request)
        code = self._language(request)
        domain = request.query.get("domain", "messages")
        shown = request.query.get("show", "all")
        if domain not in DOMAINS or shown not in SHOWN:
            raise web.HTTPBadRequest(
                text="domain: messages or curriculum; "
                "show: missing, fuzzy, unreviewed, reviewed or all."
            )
        found = await self.catalogue(code, domain)
        if found is None:
            raise web.HTTPServiceUnavailable(
                text="This catalog cannot be read: run coach curriculum check to see why."
            )
        return code, domain, shown, found

    async def language_page(self, request: web.Request) -> web.Response:
        """One language's texts of one catalog, source and translation side by side."""
        code, domain, shown, found = await self._texts(request)
        path = catalog_path(self.locales, code, domain)
        number = _page_number(request.query.get("page", "1"))
        chosen = _chosen(found, shown)
        first = (number - 1) * PAGE_SIZE
        marked = request.query.get("marked", "")
        note = status_note(next((e for e in found.entries if e.key == marked), None))
        if not writable(path):
            note += read_only_note(path.relative_to(self.locales.parent))
        body = html_page_of(
            code=code,
            name=self.catalogs.names().get(code, code),
            rtl=self.catalogs.is_rtl(code),
            domain=domain,
            shown=shown,
            found=found,
            rows=chosen[first : first + PAGE_SIZE],
            total=len(chosen),
            number=number,
            note=note,
            can_mark=writable(path),
        )
        return page(f"Translation work: {code}, {DOMAIN_NAMES[domain]}", body)

    async def language_csv(self, request: web.Request) -> web.Response:
        """Every text the page lists, on all its pages."""
        code, domain, shown, found = await self._texts(request)
        table = entries_table(domain, _chosen(found, shown), found.plural_examples)
        return csv_response(table, f"{code}-{domain}-{shown}.csv")

    async def mark(self, request: web.Request) -> web.Response:
        """Remove one text's ``unreviewed`` flag from its catalog, then show the page again."""
        from bot.web.preview import same_origin  # the sign-in's own check; preview imports us

        same_origin(request)
        await self._signed_in(request)
        code = self._language(request)
        try:
            form = parse_form(await read_body(request, FIELD_LIMIT, 10.0), charset(request))
        except Refused as refused:
            return web.Response(status=refused.status, text="This form could not be read.")
        domain, key, seen = form.get("domain", ""), form.get("key", ""), form.get("seen", "")
        if domain not in DOMAINS or not key or not seen:
            raise web.HTTPBadRequest(text="The form names no catalog or no text.")
        path = catalog_path(self.locales, code, domain)
        async with self.writing:
            outcome = await asyncio.to_thread(mark_reviewed, path, code, key, seen)
        log.info("translation %s/%s %s: %s", code, domain, key, outcome.value)
        shown = form.get("show", "unreviewed")
        query = {"domain": domain, "show": shown if shown in SHOWN else "unreviewed"}
        if (number := _page_number(form.get("page", "1"))) > 1:
            query["page"] = str(number)
        back = f"/trainer/translations/{code}?{urlencode(query)}"
        if outcome in (Outcome.MARKED, Outcome.ALREADY):
            raise web.HTTPSeeOther(f"{back}&{urlencode({'marked': key})}")
        return _refusal(outcome, back, path.relative_to(self.locales.parent))


def _refusal(outcome: Outcome, back: str, shown_path: Path) -> web.Response:
    """Why a text was not marked, and the way back to the list."""
    said, status = {
        Outcome.NOT_FOUND: ("There is no such text in this catalog (any more).", 404),
        Outcome.NOT_DRAFT: ("Only a translated text that is not fuzzy can be marked.", 409),
        Outcome.CHANGED: ("The translation changed since the page was shown: look again.", 409),
        Outcome.UNEXPECTED_FORM: (
            "This catalog is not in the form “make translations” writes, so writing it here "
            "would change more than one line: run make translations first, or remove the "
            "flag in a text editor.",
            409,
        ),
        Outcome.READ_ONLY: ("The catalogs cannot be changed here.", 409),
    }[outcome]
    body = f"<h1>Not marked</h1><p role=alert>{said}</p>"
    if outcome is Outcome.READ_ONLY:
        body += read_only_note(shown_path)
    body += f'<p><a href="{html.escape(back)}">← Back to the list</a></p>'
    response = page("Not marked", body)
    response.set_status(status)
    return response


def _chosen(found: Catalogue, shown: str) -> list[Entry]:
    if shown == "all":
        return list(found.entries)
    return [entry for entry in found.entries if entry.state == shown]


def _page_number(value: str) -> int:
    return max(1, int(value)) if value.isdecimal() and len(value) < 6 else 1


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_mtime_ns, found.st_size, found.st_ino
