"""The draft's own defects as data: `conformance/catalog/defects.yaml` (schema
`schemas/defects.schema.json`) lists every contradiction of the seeds, every ambiguity or
silence an assumption decides, every typo and every deferred item, each with the exact seed text
it is about, the catalog requirements and the profile's assumptions it concerns.

`load_defects()` validates the file and checks what the schema cannot: each quote is in its seed
(whitespace aside), each requirement is in the catalog, each assumption or rule in the profile.
`dependent_cases` says which cases rest on an ID (they name it, verify it, or verify a sentence
the catalog rests on it); `markdown` writes the list as a change request's text."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from conformance.catalog import Catalog, load_catalog
from conformance.editor.seed import Place, Seed, find, load_seeds, seed_named
from conformance.engine.model import Case
from conformance.inputs import InputError, check_schema, load_yaml
from conformance.profiles import Profile, load_profile

__all__ = [
    "KINDS",
    "PLURAL",
    "Defect",
    "DefectError",
    "Quote",
    "counts",
    "dependent_cases",
    "load_defects",
    "markdown",
    "place_of",
    "section_of",
]

KINDS = ("contradiction", "ambiguity", "typo", "deferred")
PLURAL = {
    "contradiction": "contradictions",
    "ambiguity": "ambiguities",
    "typo": "typos",
    "deferred": "deferred items",
}


class DefectError(ValueError):
    """A defect list that cannot be read, breaks its schema, or quotes what is not there."""


@dataclass(frozen=True)
class Quote:
    seed: str
    text: str


@dataclass(frozen=True)
class Defect:
    """One defect of the draft text."""

    id: str
    kind: str
    title: str
    quotes: tuple[Quote, ...]
    requirements: tuple[str, ...]
    assumptions: tuple[str, ...]
    note: str
    suggestion: str | None

    @property
    def ids(self) -> tuple[str, ...]:
        """The requirements and the assumptions it concerns."""
        return (*self.requirements, *self.assumptions)


def place_of(quote: Quote, seeds: Sequence[Seed] | None = None) -> Place | None:
    """Where a quote stands in its seed (None when it is not there)."""
    seeds = tuple(seeds or load_seeds())
    try:
        seed = seed_named(seeds, quote.seed)
    except KeyError:
        return None
    return find(seed, quote.text)


def section_of(quote: Quote, seeds: Sequence[Seed] | None = None) -> str:
    """The number of the section a quote stands in ("6.2"), or "" outside the chapters."""
    seeds = tuple(seeds or load_seeds())
    place = place_of(quote, seeds)
    if place is None:
        return ""
    return seed_named(seeds, quote.seed).blocks[place.block].section or ""


def load_defects(
    path: Path | None = None,
    *,
    catalog: Catalog | None = None,
    profile: Profile | None = None,
    seeds: Sequence[Seed] | None = None,
) -> tuple[Defect, ...]:
    """The defects of `path` (default: the packaged defects.yaml), checked."""
    if path is None and catalog is None and profile is None and seeds is None:
        return _default()
    return _load(path, catalog, profile, seeds)


@functools.cache
def _default() -> tuple[Defect, ...]:
    return _load(None, None, None, None)


def _load(
    path: Path | None,
    catalog: Catalog | None,
    profile: Profile | None,
    seeds: Sequence[Seed] | None,
) -> tuple[Defect, ...]:
    catalog = catalog or load_catalog()
    profile = profile or load_profile()
    seeds = tuple(seeds or load_seeds())
    if path is None:
        with resources.as_file(resources.files("conformance.catalog") / "defects.yaml") as file:
            return _parse(Path(file), catalog, profile, seeds)
    return _parse(Path(path), catalog, profile, seeds)


def _parse(
    path: Path, catalog: Catalog, profile: Profile, seeds: tuple[Seed, ...]
) -> tuple[Defect, ...]:
    try:
        document = load_yaml(path)
    except InputError as exc:
        raise DefectError(str(exc)) from exc
    problems = [str(p) for p in check_schema(document, "defects")]
    if problems:
        raise DefectError("\n".join(problems))
    defects = tuple(_defect(entry) for entry in document.data["defects"])
    seen: set[str] = set()
    for index, defect in enumerate(defects):
        where = f"{path}:{document.line_of(('defects', index)) or '?'}: {defect.id}"
        if defect.id in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(defect.id)
        problems += [
            f"{where}: requirement {r} is not in the catalog"
            for r in defect.requirements
            if r not in catalog
        ]
        problems += [
            f"{where}: {a} is neither an assumption nor a rule of profile {profile.name}"
            for a in defect.assumptions
            if profile.basis(a) is None
        ]
        for quote in defect.quotes:
            if quote.seed not in catalog.seeds:
                problems.append(f"{where}: seed {quote.seed} is not one of the catalog's")
            elif place_of(quote, seeds) is None:
                problems.append(f"{where}: {quote.text!r} is not in seed {quote.seed}")
    if problems:
        raise DefectError("\n".join(problems))
    return defects


def _defect(entry: dict[str, Any]) -> Defect:
    return Defect(
        id=entry["id"],
        kind=entry["kind"],
        title=entry["title"],
        quotes=tuple(Quote(q["seed"], q["text"]) for q in entry["quotes"]),
        requirements=tuple(entry.get("requirements", ())),
        assumptions=tuple(entry.get("assumptions", ())),
        note=re.sub(r"\s+", " ", entry["note"]).strip(),
        suggestion=entry.get("suggestion"),
    )


def counts(defects: Iterable[Defect]) -> dict[str, int]:
    """How many defects of each kind, every kind listed."""
    found = dict.fromkeys(KINDS, 0)
    for defect in defects:
        found[defect.kind] += 1
    return found


def dependent_cases(
    ids: Iterable[str], cases: Iterable[Case], catalog: Catalog | None = None
) -> dict[str, list[str]]:
    """Case ID -> why it rests on any of `ids` (an assumption, rule or requirement): the case
    names it among its assumptions, verifies it, or verifies a catalog sentence that the catalog
    says rests on it. Cases in ID order."""
    catalog = catalog or load_catalog()
    wanted = list(dict.fromkeys(ids))
    found: dict[str, list[str]] = {}
    for case in sorted(cases, key=lambda c: c.id):
        reasons = []
        verified = case.verified()
        for basis in wanted:
            if basis in case.assumptions:
                reasons.append(f"names {basis}")
            if basis in verified:
                reasons.append(f"verifies {basis}")
            resting = [
                r for r in verified if (entry := catalog.get(r)) and basis in entry.assumptions
            ]
            if resting:
                reasons.append(f"verifies {', '.join(resting)}, which rests on {basis}")
        if reasons:
            found[case.id] = reasons
    return found


def markdown(
    defects: Sequence[Defect],
    profile: Profile | None = None,
    catalog: Catalog | None = None,
    cases: Iterable[Case] = (),
) -> str:
    """The defect list as Markdown an editor pastes into a change request: grouped by kind,
    each with its quotes (and their sections), what it concerns and the cases resting on it."""
    profile = profile or load_profile()
    catalog = catalog or load_catalog()
    seeds = load_seeds()
    cases = list(cases)
    total = counts(defects)
    summary = ", ".join(f"{n} {PLURAL[k]}" for k, n in total.items())
    lines = [
        f"# Defects of the draft text ({catalog.name})",
        "",
        f"{len(defects)} defects: {summary}. Quotes are the seed text as written; "
        f"assumptions are those of profile `{profile.name}`.",
    ]
    for kind in KINDS:
        chosen = [d for d in defects if d.kind == kind]
        if not chosen:
            continue
        lines += ["", f"## {PLURAL[kind].capitalize()} ({len(chosen)})"]
        for defect in chosen:
            lines += ["", f"### {defect.id}: {defect.title}", ""]
            for quote in defect.quotes:
                section = section_of(quote, seeds)
                where = f"§{section}" if section else "seed"
                lines.append(f"> “{quote.text}” ({where}, `{quote.seed}`)")
                lines.append(">")
            lines.pop()
            lines += ["", defect.note]
            if defect.suggestion:
                lines += ["", f"Proposed text: “{defect.suggestion}”"]
            if defect.requirements:
                sentences = ", ".join(
                    f"{r} ({catalog[r].level})" for r in defect.requirements if r in catalog
                )
                lines += ["", f"Concerns: {sentences}"]
            if defect.assumptions:
                lines += ["", "Decided by:", ""]
            for basis in defect.assumptions:
                lines.append(f"- {basis}: {profile.basis(basis) or '(not in this profile)'}")
            if cases:
                resting = dependent_cases(defect.ids, cases, catalog)
                listed = ", ".join(resting) if resting else "none"
                lines += ["", f"Cases resting on it ({len(resting)}): {listed}"]
    return "\n".join(lines) + "\n"
