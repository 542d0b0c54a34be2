"""The requirement catalog: every normative sentence of the draft seeds, with a stable ID.

`load_catalog()` reads `requirements.yaml` (packaged beside this module, or any file given),
validates it against `schemas/catalog.schema.json` and returns a `Catalog` of `Requirement`s
that test cases and reports look up by ID.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from conformance.inputs import InputError, Problem, check_schema, load_yaml

__all__ = ["Catalog", "CatalogError", "Requirement", "load_catalog"]


class CatalogError(ValueError):
    """A requirement catalog that cannot be read, or that breaks its schema or its own rules."""


PERMISSION = "MAY"  # the level of a sentence that allows, and so cannot be broken


@dataclass(frozen=True)
class Requirement:
    """One normative sentence of a seed, quoted exactly."""

    id: str
    section: str
    seed: str
    level: str
    binds: str
    text: str
    detail: str | None
    command: str | None
    assumptions: tuple[str, ...]
    testable: bool
    why_untestable: str | None

    @property
    def binds_client(self) -> bool:
        """True when the sentence binds the DM Client (alone or with the server)."""
        return self.binds in ("client", "both")

    @property
    def binds_server(self) -> bool:
        """True when the sentence binds the DM Server (alone or with the client)."""
        return self.binds in ("server", "both")

    def binds_role(self, role: str) -> bool:
        """True when the sentence binds the side that plays `role` (client or server)."""
        return self.binds in (role, "both")

    @property
    def permission(self) -> bool:
        """True for a MAY sentence: a case exercises it, nothing can break it."""
        return self.level == PERMISSION


class Catalog:
    """The requirements of one catalog file, looked up by ID and iterated in file order."""

    def __init__(
        self, name: str, seeds: dict[str, str], requirements: Iterable[Requirement], source: str
    ) -> None:
        self.name = name
        self.seeds = dict(seeds)
        self.source = source
        self._by_id: dict[str, Requirement] = {}
        for requirement in requirements:
            if requirement.id in self._by_id:
                raise CatalogError(f"{source}: requirement {requirement.id}: duplicate id")
            self._by_id[requirement.id] = requirement

    def __getitem__(self, requirement_id: str) -> Requirement:
        try:
            return self._by_id[requirement_id]
        except KeyError:
            raise KeyError(f"no requirement {requirement_id!r} in {self.source}") from None

    def __iter__(self) -> Iterator[Requirement]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self._by_id

    def __repr__(self) -> str:
        return f"Catalog({self.name!r}, {len(self)} requirements from {self.source})"

    def get(self, requirement_id: str, default: Requirement | None = None) -> Requirement | None:
        """The requirement `requirement_id`, or `default` when there is none."""
        return self._by_id.get(requirement_id, default)

    def by_section(self) -> dict[str, list[Requirement]]:
        """The requirements grouped by section, sections and entries in file order."""
        sections: dict[str, list[Requirement]] = {}
        for requirement in self:
            sections.setdefault(requirement.section, []).append(requirement)
        return sections


def load_catalog(path: Path | None = None) -> Catalog:
    """Load and validate the catalog at `path` (default: the packaged requirements.yaml)."""
    if path is None:
        return _default_catalog()
    return _parse(Path(path))


@functools.cache
def _default_catalog() -> Catalog:
    with resources.as_file(resources.files(__package__) / "requirements.yaml") as path:
        return _parse(path)


def _parse(path: Path) -> Catalog:
    source = str(path)
    try:
        document = load_yaml(path)
    except InputError as exc:
        raise CatalogError(str(exc)) from exc
    problems = check_schema(document, "catalog")
    if problems:
        raise CatalogError("\n".join(_describe(p, document.data) for p in problems))
    data = document.data
    requirements = [_requirement(entry) for entry in data["requirements"]]
    for requirement in requirements:
        _check(requirement, data["seeds"], source)
    return Catalog(data["catalog"], data["seeds"], requirements, source)


def _describe(problem: Problem, data: Any) -> str:
    """The problem, naming the requirement it is in when that has an id."""
    match = re.match(r"requirements\[(\d+)\]", problem.where)
    if match:
        entry = data["requirements"][int(match.group(1))]
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            return f"{problem} (requirement {entry['id']})"
    return str(problem)


def _requirement(entry: dict[str, Any]) -> Requirement:
    return Requirement(
        id=entry["id"],
        section=entry["section"],
        seed=entry["seed"],
        level=entry["level"],
        binds=entry["binds"],
        text=entry["text"],
        detail=entry.get("detail"),
        command=entry.get("command"),
        assumptions=tuple(entry.get("assumptions", ())),
        testable=entry["testable"],
        why_untestable=entry.get("why_untestable"),
    )


def _check(requirement: Requirement, seeds: dict[str, str], source: str) -> None:
    """The rules the schema cannot express: the id names the section, the seed is listed."""
    id_section = requirement.id.split("-")[1]
    if id_section != requirement.section:
        raise CatalogError(
            f"{source}: requirement {requirement.id}: id names section {id_section} "
            f"but section is {requirement.section}"
        )
    if requirement.seed not in seeds:
        raise CatalogError(
            f"{source}: requirement {requirement.id}: seed {requirement.seed} is not listed "
            "under seeds"
        )
