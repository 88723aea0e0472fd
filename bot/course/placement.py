"""The placement in course.yaml: a few "Can you already …?" questions, each checking a module.

The coach asks them at a newcomer's first contact, most basic first, and suggests the module
of the first one answered "no". Each question's text is translated like a module's title,
with the context ``placement:<module>/question``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass

from bot.course.yaml_lines import Fields, LineDict, LineList

FEWEST, MOST = 2, 4
QUESTION_LIMIT = 200  # one short line under which the answers are buttons


@dataclass(frozen=True)
class PlacementQuestion:
    """A yes/no question, "Can you already …?"; a "no" suggests starting with ``module_id``."""

    module_id: str
    question: str

    @property
    def context(self) -> str:
        return f"placement:{self.module_id}/question"


def read_placement(course: Fields, module_ids: Collection[str]) -> tuple[PlacementQuestion, ...]:
    """The manifest's optional ``placement`` list; each mistake becomes a problem with its line."""
    if "placement" not in course:
        return ()
    items = course.items("placement")
    if items and not FEWEST <= len(items) <= MOST:
        course.problem(
            "placement",
            f'"placement" must have {FEWEST} to {MOST} questions, not {len(items)}',
        )
    questions: list[PlacementQuestion] = []
    seen: dict[str, int] = {}
    for index, (item, line) in enumerate(zip(items, items.item_lines, strict=True), 1):
        if not isinstance(item, LineDict):
            course.problem_at(
                line,
                f'placement question {index} must hold fields like "module: ..." and '
                '"question: ..."',
            )
            continue
        fields = Fields(item, course.file, f"placement question {index}", course.problems)
        fields.check_known(("module", "question"))
        module_id = fields.text("module")
        question = fields.text("question", QUESTION_LIMIT)
        if module_id and module_id not in module_ids:
            known = ", ".join(module_ids)
            fields.problem("module", f'there is no module "{module_id}"; use one of: {known}')
        elif module_id in seen:
            first = seen[module_id]
            fields.problem("module", f'"{module_id}" is asked about twice (first on line {first})')
        elif module_id and question:
            seen[module_id] = item.line_of("module")
            questions.append(PlacementQuestion(module_id, question))
    return tuple(questions)


def placement_texts(manifest: LineDict) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """For the extractor: each question's line, its context and its text, for translators."""
    items = manifest.get("placement")
    comment = ['A yes/no question asked at first contact; a "no" suggests that module.']
    for item in items if isinstance(items, LineList) else []:
        question = item.get("question") if isinstance(item, LineDict) else None
        if isinstance(item, LineDict) and isinstance(question, str) and question.strip():
            context = PlacementQuestion(str(item.get("module")), "").context
            yield item.line_of("question"), "pgettext", (context, question.strip()), comment
