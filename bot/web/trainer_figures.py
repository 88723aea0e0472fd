"""Course figures for signed-in trainers: every lesson, then one lesson step by step.

``/trainer/figures`` lists the lessons (started, finished, time taken against the minutes
they declare) and the reminders; ``/trainer/lessons/<id>`` draws the lesson's funnel and
its questions and tasks. Every table is also ``<page>/<table>.csv``; the funnel is
``/trainer/lessons/<id>/funnel.csv``. Filters (language, channel, period) are in the query.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import replace
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select

from bot.course.holder import CourseHolder
from bot.course.model import Lesson
from bot.i18n import Catalogs
from bot.services.figures import (
    Filters,
    LessonFigures,
    ReminderFigures,
    course_figures,
    one_lesson,
    shown,
    shown_rate,
)
from bot.store.tables import Learner
from bot.store.unit_of_work import Store
from bot.web.trainer_charts import funnel_svg
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

SignedIn = Callable[[web.Request], Awaitable[bool]]


class TrainerFigures:
    def __init__(
        self, store: Store, courses: CourseHolder, catalogs: Catalogs, signed_in: SignedIn
    ) -> None:
        self.store = store
        self.courses = courses
        self.catalogs = catalogs
        self.signed_in = signed_in

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/trainer/figures", self.course_page),
            web.get("/trainer/figures/{table}.csv", self.course_csv),
            web.get("/trainer/lessons/{lesson}", self.lesson_page),
            web.get("/trainer/lessons/{lesson}/{table}.csv", self.lesson_csv),
        ]

    async def _filters(self, request: web.Request) -> Filters:
        return await trainer_filters(request, self.signed_in, list(self.catalogs.languages))

    async def form(self, filters: Filters) -> str:
        async with self.store.unit_of_work() as uow:
            channels = sorted(await uow.session.scalars(select(Learner.channel).distinct()))
        rtl = {code for code in self.catalogs.languages if self.catalogs.is_rtl(code)}
        return filter_form(filters, self.catalogs.names(), channels, rtl) + SMALL_NOTE

    async def course_tables(self, filters: Filters) -> dict[str, Table]:
        lessons, reminders = await course_figures(self.store, self.courses.course, filters)
        return {"lessons": lessons_table(lessons), "reminders": reminders_table(reminders)}

    async def course_page(self, request: web.Request) -> web.Response:
        """Every lesson's summary, each linked to its own page, and the reminders."""
        filters = await self._filters(request)
        tables = await self.course_tables(filters)
        query = query_of(filters)
        lessons = tables["lessons"]
        links = tuple(f"/trainer/lessons/{quote(row[0])}{query}" for row in lessons.rows)
        tables["lessons"] = replace(lessons, links=links)
        body = (
            "<h1>Course figures</h1>"
            + await self.form(filters)
            + '<p class="note">Each lesson leads to its funnel, questions and tasks.</p>'
            + "".join(
                table_html(table, f"/trainer/figures/{name}.csv{query}")
                for name, table in tables.items()
            )
        )
        return page("Course figures", body)

    async def course_csv(self, request: web.Request) -> web.Response:
        filters = await self._filters(request)
        name = request.match_info["table"]
        table = (await self.course_tables(filters)).get(name)
        if table is None:
            raise web.HTTPNotFound()
        return csv_response(table, f"{name}.csv")

    def _lesson(self, request: web.Request) -> Lesson:
        lesson = self.courses.course.lesson(request.match_info["lesson"])
        if lesson is None:
            raise web.HTTPNotFound(text="There is no such lesson in the course.")
        return lesson

    async def lesson_page(self, request: web.Request) -> web.Response:
        """The funnel, then the questions and the practice tasks of one lesson."""
        filters = await self._filters(request)
        lesson = self._lesson(request)
        figures = await one_lesson(self.store, lesson, filters)
        query = query_of(filters)
        base = f"/trainer/lessons/{quote(lesson.id)}"
        tables = "".join(
            table_html(table, f"{base}/{name}.csv{query}")
            for name, table in lesson_tables(figures).items()
        )
        summary = (
            f"<p>{shown(figures.started)} learners started, {shown(figures.finished)} "
            f"finished ({shown_rate(figures.finished, figures.started)}). Median time: "
            f"{minutes(figures.median_minutes)} min, declared: {figures.minutes} min.</p>"
        )
        title = f"Funnel of “{lesson.title}”: learners who reached each step"
        body = (
            f'<p><a href="/trainer/figures{html.escape(query)}">← All lessons</a></p>'
            f"<h1>{html.escape(lesson.title)}</h1>"
            + await self.form(filters)
            + summary
            + f"<figure>{funnel_svg(title, figures.steps)}"
            + f"<figcaption>{html.escape(title)}; the darker part stopped there.</figcaption>"
            + "</figure>"
            + tables
        )
        return page(lesson.title, body)

    async def lesson_csv(self, request: web.Request) -> web.Response:
        filters = await self._filters(request)
        lesson = self._lesson(request)
        name = request.match_info["table"]
        table = lesson_tables(await one_lesson(self.store, lesson, filters)).get(name)
        if table is None:
            raise web.HTTPNotFound()
        return csv_response(table, f"{lesson.id}-{name}.csv")


