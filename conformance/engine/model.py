"""The case model: a case, its steps (a step of `one_of` or `any_order` holds branches of steps)
and the parameter sets it runs with. Plain values, made by the loader, read by the runners, the
plugin and the reports."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.engine.records import Origin
from conformance.engine.steps import StepKind


@dataclass(frozen=True)
class Branch:
    """One branch of a `one_of` or `any_order` step."""

    name: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Step:
    """One step: its kind, what it says, where it stands (index path and line)."""

    path: tuple[int, ...]  # (3,) for the fourth step; (3, 1, 0) inside branch 2 of step 4
    kind: StepKind
    data: dict[str, Any]
    line: int | None
    branches: tuple[Branch, ...] = ()

    @property
    def label(self) -> str:
        """`step 4 (expect request: name)`; inside a branch `step 4, branch 2, step 1 (…)`."""
        parts = [f"step {self.path[0] + 1}"]
        for branch, index in zip(self.path[1::2], self.path[2::2], strict=True):
            parts.append(f"branch {branch + 1}, step {index + 1}")
        name = self.data.get("name")
        return f"{', '.join(parts)} ({self.kind.key}{': ' + name if name else ''})"

    def walk(self) -> Iterator[Step]:
        """This step, then every step of its branches."""
        yield self
        for branch in self.branches:
            for step in branch.steps:
                yield from step.walk()

    @property
    def verifies(self) -> tuple[str, ...]:
        return tuple(self.data.get("verifies") or ())


@dataclass(frozen=True)
class Case:
    """One test case as written; `variants()` expands its parametrize table."""

    id: str
    title: str
    role: str
    requirements: tuple[str, ...]
    steps: tuple[Step, ...]
    path: Path
    line: int | None
    description: str = ""
    assumptions: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    parametrize: dict[str, list[Any]] = field(default_factory=dict)
    content: dict[str, Any] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)
    origin: Origin = Origin.OFFICIAL
    overrides: bool = False  # a vendor case that takes the place of the official one

    def all_steps(self) -> Iterator[Step]:
        """Every step, those inside branches included, in document order."""
        for step in self.steps:
            yield from step.walk()

    def variants(self) -> list[tuple[str, dict[str, Any]]]:
        """(ID suffix, parameter values) of each parametrized run; one unnamed run without.
        Suffixes are unique: a value shortened to the same text gets its position added."""
        if not self.parametrize:
            return [("", {})]
        names = list(self.parametrize)
        runs = []
        for values in itertools.product(*(self.parametrize[n] for n in names)):
            chosen = dict(zip(names, values, strict=True))
            runs.append(("-".join(f"{n}={_short(v)}" for n, v in chosen.items()), chosen))
        counts = Counter(suffix for suffix, _ in runs)
        return [
            (f"{suffix}-{index}" if counts[suffix] > 1 else suffix, chosen)
            for index, (suffix, chosen) in enumerate(runs)
        ]

    def run_names(self) -> list[str]:
        """The name of each run: the ID, with the parameters of its variant."""
        return [f"{self.id}[{s}]" if s else self.id for s, _ in self.variants()]

    def verified(self) -> tuple[str, ...]:
        """Every ID the case verifies: its requirements, then what its steps' `verifies` add."""
        found = dict.fromkeys(self.requirements)
        for step in self.all_steps():
            found.update(dict.fromkeys(step.verifies))
        return tuple(found)

    def hooks_needed(self) -> set[str]:
        """The DUT commands the case runs besides `session`."""
        needed: set[str] = set()
        for step in self.all_steps():
            needed.update(h for h in step.kind.hooks if h != "session")
            if step.kind.key == "start" and step.data["start"] != "session":
                needed.add(step.data["start"])
        return needed

    def commands_used(self) -> set[str]:
        """Every command name the case sends or expects (for markers and -k)."""
        found = set()
        for step in self.all_steps():
            for key in ("commands", "contains", "enqueue"):
                for command in step.data.get(key) or ():
                    if isinstance(command, list) and command:
                        found.add(command[0])
        return found


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 24 else text[:21] + "…"
