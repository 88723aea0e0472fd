"""A step's ``on:`` block: the texts it says instead on some channels, checked like the rest."""

from __future__ import annotations

import difflib
from dataclasses import replace
from typing import Any

from bot.course.chat_text import CAPTION_LIMIT
from bot.course.model import MessageStep, Step
from bot.course.wording import CHANNELS, Wording
from bot.course.yaml_lines import CHAT_LIMIT, Fields, LineDict

# For each kind of step, the fields ``on:`` may change, and the step's attribute for each.
VARYING = {
    "message": {"text": "text"},
    "quiz": {"question": "question", "options": "options", "right": "right", "wrong": "wrong"},
    "practice": {"prompt": "prompt", "hint": "hint", "success": "success"},
    "checkpoint": {"text": "recap"},
}


def with_variants(fields: Fields, kind: str, step: Step) -> Step:
    """The step with its channel variants (``on: {web: {text: ...}}``), every problem named."""
    on = fields.get("on")
    if "on" not in fields:
        return step
    if not isinstance(on, LineDict) or not on:
        fields.problem("on", '"on" must hold channel names, like "web:", each with its texts')
        return step
    found: dict[str, dict[str, Any]] = {}
    for channel, texts in on.items():
        line = on.line_of(channel)
        if channel not in CHANNELS:
            close = difflib.get_close_matches(str(channel), CHANNELS, n=1, cutoff=0.6)
            hint = f'did you mean "{close[0]}"?' if close else f"use {', '.join(CHANNELS)}"
            fields.problem_at(line, f'unknown channel "{channel}" in "on"; {hint}')
        elif not isinstance(texts, LineDict) or not texts:
            fields.problem_at(line, f'"on: {channel}" must hold fields like "text: ..."')
        else:
            variant = Fields(texts, fields.file, f"{fields.what}, on {channel}", fields.problems)
            for attr, value in _texts(variant, kind, step).items():
                found.setdefault(attr, {})[channel] = value
    return replace(step, **{attr: _worded(step, attr, by) for attr, by in found.items()})


def _texts(variant: Fields, kind: str, step: Step) -> dict[str, Any]:
    """One channel's texts, by the step's attribute; options come as a tuple of the same length."""
    varying = VARYING[kind]
    variant.check_known(tuple(varying))
    texts: dict[str, Any] = {}
    for name, attr in varying.items():
        if name not in variant:
            continue
        if name != "options":
            captioned = isinstance(step, MessageStep) and step.media is not None
            limit = CAPTION_LIMIT if captioned else CHAT_LIMIT
            texts[attr] = variant.text(name, limit) or getattr(step, attr)
            continue
        options = tuple(
            variant.as_text(item, line, "an option") for item, line in variant.lines(name)
        )
        count = len(getattr(step, "options", ()))
        if len(options) != count:
            variant.problem(name, f'"options" must have as many options as the quiz: {count}')
        elif all(options):
            texts[attr] = options
    return texts


def _worded(step: Step, attr: str, by_channel: dict[str, Any]) -> Any:
    default = getattr(step, attr)
    if attr != "options":
        return Wording(default, by_channel)
    return tuple(
        Wording(option, {channel: options[i] for channel, options in by_channel.items()})
        for i, option in enumerate(default)
    )