def lessons_table(lessons: list[LessonFigures]) -> Table:
    return Table(
        "lessons",
        "Lessons: learners who started in the period",
        ("lesson", "started", "finished", "finished %", "median minutes", "declared minutes"),
        tuple(
            (
                figures.lesson_id,
                shown(figures.started),
                shown(figures.finished),
                shown_rate(figures.finished, figures.started),
                minutes(figures.median_minutes),
                str(figures.minutes),
            )
            for figures in lessons
        ),
    )


def reminders_table(reminders: tuple[ReminderFigures, ...]) -> Table:
    return Table(
        "reminders",
        "Reminders sent in the period, and learners who came back within a day",
        ("kind", "reminders sent", "learners reminded", "came back within a day", "came back %"),
        tuple(
            (
                figures.kind,
                shown(figures.sent),
                shown(figures.learners),
                shown(figures.came_back),
                shown_rate(figures.came_back, figures.learners),
            )
            for figures in reminders
        ),
    )


def lesson_tables(figures: LessonFigures) -> dict[str, Table]:
    funnel = Table(
        "funnel",
        "Steps: learners who reached each step, and who stopped there",
        ("step", "reached", "stopped"),
        tuple((s.step_id, shown(s.reached), shown(s.stopped)) for s in figures.steps),
    )
    quizzes = Table(
        "quizzes",
        "Questions: answers at the first try",
        ("question", "answered", "wrong at first try", "wrong %", "text"),
        tuple(
            (q.step_id, shown(q.first_tries), shown(q.first_wrong),
             shown_rate(q.first_wrong, q.first_tries), q.question)
            for q in figures.quizzes
        ),
    )  # fmt: skip
    options = Table(
        "wrong-options",
        "Wrong options picked at the first try",
        ("question", "option", "learners"),
        tuple(
            (q.step_id, text, shown(count))
            for q in figures.quizzes
            for text, count in q.wrong_options
        ),
    )
    practice = Table(
        "practice",
        "Practice tasks: failed, retried and skipped",
        ("task", "tried", "failed at least once", "done after failing", "skipped", "failed %"),
        tuple(
            (p.step_id, shown(p.tried), shown(p.failed), shown(p.done_after_failing),
             shown(p.skipped), shown_rate(p.failed, p.tried))
            for p in figures.practice
        ),
    )  # fmt: skip
    unclear = Table(
        "unclear",
        "Found unclear: learners who tapped “🤔 Unclear” under a step, by language",
        ("step", "language", "learners"),
        tuple((u.step_id, u.language, shown(u.learners)) for u in figures.unclear),
    )
    return {t.name: t for t in (funnel, quizzes, options, practice, unclear)}
