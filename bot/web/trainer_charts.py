"""Charts drawn on the server as SVG: no script, no outside library, readable without colour.

A bar for a small cell (1 to 4 learners) is drawn at the length of 5 and marked, so its
length tells no more than its "< 5" label.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot.services.figures import SMALL, StepFigures, shown

WIDTH, ROW, LABEL, GAP = 440, 30, 110, 4


def funnel_svg(title: str, steps: Sequence[StepFigures]) -> str:
    """One bar per step: how many learners reached it; the part who stopped there darker."""
    most = max([SMALL, *(step.reached for step in steps)])
    room = WIDTH - LABEL - 125
    bars = []
    for index, step in enumerate(steps):
        y = index * ROW
        reached = _length(step.reached, most, room)
        stopped = min(_length(step.stopped, most, room), reached)
        small = " small" if 0 < step.reached < SMALL else ""
        label = f"{shown(step.reached)} reached, {shown(step.stopped)} stopped"
        bars.append(
            f'<g class="step{small}"><title>{html.escape(step.step_id)}: {label}</title>'
            f'<text x="{LABEL - 8}" y="{y + 19}" text-anchor="end">'
            f"{html.escape(_short(step.step_id))}</text>"
            f'<rect class="reached" x="{LABEL}" y="{y + GAP}" width="{reached}" '
            f'height="{ROW - 2 * GAP}"/>'
            f'<rect class="stopped" x="{LABEL + reached - stopped}" y="{y + GAP}" '
            f'width="{stopped}" height="{ROW - 2 * GAP}"/>'
            f'<text x="{LABEL + reached + 6}" y="{y + 19}">{shown(step.reached)}'
            f"{' · ' + shown(step.stopped) + ' stopped' if step.stopped else ''}</text></g>"
        )
    height = max(ROW, ROW * len(steps))
    return (
        f'<svg class="funnel" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" aria-labelledby="funnel-title">'
        f'<title id="funnel-title">{html.escape(title)}</title>{"".join(bars)}</svg>'
    )


def _length(count: int, most: int, room: int) -> int:
    if count <= 0:
        return 0
    return max(2, round(room * max(count, SMALL) / most))


def _short(step_id: str) -> str:
    return step_id if len(step_id) <= 14 else step_id[:13] + "…"
