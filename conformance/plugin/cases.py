"""Test-case files: loaded safely, checked against testcase.schema.json and against the catalog,
the profile and the role's step kinds, before anything runs. Every problem names the file, the
line and what is wrong."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from conformance.catalog import Catalog, load_catalog
from conformance.inputs import Document, InputError, Problem, check_schema, load_yaml
from conformance.plugin.matching import MATCHERS, TYPES
from conformance.plugin.substitute import placeholder_paths, placeholders, profile_names
from conformance.profiles import Profile, load_profile

# The step kinds of each role: a step either sends, or expects what the other side does.
CLIENT_STEPS = {
    ("start", None),
    ("send", "commands"),
    ("send", "answer"),
    ("expect", "request"),
    ("expect", "fetch"),
    ("expect", "upload"),
    ("expect", "browse"),
    ("expect", "end"),
}
SERVER_STEPS = {
    ("enqueue", None),
    ("send", "first"),
    ("send", "statuses"),
    ("expect", "response"),
    ("run", None),
}
ROLE_STEPS = {"client": CLIENT_STEPS, "server": SERVER_STEPS}

# Placeholders every case may use, by role; `ixit.*`, `profile.*`, `status.*`, parameters and
# saved values come on top.
BUILTINS = {
    "client": {"server_url", "content_url", "web_url"},
    "server": {"server_url", "content_url", "web_url", "device_id"},
}
OPEN_NAMESPACE = "ixit."  # facts of the DUT file, known only when a case runs


@dataclass(frozen=True)
class Step:
    """One step: its kind (`send`/`expect`/…), what it does, and the line it starts at."""

    index: int
    action: str
    what: str | None
    data: dict[str, Any]
    line: int | None

    @property
    def label(self) -> str:
        name = self.data.get("name")
        kind = f"{self.action} {self.what}" if self.what else self.action
        return f"step {self.index + 1} ({kind}{': ' + name if name else ''})"


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

    def ixit_needed(self) -> set[str]:
        """The ixit facts the case's placeholders use (missing ones make it not applicable)."""
        used = placeholders([s.data for s in self.steps]) | placeholders(self.content)
        return {name.removeprefix("ixit.") for name in used if name.startswith("ixit.")}

    def hooks_needed(self) -> set[str]:
        """The DUT commands the case runs (besides the session and start it always may)."""
        needed = set()
        for step in self.steps:
            if step.action == "start" and step.data["start"] != "session":
                needed.add(step.data["start"])
            if step.action == "enqueue":
                needed.add("enqueue")
        return needed

    def commands_used(self) -> set[str]:
        """Every command name the case sends or expects (for markers and -k)."""
        found = set()
        for step in self.steps:
            for key in ("commands", "contains", "enqueue"):
                for command in step.data.get(key) or ():
                    if isinstance(command, list) and command:
                        found.add(command[0])
        return found


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 24 else text[:21] + "…"


def _step(index: int, data: dict[str, Any], line: int | None) -> Step:
    for action in ("start", "send", "expect", "enqueue", "run"):
        if action in data:
            what = data[action] if action in ("send", "expect") else None
            return Step(index, action, what, data, line)
    raise ValueError("a step without an action")  # the schema makes this unreachable


def _case(document: Document, data: dict[str, Any], at: tuple[Any, ...]) -> Case:
    steps = tuple(
        _step(i, s, document.line_of((*at, "steps", i))) for i, s in enumerate(data["steps"])
    )
    return Case(
        id=data["id"],
        title=data["title"],
        role=data["role"],
        requirements=tuple(data["requirements"]),
        steps=steps,
        path=document.path,
        line=document.line_of((*at, "id")),
        description=data.get("description", ""),
        assumptions=tuple(data.get("assumptions", ())),
        requires=tuple(data.get("requires", ())),
        parametrize=dict(data.get("parametrize", {})),
        content=dict(data.get("content", {})),
        pages=dict(data.get("pages", {})),
    )


def _matchers_known(value: Any) -> list[str]:
    bad = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.startswith("$") and key not in MATCHERS:
                bad.append(key)
            if key == "$type" and item not in TYPES:
                bad.append(f"$type {item!r} (types: {', '.join(TYPES)})")
            bad += _matchers_known(item)
    elif isinstance(value, list):
        for item in value:
            bad += _matchers_known(item)
    return bad


