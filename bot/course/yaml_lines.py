"""YAML that remembers the line of every key and item, read field by field into problems."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterator

import yaml
from yaml.nodes import MappingNode, SequenceNode

from bot.course.chat_text import chat_length
from bot.course.problems import Problem

_BOOL_TAG = "tag:yaml.org,2002:bool"
_OPENED = {"quoted scalar": "a quote", "flow sequence": "a [", "flow mapping": "a {"}
CHAT_LIMIT = 4096  # Telegram's limit for the text of one message


class LineDict(dict[str, object]):
    """A YAML mapping that knows its own line and the line of each key."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}

    def line_of(self, key: str | None) -> int:
        return self.line if key is None else self.key_lines.get(key, self.line)


class LineList(list[object]):
    """A YAML sequence that knows its own line and the line of each item."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


class _LineLoader(yaml.SafeLoader):
    """Builds LineDict and LineList; only true/false are booleans, so `Yes` stays text."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[tuple[int, str]] = []


def _construct_mapping(loader: _LineLoader, node: MappingNode) -> Iterator[LineDict]:
    data = LineDict(node.start_mark.line + 1)
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = str(loader.construct_object(key_node, deep=True))
        line = key_node.start_mark.line + 1
        if key in data:
            loader.duplicate_keys.append((line, key))
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = line


def _construct_sequence(loader: _LineLoader, node: SequenceNode) -> Iterator[LineList]:
    data = LineList(node.start_mark.line + 1)
    yield data
    for item in node.value:
        data.append(loader.construct_object(item, deep=True))
        data.item_lines.append(item.start_mark.line + 1)


_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def parse_yaml(text: str, file: str) -> tuple[object, list[Problem]]:
    """Parse one YAML document; syntax errors and repeated keys come back as problems."""
    loader = _LineLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as error:
        return None, [_syntax_problem(error, file)]
    finally:
        loader.dispose()
    repeated = [
        Problem(file, line, f'"{key}" appears twice here; keep only one')
        for line, key in loader.duplicate_keys
    ]
    return data, repeated


def _syntax_problem(error: yaml.YAMLError, file: str) -> Problem:
    if not isinstance(error, yaml.MarkedYAMLError):
        return Problem(file, 1, f"YAML syntax error: {error}")
    what = error.problem or "unreadable YAML"
    mark = error.problem_mark or error.context_mark
    if ("end of stream" in what or "<stream end>" in what) and error.context_mark:
        # An unclosed quote or bracket: point at where it opened, not at the end of the file.
        opened = (error.context or "").split(" a ")[-1]
        mark, what = error.context_mark, f"{_OPENED.get(opened, opened)} is never closed"
    message = f"YAML syntax error: {what}"
    if "mapping values are not allowed" in what:
        message += ' (check the indentation; a text that contains ": " must be in quotes)'
    elif "'\\t'" in what:
        message += " (indent with spaces, not tabs)"
    return Problem(file, mark.line + 1 if mark else 1, message)


class Fields:
    """Typed reading of one mapping's fields; a mistake becomes a Problem and an empty value."""

    def __init__(self, data: LineDict, file: str, what: str, problems: list[Problem]) -> None:
        self.data = data
        self.file = file
        self.what = what
        self.problems = problems

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str) -> object:
        return self.data.get(key)

    def problem(self, key: str | None, message: str) -> None:
        self.problem_at(self.data.line_of(key), message)

    def problem_at(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, f"{self.what}: {message}"))

    def check_known(self, allowed: Collection[str]) -> None:
        for key in self.data:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f'did you mean "{close[0]}"?' if close else f"use {', '.join(allowed)}"
                self.problem(key, f'unknown field "{key}"; {hint}')

    def text(self, key: str, limit: int = CHAT_LIMIT) -> str:
        if key not in self.data:
            self.problem(None, f'"{key}" is missing')
            return ""
        return self.as_text(self.data[key], self.data.line_of(key), f'"{key}"', limit)

    def optional_text(self, key: str, limit: int = CHAT_LIMIT) -> str | None:
        return self.text(key, limit) if key in self.data else None

    def as_text(self, value: object, line: int, label: str, limit: int = CHAT_LIMIT) -> str:
        text = value.strip() if isinstance(value, str) else ""
        if value is None or (isinstance(value, str) and not text):
            self.problem_at(line, f"{label} is empty")
        elif not isinstance(value, str):
            hint = "" if isinstance(value, list | dict) else "; put it in quotes"
            self.problem_at(line, f"{label} must be text{hint}")
        elif chat_length(text) > limit:
            size = chat_length(text)
            self.problem_at(line, f"{label} is too long for one chat message: {size} > {limit}")
            return ""
        return text

    def slug(self, key: str, pattern: re.Pattern[str]) -> str:
        if key not in self.data:
            self.problem(None, f'"{key}" is missing')
            return ""
        return self.as_slug(self.data[key], self.data.line_of(key), f'"{key}"', pattern)

    def as_slug(self, value: object, line: int, label: str, pattern: re.Pattern[str]) -> str:
        text = self.as_text(value, line, label)
        if text and not pattern.match(text):
            self.problem_at(
                line,
                f'{label} must use only lowercase letters, digits and dashes, like "warmup-photo"; '
                f'not "{text}"',
            )
            return ""
        return text

    def integer(self, key: str, low: int, high: int) -> int:
        value = self.data.get(key)
        if key not in self.data:
            self.problem(None, f'"{key}" is missing')
        elif not isinstance(value, int) or isinstance(value, bool):
            self.problem(key, f'"{key}" must be a whole number from {low} to {high}')
        elif not low <= value <= high:
            self.problem(key, f'"{key}" must be from {low} to {high}, not {value}')
        else:
            return value
        return 0

    def items(self, key: str) -> LineList:
        value = self.data.get(key)
        if key not in self.data:
            self.problem(None, f'"{key}" is missing')
        elif not isinstance(value, LineList):
            self.problem(key, f'"{key}" must be a list (lines starting with "- ")')
        elif not value:
            self.problem(key, f'"{key}" is empty')
        else:
            return value
        return LineList(self.data.line_of(key))

    def lines(self, key: str) -> list[tuple[object, int]]:
        items = self.items(key)
        return list(zip(items, items.item_lines, strict=True))
