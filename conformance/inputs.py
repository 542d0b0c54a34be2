"""Reading the files a user hands the harness (cases, DUT files, profiles): YAML loaded safely,
every value's line remembered, schema errors reported as `file:line: where: what`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conformance.schemas import format_path, schema_errors

# libyaml's safe loader where PyYAML was built with it (several times faster), else PyYAML's own.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Problem:
    """One thing wrong with an input file, at a line a person can open."""

    file: str
    line: int | None
    where: str
    what: str

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else self.file
        return f"{place}: {self.where}: {self.what}"


class InputError(ValueError):
    """An input file is unusable; `problems` says every reason, each with its file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Document:
    """A loaded YAML file: its data and the line of every value in it, by JSON path."""

    path: Path
    data: Any
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def line_of(self, path: tuple[Any, ...]) -> int | None:
        """The line of the value at `path`, or of its nearest ancestor that has one."""
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    def problem(self, path: tuple[Any, ...], what: str) -> Problem:
        return Problem(str(self.path), self.line_of(path), format_path(path), what)


def _record_lines(
    node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int]
) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            _record_lines(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*path, index), lines)


def load_yaml(path: Path, text: str | None = None) -> Document:
    """Load one YAML document safely (no object construction); raise InputError with the line of a
    syntax error or a refused tag."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError([Problem(str(path), None, "(file)", f"cannot read: {exc}")]) from exc
    loader = SAFE_LOADER(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else None
        what = " ".join(
            str(x) for x in (getattr(exc, "context", None), getattr(exc, "problem", None)) if x
        )
        raise InputError(
            [Problem(str(path), line, "(YAML)", f"not valid YAML: {what or exc}")]
        ) from exc
    finally:
        loader.dispose()
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _record_lines(node, (), lines)
    return Document(path, data, lines)


def check_schema(document: Document, schema: str) -> list[Problem]:
    """Every way the document breaks the named schema, each at its line."""
    return [document.problem(where, what) for where, what in schema_errors(document.data, schema)]


def load_checked(path: Path, schema: str) -> Document:
    """Load a YAML file and validate it; raise InputError listing every problem."""
    document = load_yaml(path)
    problems = check_schema(document, schema)
    if problems:
        raise InputError(problems)
    return document