def check_case(
    case: Case, document: Document, at: tuple[Any, ...], catalog: Catalog, profile: Profile
) -> list[Problem]:
    """What the schema cannot say: catalog IDs exist, assumptions and features are the
    profile's, steps fit the role, placeholders name something, matchers exist."""
    problems = []

    def problem(path: tuple[Any, ...], what: str) -> None:
        problems.append(document.problem((*at, *path), what))

    for index, requirement in enumerate(case.requirements):
        if requirement not in catalog:
            problem(("requirements", index), f"{requirement} is not in the requirement catalog")
    for index, assumption in enumerate(case.assumptions):
        if assumption not in profile.assumptions:
            problem(
                ("assumptions", index),
                f"{assumption} is not an assumption of profile {profile.name}",
            )
    for index, feature in enumerate(f.removeprefix("!") for f in case.requires):
        if feature not in profile.features:
            problem(
                ("requires", index),
                f"{feature!r} is not a feature of profile {profile.name} "
                f"({', '.join(profile.features)})",
            )
    known = set(BUILTINS[case.role]) | set(case.parametrize) | set(profile_names(profile))
    for step in case.steps:
        where = ("steps", step.index)
        if (step.action, step.what) not in ROLE_STEPS[case.role]:
            kinds = ", ".join(sorted(f"{a} {w}" if w else a for a, w in ROLE_STEPS[case.role]))
            problem(
                where,
                f"a {case.role}-role case cannot {step.action} {step.what or ''}".rstrip()
                + f" (it can: {kinds})",
            )
        for requirement in step.data.get("verifies", ()):
            if requirement not in catalog:
                problem((*where, "verifies"), f"{requirement} is not in the requirement catalog")
        for name, inner in placeholder_paths(step.data):
            if name not in known and not name.startswith(OPEN_NAMESPACE):
                problem(
                    (*where, *inner),
                    f"placeholder {{{name}}} is not defined before this step (known: "
                    f"{', '.join(sorted(n for n in known if '.' not in n))}, ixit.*, and the "
                    "profile's profile.* and status.* names)",
                )
        for bad in _matchers_known(step.data):
            problem(where, f"unknown matcher {bad} (matchers: {', '.join(sorted(MATCHERS))})")
        known |= set(step.data.get("save", {}))
    return problems


def load_case_file(
    path: Path, catalog: Catalog | None = None, profile: Profile | None = None
) -> list[Case]:
    """The cases of one file; InputError lists every problem with its line."""
    catalog = catalog or load_catalog()
    profile = profile or load_profile()
    document = load_yaml(path)
    problems = check_schema(document, "testcase")
    if problems:
        raise InputError(problems)
    entries = document.data if isinstance(document.data, list) else [document.data]
    prefix = () if isinstance(document.data, dict) else None
    cases = []
    for index, data in enumerate(entries):
        at = prefix if prefix is not None else (index,)
        case = _case(document, data, at)
        problems += check_case(case, document, at, catalog, profile)
        cases.append(case)
    if problems:
        raise InputError(problems)
    return cases


def packaged_cases_dir() -> Path:
    """The case folder shipped with the package."""
    with resources.as_file(resources.files("conformance.testcases")) as path:
        return Path(path)


def case_files(roots: Iterable[Path]) -> list[Path]:
    """Every *.yaml below the roots, sorted, once each."""
    seen: dict[Path, None] = {}
    for root in roots:
        for path in sorted(Path(root).rglob("*.yaml")) if Path(root).is_dir() else [Path(root)]:
            seen.setdefault(path.resolve(), None)
    return list(seen)


def load_all(
    roots: Iterable[Path], profile: Profile | None = None
) -> tuple[list[Case], list[Problem]]:
    """Every case below the roots, and every problem found (duplicate IDs included)."""
    cases: list[Case] = []
    problems: list[Problem] = []
    for path in case_files(roots):
        try:
            cases += load_case_file(path, profile=profile)
        except InputError as exc:
            problems += exc.problems
    first: dict[str, Case] = {}
    for case in cases:
        if case.id in first:
            other = first[case.id]
            problems.append(
                Problem(
                    str(case.path),
                    case.line,
                    "id",
                    f"{case.id} is also the id of a case at {other.path}:{other.line}",
                )
            )
        first.setdefault(case.id, case)
    return cases, problems
