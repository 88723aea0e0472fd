"""Hand-off figures for coordinators: requests per day, times to claim and to close,
outcomes and ratings, by language and place. Each table is also ``/trainer/handoffs/<name>.csv``.
"""

from __future__ import annotations

from aiohttp import web

from bot.i18n import Catalogs
from bot.services.figures import Filters, shown
from bot.services.handoff_figures import GroupFigures, handoff_figures, handoff_records
from bot.store.unit_of_work import Store
from bot.web.trainer_figures import SignedIn
from bot.web.trainer_tables import (
    SMALL_NOTE,
    Table,
    csv_response,
    filter_form,
    minutes,
    page,
    query_of,
    table_html,
    trainer_filters,
)

CHANNELS = ("telegram", "whatsapp", "matterbridge", "web")
TIMES = (
    "requests",
    "claimed",
    "median minutes to claim",
    "90th percentile to claim",
    "closed",
    "median minutes to close",
    "90th percentile to close",
)


class HandoffPages:
    def __init__(self, store: Store, catalogs: Catalogs, signed_in: SignedIn) -> None:
        self.store = store
        self.catalogs = catalogs
        self.signed_in = signed_in

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/trainer/handoffs", self.handoffs_page),
            web.get("/trainer/handoffs/{table}.csv", self.handoffs_csv),
        ]

    async def _filters(self, request: web.Request) -> Filters:
        return await trainer_filters(request, self.signed_in, list(self.catalogs.languages))

    async def tables(self, filters: Filters) -> dict[str, Table]:
        records = await handoff_records(
            self.store,
            language=filters.language,
            channel=filters.channel,
            since=filters.since,
            until=filters.until,
        )
        figures = handoff_figures(records)
        names = self.catalogs.names()
        return {
            "days": Table(
                "days",
                "Requests per day",
                ("day", "requests"),
                tuple((day, shown(count)) for day, count in figures.per_day),
            ),
            "times": Table(
                "times",
                "Times to claim and to close",
                ("group", *TIMES),
                (times_row(figures.overall, "all requests"),),
            ),
            "languages": Table(
                "languages",
                "By language",
                ("language", *TIMES),
                tuple(times_row(g, names.get(g.name, g.name)) for g in figures.by_language),
            ),
            "places": Table(
                "places",
                "By place",
                ("place", *TIMES),
                tuple(
                    times_row(g, "(no place)" if g.name == "-" else g.name)
                    for g in figures.by_place
                ),
            ),
            "outcomes": Table(
                "outcomes",
                "Outcomes of closed requests",
                ("outcome", "requests"),
                tuple((outcome, shown(count)) for outcome, count in figures.outcomes),
            ),
            "ratings": Table(
                "ratings",
                "Learners' ratings (stars)",
                ("stars", "ratings"),
                tuple((str(stars), shown(count)) for stars, count in figures.ratings),
            ),
        }

    async def handoffs_page(self, request: web.Request) -> web.Response:
        filters = await self._filters(request)
        query = query_of(filters)
        rtl = {code for code in self.catalogs.languages if self.catalogs.is_rtl(code)}
        body = (
            "<h1>Hand-off figures</h1>"
            + filter_form(filters, self.catalogs.names(), CHANNELS, rtl)
            + SMALL_NOTE
            + '<p class="note">Times run from the moment a request reached the volunteers; '
            + "those of fewer than 5 requests are not shown.</p>"
            + "".join(
                table_html(table, f"/trainer/handoffs/{name}.csv{query}")
                for name, table in (await self.tables(filters)).items()
            )
        )
        return page("Hand-off figures", body)

    async def handoffs_csv(self, request: web.Request) -> web.Response:
        filters = await self._filters(request)
        name = request.match_info["table"]
        table = (await self.tables(filters)).get(name)
        if table is None:
            raise web.HTTPNotFound()
        return csv_response(table, f"handoffs-{name}.csv")


def times_row(figures: GroupFigures, name: str | None = None) -> tuple[str, ...]:
    return (
        name or figures.name,
        shown(figures.requests),
        shown(figures.to_claim.count),
        minutes(figures.to_claim.median),
        minutes(figures.to_claim.p90),
        shown(figures.to_close.count),
        minutes(figures.to_close.median),
        minutes(figures.to_close.p90),
    )
