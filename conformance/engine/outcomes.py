"""How a case run ends early, and how a failure reads. A step that cannot go on raises a
StepFailure with its verdict and its problems, each filed under the ID it breaks; `explain` turns
it into what a person reads: the step, each broken requirement or assumption with its text and
what was wrong, expected beside received (as Tavern prints it), the HTTP exchanges and what the
implementation printed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.catalog import Catalog
from conformance.core.rules import Rule
from conformance.engine.records import FindingRecord, Verdict
from conformance.profiles import Profile
from conformance.roles.exchange import HttpExchange


@dataclass(frozen=True)
class Problem:
    """One thing wrong, and the requirement or assumption it breaks: one ID where the case says
    precisely what it verifies, several where a step verifies several, none for a problem of
    the case or the harness that breaks nothing of the implementation's."""

    bases: tuple[str, ...]
    text: str
    rule: str | None = None  # the key of the core rule (core/rules.py) it is filed by, if any

    @classmethod
    def of(cls, rule: Rule, text: str) -> Problem:
        """A problem a rule of the core's table names: filed under the rule's basis."""
        return cls((rule.basis,), text, rule.key)


@dataclass
class StepFailure(Exception):
    """The case cannot go on: FAIL, INCONCLUSIVE or ERROR at `step`."""

    verdict: Verdict
    step: str
    problems: list[Problem]
    expected: Any = None
    received: Any = None
    exchanges: tuple[HttpExchange, ...] = ()
    output: str = ""
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.verdict.value} at {self.step}: " + "; ".join(p.text for p in self.problems)


def basis_line(basis: str, catalog: Catalog, profile: Profile) -> str:
    """An ID as a failure names it: with its level and text (a requirement), or as an assumption
    or rule of the profile with its text."""
    requirement = catalog.get(basis)
    if requirement is not None:
        detail = f" [{requirement.detail}]" if requirement.detail else ""
        return (
            f"requirement {basis} ({requirement.level}, binds {requirement.binds}): "
            f"\u201c{requirement.text}\u201d{detail}"
        )
    text = profile.basis(basis)
    if text is not None:
        kind = "assumption" if basis.startswith("A") else "rule"
        return (
            f"{kind} {basis} of profile {profile.name} (where the draft is silent, not a seed "
            f"sentence): \u201c{text}\u201d"
        )
    return f"{basis}"


MAX_LINES = 120  # of each side of an expected/received comparison


def _block(value: Any) -> list[str]:
    if value is None:
        return ["(nothing)"]
    if isinstance(value, str):
        lines = value.splitlines() or [""]
    else:
        lines = json.dumps(value, indent=2, ensure_ascii=False, default=str).splitlines()
    lines = [line if len(line) <= 300 else line[:299] + "…" for line in lines[:MAX_LINES]]
    return lines + ([f"… ({MAX_LINES} lines shown)"] if len(lines) == MAX_LINES else [])


def side_by_side(expected: Any, received: Any, width: int = 48) -> str:
    """Expected and received in two columns, as a person compares them."""
    left, right = _block(expected), _block(received)
    rows = [f"  {'expected':<{width}} | received", f"  {'-' * width} | {'-' * width}"]
    for index in range(max(len(left), len(right))):
        a = left[index] if index < len(left) else ""
        b = right[index] if index < len(right) else ""
        if len(a) > width:
            a = a[: width - 1] + "…"
        rows.append(f"  {a:<{width}} | {b}")
    return "\n".join(rows)


def grouped(problems: Sequence[Problem]) -> dict[tuple[str, ...], list[str]]:
    """The problems' texts by the IDs they break, in the order the IDs first appear."""
    out: dict[tuple[str, ...], list[str]] = {}
    for problem in problems:
        out.setdefault(problem.bases, []).append(problem.text)
    return out


def explain(
    failure: StepFailure | None,
    observed: Sequence[FindingRecord],
    catalog: Catalog,
    profile: Profile,
) -> str:
    """The failure of a case as a person reads it; `observed` are the rules the core saw broken
    on the way (each once, with a count), which fail the case too."""
    lines: list[str] = []
    if failure is not None:
        lines.append(f"{failure.verdict.value} at {failure.step}")
        for bases, texts in grouped(failure.problems).items():
            lines += ["  " + basis_line(basis, catalog, profile) for basis in bases]
            lines += [f"    - {t}" for t in texts]
        if failure.expected is not None or failure.received is not None:
            lines.append(side_by_side(failure.expected, failure.received))
        lines += [f"  note: {n}" for n in failure.notes]
    broken = [f for f in observed if f.failed]
    if broken:
        lines.append(
            "FAIL: rules broken on the way (the core judges every message of every case)"
            if failure is None
            else "  also broken on the way:"
        )
        by_basis: dict[str, list[FindingRecord]] = {}
        for finding in broken:
            by_basis.setdefault(finding.basis, []).append(finding)
        for basis, findings in by_basis.items():
            lines.append("  " + basis_line(basis, catalog, profile))
            for f in findings:
                times = f", {f.count} times" if f.count > 1 else ""
                lines.append(f"    - {f.message} (first at {f.step}{times})")
    if failure is not None:
        for exchange in failure.exchanges:
            lines.append("  HTTP exchange:")
            lines.append("    " + exchange.describe().replace("\n", "\n    "))
        if failure.output:
            lines.append("  implementation output (last lines):")
            lines.append("    " + failure.output.strip().replace("\n", "\n    "))
    return "\n".join(lines)
