"""Quiz and practice steps read from a lesson file: each field checked, each problem named."""

from __future__ import annotations

from bot.course.answer_patterns import PatternError, compile_pattern
from bot.course.model import PracticeKind, PracticeStep, QuizStep
from bot.course.yaml_lines import Fields

NEEDS_TARGET = (PracticeKind.REPLY, PracticeKind.FORWARD)


def quiz_step(fields: Fields, step_id: str) -> QuizStep:
    question, right, wrong = fields.text("question"), fields.text("right"), fields.text("wrong")
    options = tuple(
        fields.as_text(item, line, "an option") for item, line in fields.lines("options")
    )
    answer, count = fields.get("answer"), len(options)
    if isinstance(fields.get("options"), list) and not 2 <= count <= 4:
        fields.problem("options", f"a quiz needs 2 to 4 options, not {count}")
    if "answer" not in fields:
        fields.problem(
            None, 'the quiz has no right answer; add "answer:" and the number of the right option'
        )
    elif not isinstance(answer, int) or isinstance(answer, bool):
        fields.problem("answer", '"answer" must be the number of the right option, like 2')
    elif 2 <= count <= 4 and not 1 <= answer <= count:
        fields.problem("answer", f'"answer" is {answer} but the options are numbered 1 to {count}')
    else:
        return QuizStep(step_id, question, options, answer - 1, right, wrong)
    return QuizStep(step_id, question, options, -1, right, wrong)


def practice_step(fields: Fields, step_id: str) -> PracticeStep:
    raw, prompt, hint = fields.text("expect"), fields.text("prompt"), fields.text("hint")
    success, pattern = fields.text("success"), fields.optional_text("pattern")
    target = fields.optional_text("target")
    known = raw in set(PracticeKind)
    expect = PracticeKind(raw) if known else PracticeKind.TEXT
    if raw and not known:
        fields.problem("expect", f'"expect" must be one of: {", ".join(PracticeKind)}; not "{raw}"')
    elif known and expect is PracticeKind.TEXT and "pattern" not in fields:
        fields.problem(None, 'a text practice needs a "pattern" that the answer must match')
    elif known and expect in NEEDS_TARGET and "target" not in fields:
        verb = "reply to" if expect is PracticeKind.REPLY else "forward"
        fields.problem("expect", f'a {expect} practice needs a "target": the message to {verb}')
    if known and "pattern" in fields and expect is not PracticeKind.TEXT:
        fields.problem("pattern", '"pattern" is only used when "expect" is text')
    if known and "target" in fields and expect not in NEEDS_TARGET:
        fields.problem("target", '"target" is only used when "expect" is reply or forward')
    try:
        compile_pattern(pattern or "")
    except PatternError as error:
        fields.problem("pattern", f'"pattern" is not a pattern the coach can run: {error}')
    return PracticeStep(step_id, prompt, expect, hint, success, pattern, target)
