"""The translation work pages' HTML and CSV: counts per language, then texts side by side.

Every text from a catalog is escaped; a translation carries its language and direction.
"""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import quote, urlencode

from bot.translations.work import DOMAINS, STATES, UNREVIEWED, Catalogue, Entry
from bot.web.trainer_tables import Table

PAGE_SIZE = 100
DOMAIN_NAMES = {"messages": "interface texts", "curriculum": "lesson texts"}
LESSON_PARTS = ("lesson", "step", "field")
RESTART = (
    '<p class="note">Marking a text reviewed changes its catalog file, and this page at once. '
    "The coach reads its catalogs when it starts: until the next start after a language's "
    "last draft is reviewed, its learners are still told its translations are new and still "
    "see “🤔 Unclear”. The translations learners read do not change.</p>"
)


def counts_table(rows: dict[str, dict[str, Catalogue | None]], names: dict[str, str]) -> Table:
    """Per language, each catalog's texts by state; an unreadable catalog says so."""
    header = ["language", "code"]
    header += [f"{DOMAIN_NAMES[domain]}: {state}" for domain in DOMAINS for state in STATES]
    lines = []
    for code, found in rows.items():
        cells = [names.get(code, code), code]
        for domain in DOMAINS:
            catalog = found[domain]
            counts = catalog.counts() if catalog is not None else None
            cells += [
                str(counts[state]) if counts is not None else "unreadable" for state in STATES
            ]
        lines.append(tuple(cells))
    return Table("languages", "Texts per language and state", tuple(header), tuple(lines))


