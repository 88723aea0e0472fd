"""What every trainer page of figures shares: the frame, the filters, tables and their CSV.

A table is shown on its page and downloaded as CSV from ``<page>/<table name>.csv`` with
the same filters, so the file holds exactly what the page shows (small cells included).
The words are English for now.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from aiohttp import web

from bot.services.figures import Filters

HEAD = """<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — Coach</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/trainer.css">
<link rel="stylesheet" href="/static/trainer-figures.css">"""
NAV = """<nav><a href="/trainer">Lessons and previews</a>
<a href="/trainer/figures">Course figures</a>
<a href="/trainer/handoffs">Hand-off figures</a></nav>"""
SMALL_NOTE = (
    '<p class="note">Counts of 1 to 4 learners are shown as “&lt; 5”, and shares and times '
    "only where enough learners are behind them, so that no one can be picked out.</p>"
)
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Table:
    name: str  # its file: <page>/<name>.csv
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    links: tuple[str, ...] = ()  # where each row's first cell leads, on the page only


def page(title: str, body: str) -> web.Response:
    text = f"{HEAD.format(title=html.escape(title))}{NAV}<main>{body}</main></html>"
    return web.Response(text=text, content_type="text/html")


async def trainer_filters(
    request: web.Request,
    signed_in: Callable[[web.Request], Awaitable[bool]],
    languages: Sequence[str],
) -> Filters:
    """A signed-in trainer's filters; anyone else is sent to the sign-in."""
    if not await signed_in(request):
        raise web.HTTPSeeOther("/trainer")
    return filters_of(request, languages)


def filters_of(request: web.Request, languages: Sequence[str]) -> Filters:
    """The filters in the query; anything unknown or malformed is simply not a filter."""
    query = request.query
    language = query.get("language", "")
    channel = query.get("channel", "")
    since, until = _day(query.get("since", "")), _day(query.get("until", ""))
    return Filters(
        language if language in languages else None,
        channel if SLUG.match(channel) else None,
        since,
        until + timedelta(days=1) if until is not None else None,  # the whole last day
    )


def _day(value: str) -> datetime | None:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def query_of(filters: Filters) -> str:
    """The filters as a query string, for links that keep them."""
    values = {
        "language": filters.language or "",
        "channel": filters.channel or "",
        "since": filters.since.date().isoformat() if filters.since else "",
        "until": (filters.until - timedelta(days=1)).date().isoformat() if filters.until else "",
    }
    kept = {name: value for name, value in values.items() if value}
    return "?" + urlencode(kept) if kept else ""


def filter_form(
    filters: Filters, languages: dict[str, str], channels: Sequence[str], rtl: set[str]
) -> str:
    """Language, channel and period, sent by GET so a filtered page can be bookmarked."""

    def options(chosen: str | None, values: dict[str, str], every: str) -> str:
        found = [f'<option value="">{every}</option>']
        for value, label in values.items():
            selected = " selected" if value == chosen else ""
            direction = ' dir="rtl"' if value in rtl else ""
            found.append(
                f'<option value="{html.escape(value)}"{selected}{direction}>'
                f"{html.escape(label)}</option>"
            )
        return "".join(found)

    since = filters.since.date().isoformat() if filters.since else ""
    until = (filters.until - timedelta(days=1)).date().isoformat() if filters.until else ""
    return (
        '<form method="get" class="filters">'
        f'<label>Language <select name="language">'
        f"{options(filters.language, languages, 'All languages')}</select></label>"
        f'<label>Channel <select name="channel">'
        f"{options(filters.channel, {c: c for c in channels}, 'All channels')}</select></label>"
        f'<label>From <input type="date" name="since" value="{since}"></label>'
        f'<label>To <input type="date" name="until" value="{until}"></label>'
        "<button>Show</button></form>"
    )


def table_html(table: Table, csv_href: str) -> str:
    head = "".join(f'<th scope="col">{html.escape(cell)}</th>' for cell in table.header)
    body = []
    for number, row in enumerate(table.rows):
        first, *rest = row
        cells = "".join(f"<td>{html.escape(cell)}</td>" for cell in rest)
        name = html.escape(first)
        if number < len(table.links):
            name = f'<a href="{html.escape(table.links[number])}">{name}</a>'
        body.append(f'<tr><th scope="row" dir="auto">{name}</th>{cells}</tr>')
    if not table.rows:
        body.append(f'<tr><td colspan="{len(table.header)}">Nothing yet.</td></tr>')
    return (
        f'<table id="{table.name}"><caption>{html.escape(table.caption)} '
        f'<a class="csv" href="{html.escape(csv_href)}" download>CSV</a></caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def csv_response(table: Table, file_name: str) -> web.Response:
    """The table as CSV; a cell that a spreadsheet would run as a formula is quoted."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.header)
    for row in table.rows:
        writer.writerow([f"'{cell}" if cell.startswith(FORMULA) else cell for cell in row])
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )


def minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"
