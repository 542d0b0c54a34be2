"""Test-case files: loaded safely, checked against testcase.schema.json and then against what the
schema cannot know (the catalog, the profile, the step kinds of the role, the ixit facts, the
placeholders defined before use, the matchers), before anything runs. Every problem names the
file, the line and what is wrong. A case's role is its folder's (`client/`, `server/`) unless it
says otherwise."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from conformance.catalog import Catalog, load_catalog
from conformance.engine.matching import MATCHERS, TYPES
from conformance.engine.model import Branch, Case, Step
from conformance.engine.records import Origin
from conformance.engine.steps import CLIENT, SERVER, kind_of
from conformance.engine.substitute import placeholder_paths, profile_names
from conformance.inputs import Document, InputError, Problem, check_schema, load_yaml
from conformance.profiles import Profile, load_profile
from conformance.roles.reference_client import device_facts
from conformance.schemas import load_schema

# Placeholders every case of a role may use; `ixit.*`, `device.*` (server role), `profile.*`,
# `status.*`, parameters and saved values come on top.
BUILTINS = {
    CLIENT: {"server_url", "content_url", "web_url"},
    SERVER: {"server_url", "content_url", "web_url", "device_id"},
}
ROLES = (CLIENT, SERVER)


def ixit_facts() -> tuple[str, ...]:
    """The closed list of ixit facts a DUT file may give (the DUT schema's)."""
    return tuple(load_schema("dut")["properties"]["ixit"]["properties"])


def role_of(path: Path) -> str | None:
    """The role a file's folder gives its cases: the nearest folder named client or server."""
    for parent in path.resolve().parents:
        if parent.name in ROLES:
            return parent.name
    return None


def _step(
    document: Document, data: dict[str, Any], at: tuple[Any, ...], path: tuple[int, ...]
) -> Step:
    kind = kind_of(data)
    if kind is None:  # the schema makes this unreachable
        raise ValueError(f"a step of no known kind at {at}")
    branches: tuple[Branch, ...] = ()
    if kind.branches:
        branches = tuple(
            Branch(
                branch["name"],
                tuple(
                    _step(document, s, (*at, kind.trigger, b, "steps", i), (*path, b, i))
                    for i, s in enumerate(branch["steps"])
                ),
            )
            for b, branch in enumerate(data[kind.trigger])
        )
    return Step(path, kind, data, document.line_of(at), branches)


def _case(document: Document, data: dict[str, Any], at: tuple[Any, ...], origin: Origin) -> Case:
    steps = tuple(_step(document, s, (*at, "steps", i), (i,)) for i, s in enumerate(data["steps"]))
    return Case(
        id=data["id"],
        title=data["title"],
        role=data.get("role") or role_of(document.path) or "",
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
        origin=origin,
        overrides=bool(data.get("overrides", False)),
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


class _Checker:
    """The checks of one case that the schema cannot make."""

    def __init__(
        self,
        case: Case,
        document: Document,
        at: tuple[Any, ...],
        catalog: Catalog,
        profile: Profile,
        device: Iterable[str],
    ) -> None:
        self.case, self.document, self.at = case, document, at
        self.catalog, self.profile = catalog, profile
        self.problems: list[Problem] = []
        self.facts = ixit_facts()
        self.device = tuple(device)

    def problem(self, path: tuple[Any, ...], what: str) -> None:
        self.problems.append(self.document.problem((*self.at, *path), what))

    def basis(self, path: tuple[Any, ...], basis: str) -> None:
        """A basis a case or step verifies: a testable catalog sentence that binds the side
        under test, or an assumption or rule of the profile."""
        entry = self.catalog.get(basis)
        if entry is None:
            if self.profile.basis(basis) is None:
                self.problem(
                    path,
                    f"{basis} is neither in the requirement catalog nor an assumption or rule of "
                    f"profile {self.profile.name}",
                )
        elif not entry.testable:
            self.problem(path, f"{basis} is untestable: {entry.why_untestable}")
        elif self.case.role in ROLES and not entry.binds_role(self.case.role):
            self.problem(
                path,
                f"{basis} binds the {entry.binds}; a {self.case.role}-role case tests the "
                f"{self.case.role}",
            )

    def breakable(self, path: tuple[Any, ...], bases: tuple[str, ...]) -> None:
        """What a step checks must be something an implementation can break: a scope of MAY
        sentences alone would file a failure under a permission."""
        entries = [self.catalog.get(b) for b in bases]
        if bases and all(e is not None and e.permission for e in entries):
            self.problem(
                path,
                f"{', '.join(bases)} only allow (MAY): name what the step checks that an "
                'implementation can break (a MUST sentence, a "will" of the command table, an '
                "assumption)",
            )

    def run(self) -> list[Problem]:
        case, profile = self.case, self.profile
        if case.role not in ROLES:
            self.problem(
                ("id",),
                "no role: put the file in a folder named client/ or server/, or give the case "
                "`role: client` or `role: server`",
            )
            return self.problems
        for index, requirement in enumerate(case.requirements):
            self.basis(("requirements", index), requirement)
        self.breakable(("requirements",), case.requirements)
        for index, assumption in enumerate(case.assumptions):
            if profile.basis(assumption) is None:
                self.problem(
                    ("assumptions", index),
                    f"{assumption} is not an assumption or rule of profile {profile.name}",
                )
        for index, feature in enumerate(f.removeprefix("!") for f in case.requires):
            if feature not in profile.features:
                self.problem(
                    ("requires", index),
                    f"{feature!r} is not a feature of profile {profile.name} "
                    f"({', '.join(profile.features)})",
                )
        known = set(BUILTINS[case.role]) | set(profile_names(profile))
        self.names(("parametrize",), case.parametrize, known)
        known |= set(case.parametrize)
        self.names(("content",), case.content, known)
        self.names(("pages",), case.pages, known)
        self.steps(case.steps, ("steps",), known)
        return self.problems

    def names(self, where: tuple[Any, ...], value: Any, known: set[str]) -> None:
        for name, inner in placeholder_paths(value):
            if name in known:
                continue
            namespace, _, fact = name.partition(".")
            if namespace == "ixit" and fact in self.facts:
                continue
            if namespace == "device" and self.case.role == SERVER and fact in self.device:
                continue
            if namespace == "ixit":
                what = f"{{{name}}}: no such ixit fact (the facts: {', '.join(self.facts)})"
            elif namespace == "device":
                what = (
                    f"{{{name}}}: no such fact of the simulated device (server-role cases: "
                    f"{', '.join(self.device)})"
                )
            else:
                what = (
                    f"placeholder {{{name}}} is not defined before this step (known: "
                    f"{', '.join(sorted(n for n in known if '.' not in n))}, ixit.*, "
                    "profile.*, status.*" + (", device.*" if self.case.role == SERVER else "") + ")"
                )
            self.problem((*where, *inner), what)

    def steps(self, steps: tuple[Step, ...], where: tuple[Any, ...], known: set[str]) -> set[str]:
        """Check steps in order; return the names they save (for the steps after them)."""
        for step in steps:
            at = (*where, step.path[-1])
            if self.case.role not in step.kind.roles:
                self.problem(
                    at,
                    f"a {self.case.role}-role case cannot use `{step.kind.key}` (a step of "
                    f"{', '.join(step.kind.roles)}-role cases)",
                )
            for index, basis in enumerate(step.verifies):
                self.basis((*at, "verifies", index), basis)
            self.breakable((*at, "verifies"), step.verifies)
            own = {
                k: v for k, v in step.data.items() if k != step.kind.trigger or not step.branches
            }
            self.names(at, own, known)
            for bad in _matchers_known(step.data):
                self.problem(at, f"unknown matcher {bad} (matchers: {', '.join(sorted(MATCHERS))})")
            saved: set[str] = set(step.data.get("save") or {})
            for index, branch in enumerate(step.branches):
                inner = (*at, step.kind.trigger, index, "steps")
                saved |= self.steps(branch.steps, inner, known | saved)
            known |= saved
        return known


def _document_cases(
    document: Document, catalog: Catalog, profile: Profile, origin: Origin
) -> list[Case]:
    problems = check_schema(document, "testcase")
    if problems:
        raise InputError(problems)
    entries = document.data if isinstance(document.data, list) else [document.data]
    single = isinstance(document.data, dict)
    device = tuple(device_facts())
    cases = []
    for index, data in enumerate(entries):
        at: tuple[Any, ...] = () if single else (index,)
        case = _case(document, data, at, origin)
        problems += _Checker(case, document, at, catalog, profile, device).run()
        cases.append(case)
    if problems:
        raise InputError(problems)
    return cases


def load_case_file(
    path: Path,
    catalog: Catalog | None = None,
    profile: Profile | None = None,
    origin: Origin = Origin.OFFICIAL,
) -> list[Case]:
    """The cases of one file; InputError lists every problem with its line."""
    return _document_cases(
        load_yaml(path), catalog or load_catalog(), profile or load_profile(), origin
    )


def packaged_cases_dir() -> Path:
    """The case folder shipped with the package."""
    with resources.as_file(resources.files("conformance.testcases")) as path:
        return Path(path)


def case_files(roots: Iterable[Path]) -> list[Path]:
    """Every case file (*.yaml, not README-like `_…` files) below the roots, sorted, once each."""
    seen: dict[Path, None] = {}
    for root in roots:
        root = Path(root)
        found = sorted(root.rglob("*.yaml")) if root.is_dir() else [root]
        for path in found:
            if not path.name.startswith("_"):
                seen.setdefault(path.resolve(), None)
    return list(seen)


def load_all(
    roots: Iterable[Path], profile: Profile | None = None, vendor: Iterable[Path] = ()
) -> tuple[list[Case], list[Problem]]:
    """Every case below `roots` (official) and `vendor` (vendor cases), and every problem found.
    A case ID used twice is a problem, unless a vendor case says it `overrides` that ID."""
    catalog = load_catalog()
    profile = profile or load_profile()
    cases: list[Case] = []
    problems: list[Problem] = []
    official = case_files(roots)
    extra = [p for p in case_files(vendor) if p not in official]
    for path, origin in [(p, Origin.OFFICIAL) for p in official] + [
        (p, Origin.VENDOR) for p in extra
    ]:
        try:
            cases += _document_cases(load_yaml(path), catalog, profile, origin)
        except InputError as exc:
            problems += exc.problems
    return dedupe(cases, problems)


def dedupe(cases: list[Case], problems: list[Problem]) -> tuple[list[Case], list[Problem]]:
    """Cases with each ID once: a vendor case that `overrides` an ID replaces the official one;
    any other second use of an ID is a problem."""
    first: dict[str, Case] = {}
    for case in cases:
        if case.id not in first:
            first[case.id] = case
            continue
        other = first[case.id]
        if case.origin is Origin.VENDOR and case.overrides:
            first[case.id] = case
            continue
        problems.append(
            Problem(
                str(case.path),
                case.line,
                "id",
                f"{case.id} is also the id of a case at {other.path}:{other.line}"
                + (
                    " (a vendor case that replaces an official one says `overrides: true`)"
                    if case.origin is Origin.VENDOR
                    else ""
                ),
            )
        )
    return list(first.values()), problems