def overview_html(table: Table, rtl: set[str], can_mark: bool) -> str:
    head = "".join(f'<th scope="col">{html.escape(cell)}</th>' for cell in table.header[:1])
    head += "".join(f'<th scope="col">{html.escape(cell)}</th>' for cell in table.header[2:])
    body = []
    for name, code, *counts in table.rows:
        direction = "rtl" if code in rtl else "ltr"
        cells = [
            f'<th scope="row"><bdi lang="{_tag(code)}" dir="{direction}">'
            f"{html.escape(name)}</bdi> ({html.escape(code)})</th>"
        ]
        for index, count in enumerate(counts):
            domain, state = DOMAINS[index // len(STATES)], STATES[index % len(STATES)]
            href = html.escape(_list_href(code, domain, state))
            cells.append(f'<td><a href="{href}">{html.escape(count)}</a></td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    marking = (
        "Each list has a button to mark a draft reviewed."
        if can_mark
        else "The catalogs are read-only here: each list says how to mark a draft reviewed "
        "in its catalog."
    )
    return (
        "<h1>Translation work</h1>"
        '<p class="note">Counted from the catalogs in <code>locales/</code> as they are now. '
        "A text added to the code or the lessons since the last <code>make translations</code> "
        "is in no catalog yet; <code>coach curriculum status</code> counts against the code. "
        f"Missing includes translations that are unusable (see <code>coach curriculum "
        f"check</code>). {marking}</p>"
        f'<table id="languages"><caption>{html.escape(table.caption)} '
        '<a class="csv" href="/trainer/translations/languages.csv" download>CSV</a></caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>" + RESTART
    )


def _list_href(code: str, domain: str, shown: str, **more: str) -> str:
    query = urlencode({"domain": domain, "show": shown, **more})
    return f"/trainer/translations/{quote(code)}?{query}"


def _tag(code: str) -> str:
    """A BCP 47 tag for ``lang``: ``fa-AF`` for the catalogs' ``fa_AF``."""
    return code.replace("_", "-")


def _text(value: str) -> str:
    return html.escape(value).replace("\n", "<br>\n")


def context_cells(domain: str, entry: Entry) -> tuple[str, ...]:
    """A lesson text's lesson, step and field; an interface text's context, if it has one."""
    context = entry.context or ""
    if domain == "messages":
        return (context,)
    parts = context.split("/")
    if len(parts) == 2:
        parts.insert(1, "")
    return tuple(parts) if len(parts) == 3 else (context, "", "")


def entries_table(domain: str, entries: list[Entry], examples: tuple[str, ...]) -> Table:
    """The texts as CSV: one column per plural form where the catalog has plural texts."""
    forms = len(examples) if any(len(entry.sources) > 1 for entry in entries) else 0
    header: tuple[str, ...] = ("context",) if domain == "messages" else LESSON_PARTS
    header += ("state", "English", "English plural", "translation")
    header += tuple(f"translation, plural form {i} (n = {examples[i]})" for i in range(1, forms))
    header += ("notes", "line")
    rows = []
    for entry in entries:
        translations = list(entry.translations) + [""] * max(0, forms - len(entry.translations))
        rows.append(
            (
                *context_cells(domain, entry),
                entry.state,
                entry.sources[0],
                entry.sources[1] if len(entry.sources) > 1 else "",
                *translations[: max(forms, 1)],
                " ".join(entry.notes),
                str(entry.line or ""),
            )
        )
    return Table("texts", "Texts", header, tuple(rows))


def html_page_of(
    *,
    code: str,
    name: str,
    rtl: bool,
    domain: str,
    shown: str,
    found: Catalogue,
    rows: list[Entry],
    total: int,
    number: int,
    note: str,
    can_mark: bool,
) -> str:
    """One page of a language's list: the filters, the table of texts and the pages."""
    counts = found.counts()
    filters = " ".join(
        _filter_link(code, domain, state, shown, counts[state] if state != "all" else None)
        for state in (*STATES, "all")
    )
    other = next(d for d in DOMAINS if d != domain)
    context = ("context",) if domain == "messages" else LESSON_PARTS
    head = "".join(
        f'<th scope="col">{cell}</th>'
        for cell in (*context, "English", html.escape(name), "state", "")
    )
    first = (number - 1) * PAGE_SIZE
    shown_range = f"Texts {first + 1}–{first + len(rows)} of {total}" if rows else f"{total} texts"
    body = [
        entry_row(
            entry, domain, code, rtl, found.plural_examples, (shown, number) if can_mark else None
        )
        for entry in rows
    ]
    if not rows:
        body.append(f'<tr><td colspan="{len(context) + 4}">No text here.</td></tr>')
    csv_href = html.escape(
        f"/trainer/translations/{quote(code)}/texts.csv?"
        + urlencode({"domain": domain, "show": shown})
    )
    return (
        '<p><a href="/trainer/translations">← All languages</a></p>'
        f'<h1><bdi lang="{_tag(code)}" dir="{"rtl" if rtl else "ltr"}">{html.escape(name)}</bdi>: '
        f"{DOMAIN_NAMES[domain]}</h1>"
        f'<p><a href="{html.escape(_list_href(code, other, shown))}">'
        f"Show the {DOMAIN_NAMES[other]} instead</a></p>"
        f'<nav aria-label="Which texts">{filters}</nav>{note}'
        f'<table id="texts"><caption>{shown_range} '
        f'<a class="csv" href="{csv_href}" download>CSV, all {total}</a></caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        + pages(code, domain, shown, number, total)
        + RESTART
    )


def _filter_link(code: str, domain: str, state: str, shown: str, count: int | None) -> str:
    label = state if count is None else f"{state} ({count})"
    current = ' aria-current="page"' if state == shown else ""
    return f'<a href="{html.escape(_list_href(code, domain, state))}"{current}>{label}</a>'


def pages(code: str, domain: str, shown: str, number: int, total: int) -> str:
    last = max(1, -(-total // PAGE_SIZE))
    if last == 1:
        return ""
    links = []
    if number > 1:
        href = _list_href(code, domain, shown, page=str(min(number, last) - 1))
        links.append(f'<a href="{html.escape(href)}" rel="prev">← Previous</a>')
    links.append(f"Page {number} of {last}")
    if number < last:
        href = _list_href(code, domain, shown, page=str(number + 1))
        links.append(f'<a href="{html.escape(href)}" rel="next">Next →</a>')
    return f'<nav aria-label="Pages">{" ".join(links)}</nav>'


def entry_row(
    entry: Entry,
    domain: str,
    code: str,
    rtl: bool,
    examples: tuple[str, ...],
    mark_from: tuple[str, int] | None,
) -> str:
    """One text: where it is, the English, the translation in its direction, its state."""
    cells = "".join(f"<td>{html.escape(cell)}</td>" for cell in context_cells(domain, entry))
    english = _text(entry.sources[0])
    if len(entry.sources) > 1:
        english = f"<p>{english}</p><p>{_text(entry.sources[1])}</p>"
    notes = f'<p class="note">{_text(" ".join(entry.notes))}</p>' if entry.notes else ""
    translated = _translation(entry, examples)
    state = html.escape(entry.state)
    if entry.previous:
        state += f'<p class="note">was made for: {_text(entry.previous)}</p>'
    if entry.line:
        state += f'<p class="note">line {entry.line}</p>'
    action = ""
    if mark_from is not None and entry.state == UNREVIEWED:
        action = (
            f'<form method="post" action="/trainer/translations/{quote(code)}/reviewed">'
            f'<input type="hidden" name="domain" value="{html.escape(domain)}">'
            f'<input type="hidden" name="key" value="{entry.key}">'
            f'<input type="hidden" name="seen" value="{entry.seen}">'
            f'<input type="hidden" name="show" value="{html.escape(mark_from[0])}">'
            f'<input type="hidden" name="page" value="{mark_from[1]}">'
            "<button>Mark reviewed</button></form>"
        )
    direction = "rtl" if rtl else "ltr"
    return (
        f'<tr id="t-{entry.key}">{cells}<td lang="en" dir="ltr">{english}{notes}</td>'
        f'<td lang="{_tag(code)}" dir="{direction}">{translated}</td>'
        f"<td>{state}</td><td>{action}</td></tr>"
    )


def _translation(entry: Entry, examples: tuple[str, ...]) -> str:
    """The translation; a plural text's forms each under the counts that use it."""
    if len(entry.sources) == 1:
        return _text(entry.translations[0]) if entry.translations[0] else "—"
    forms = []
    for index, text in enumerate(entry.translations):
        counts = examples[index] if index < len(examples) else "any"
        forms.append(
            f'<p><bdi class="note" lang="en" dir="ltr">n = {html.escape(counts)}:</bdi> '
            f"{_text(text) if text else '—'}</p>"
        )
    return "".join(forms)


def status_note(entry: Entry | None) -> str:
    if entry is None:
        return ""
    source = entry.sources[0] if len(entry.sources[0]) <= 80 else entry.sources[0][:79] + "…"
    return f'<p role="status">Marked reviewed: “{_text(source)}”.</p>'


def read_only_note(path: Path) -> str:
    """How to mark a text reviewed in the catalog when this page cannot write it."""
    return (
        '<div role="note"><p><strong>The catalogs are read-only here</strong> (in production '
        "<code>locales/</code> is mounted read-only), so this page cannot mark a text reviewed. "
        f"Do it in the catalog instead: open <code>{html.escape(str(path))}</code> in a text "
        "editor and go to the text's line (shown under its state: the line of its "
        "<code>msgid</code>). In the <code>#, …</code> line a little above it, delete "
        "<code>unreviewed</code> with its comma, or the whole line when it says only "
        "<code>#, unreviewed</code>. Commit the change; "
        "the next deployment brings it here. See “Translating” in "
        "<code>curriculum/README.md</code> for Poedit and Weblate.</p></div>"
    )
