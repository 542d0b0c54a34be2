"""What runs say about the draft's sentences: each run folder's report.json (the conformance
report) read back, and where implementations disagree.

Two implementations disagree on a sentence (or assumption) when the same case broke it in one
run and, in another, passed or checked it without seeing it broken: the text the two read
differently is the first place an editor looks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.catalog import Catalog, load_catalog
from conformance.engine.records import Verdict
from conformance.report.conformance_report import (
    FAIL,
    NOT_EXERCISED,
    OUT_OF_SCOPE,
    PASS,
    UNTESTABLE,
    WAIVED,
)

__all__ = [
    "Disagreement",
    "Divergence",
    "Run",
    "RunError",
    "depending_cases",
    "divergences",
    "load_runs",
]

REPORT = "report.json"
PASSING = {Verdict.PASS.value, Verdict.INFORMATIONAL.value}
# How a requirement's state reads on a chip.
CHIP = {
    PASS: "PASS",
    FAIL: "FAIL",
    WAIVED: "waived",
    NOT_EXERCISED: "not exercised",
    OUT_OF_SCOPE: "out of scope",
    UNTESTABLE: "untestable",
}


class RunError(ValueError):
    """A folder that is not a run with a conformance report."""


@dataclass
class Run:
    """One run folder and its conformance report, as the page and what-if read it."""

    key: str  # R1, R2, … in the order given
    folder: Path
    data: dict[str, Any]
    requirements: dict[str, dict[str, Any]] = field(default_factory=dict)
    assumptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The implementations tested, as a reader names them."""
        names = [f"{d['name']} {d['version']}".strip() for d in self.data["implementations"]]
        return " + ".join(names) or self.folder.name

    @property
    def implementations(self) -> list[dict[str, Any]]:
        implementations: list[dict[str, Any]] = self.data["implementations"]
        return implementations

    @property
    def profile(self) -> str:
        return str(self.data["profile"]["name"])

    def state(self, basis: str) -> str:
        """The state of a requirement or assumption in this run ("" when the run has no
        word on it)."""
        row = self.requirements.get(basis) or self.assumptions.get(basis)
        return str(row["state"]) if row else ""

    def anchor(self, case: str) -> str:
        """The page anchor of one of this run's cases."""
        return f"{self.key}-case-{slug(case)}"


def slug(text: str) -> str:
    """`text` as a fragment identifier: letters, digits, `.`, `_` and `-` only."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def load_run(folder: Path, key: str) -> Run:
    report = folder / REPORT
    if not report.is_file():
        raise RunError(f"{folder}: no {REPORT} (is it a run folder of `dm20-conformance run`?)")
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunError(f"{report}: cannot read it: {exc}") from exc
    return Run(
        key,
        folder,
        data,
        {row["id"]: row for row in data.get("requirements", [])},
        {row["id"]: row for row in data.get("assumptions", [])},
        {case["name"]: case for case in data.get("cases", [])},
    )


def load_runs(folders: Sequence[Path]) -> list[Run]:
    """The runs, keyed R1, R2, … in the order given."""
    return [load_run(Path(f), f"R{i}") for i, f in enumerate(folders, start=1)]


@dataclass(frozen=True)
class Disagreement:
    """One case that broke `basis` in some runs and kept it in others."""

    case: str
    kept: tuple[str, ...]  # keys of the runs where the case passed or kept the basis
    broken: tuple[str, ...]  # keys of the runs where the case broke it
    message: str  # what the first run that broke it saw


@dataclass(frozen=True)
class Divergence:
    """A sentence (or assumption) that implementations read differently, with the cases."""

    basis: str
    cases: tuple[Disagreement, ...]


def _kept(case: dict[str, Any], basis: str) -> bool:
    if basis in case.get("failed", []):
        return False
    return case["verdict"] in PASSING or basis in case.get("passed", [])


def _seen(case: dict[str, Any], basis: str) -> str:
    for finding in case.get("findings", []):
        if finding["basis"] == basis and finding["grade"] == "fail":
            return f"{finding['step']}: {finding['message']}"
    message: str = case.get("message", "")
    return message.splitlines()[0] if message else case["verdict"]


def divergences(runs: Sequence[Run], catalog: Catalog | None = None) -> list[Divergence]:
    """Every requirement or assumption that one run's case broke and another run's same case
    kept: most disagreeing cases first, then in catalog order (assumptions after)."""
    order = {r.id: i for i, r in enumerate(catalog)} if catalog is not None else {}
    found: dict[str, list[Disagreement]] = {}
    names = sorted({name for run in runs for name in run.cases})
    for name in names:
        present = [(run, run.cases[name]) for run in runs if name in run.cases]
        if len(present) < 2:
            continue
        bases = dict.fromkeys(b for _, case in present for b in case.get("failed", []))
        for basis in bases:
            broken = [run for run, case in present if basis in case.get("failed", [])]
            kept = [run for run, case in present if _kept(case, basis)]
            if broken and kept:
                first = broken[0].cases[name]
                found.setdefault(basis, []).append(
                    Disagreement(
                        name,
                        tuple(r.key for r in kept),
                        tuple(r.key for r in broken),
                        _seen(first, basis),
                    )
                )
    return sorted(
        (Divergence(basis, tuple(cases)) for basis, cases in found.items()),
        key=lambda d: (-len(d.cases), order.get(d.basis, len(order)), _id_order(d.basis)),
    )


def _id_order(basis: str) -> tuple[str, tuple[int, ...]]:
    numbers = tuple(int(n) for n in re.findall(r"\d+", basis))
    return basis[:1], numbers


def depending_cases(
    cases: Iterable[Mapping[str, Any]], ids: Sequence[str], catalog: Catalog | None = None
) -> dict[str, list[str]]:
    """Case run name -> why its verdict rests on any of `ids`, for the cases of a run (the
    `cases` of its report.json): it names the ID among its assumptions, verifies it, verifies a
    catalog sentence resting on it, or saw a finding filed under it."""
    catalog = catalog or load_catalog()
    found: dict[str, list[str]] = {}
    for case in sorted(cases, key=lambda c: str(c["name"])):
        reasons: list[str] = []
        verified = list(case.get("requirements", []))
        for basis in ids:
            if basis in case.get("assumptions", []):
                reasons.append(f"names {basis}")
            if basis in verified:
                reasons.append(f"verifies {basis}")
            resting = [
                r for r in verified if (entry := catalog.get(r)) and basis in entry.assumptions
            ]
            if resting:
                reasons.append(f"verifies {', '.join(resting)}, which rests on {basis}")
            seen = [f for f in case.get("findings", []) if f["basis"] == basis]
            if seen:
                keys = ", ".join(sorted({f["rule"] for f in seen}))
                broken = any(f["grade"] == "fail" for f in seen)
                reasons.append(f"saw {basis} {'broken' if broken else 'remarked on'} ({keys})")
        if reasons:
            found[str(case["name"])] = reasons
    return found
