"""The CI gate: which verdicts fail a run. A FAIL, ERROR or INCONCLUSIVE fails it, except a FAIL
the baseline waives (a known deviation: the case is listed, or every ID it broke is) and, unless
strict, a FAIL whose broken IDs are all SHOULD or MAY requirements (advisory). A baseline entry
that no longer matches a failure is reported as stale, so the baseline can shrink."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conformance.catalog import Catalog
from conformance.engine.records import CaseRecord, Verdict
from conformance.inputs import load_checked

ADVISORY_LEVELS = {"SHOULD", "MAY"}


@dataclass(frozen=True)
class Waiver:
    """One baseline entry: a case (or case[variant]) or a requirement/assumption ID, why, and
    who waived it."""

    target: str
    kind: str  # "case" | "requirement"
    reason: str
    waived_by: str = ""


@dataclass
class Gate:
    """The gate's decision and what it rests on."""

    new: list[str] = field(default_factory=list)  # failures that fail the run
    known: list[str] = field(default_factory=list)  # failures the baseline waives
    advisory: list[str] = field(default_factory=list)  # SHOULD/MAY failures (not strict)
    stale: list[str] = field(default_factory=list)  # baseline entries whose failures are gone
    unused: list[str] = field(default_factory=list)  # baseline entries nothing matched
    waivers: list[dict[str, Any]] = field(default_factory=list)  # each used waiver and its cases

    @property
    def passed(self) -> bool:
        return not self.new

    def summary(self) -> str:
        parts = [
            f"{len(self.new)} new failure(s)",
            f"{len(self.known)} waived (baseline)",
            f"{len(self.advisory)} advisory (SHOULD/MAY)",
            f"{len(self.stale)} stale baseline entr(ies)",
        ]
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": "PASSED" if self.passed else "FAILED",
            "summary": self.summary(),
            "new": self.new,
            "known": self.known,
            "advisory": self.advisory,
            "stale": self.stale,
            "unused": self.unused,
            "waivers": self.waivers,
        }


def gate_lines(gate: dict[str, Any], strict_option: str = "--strict") -> list[str]:
    """The gate's decision as `run` and `report` print it: the gate line, then what it rests
    on (from `Gate.as_dict()`, or a report.json's `gate`)."""
    lines = [f"gate {gate['outcome']}: {gate['summary']}"]
    for title, key in (
        ("new failures", "new"),
        ("waived (baseline)", "known"),
        ("stale baseline entries", "stale"),
        (f"advisory (SHOULD/MAY, not {strict_option})", "advisory"),
    ):
        if gate.get(key):
            lines.append(f"  {title}: {', '.join(gate[key])}")
    for waiver in gate.get("waivers", []):
        by = f" (waived by {waiver['waived_by']})" if waiver.get("waived_by") else ""
        lines.append(
            f"  waiver {waiver['target']}: {waiver['reason']}{by}; covers "
            f"{', '.join(waiver['cases'])}"
        )
    return lines


def load_baseline(path: Path) -> list[Waiver]:
    """The waivers of a baseline file; InputError names file and line of a bad entry."""
    data = load_checked(path, "baseline").data
    waivers = []
    for entry in data["deviations"]:
        kind = "case" if "case" in entry else "requirement"
        waivers.append(Waiver(entry[kind], kind, entry["reason"], entry.get("waived_by", "")))
    return waivers


def _case_waiver(name: str, waivers: list[Waiver]) -> Waiver | None:
    case = name.split("[", 1)[0]
    return next(
        (w for w in waivers if w.kind == "case" and w.target in (name, case)),
        None,
    )


def evaluate(
    records: list[CaseRecord],
    catalog: Catalog,
    baseline: list[Waiver] | None = None,
    strict: bool = False,
) -> Gate:
    """Decide the gate for a run's records."""
    waivers = baseline or []
    by_id = {w.target: w for w in waivers if w.kind == "requirement"}
    gate = Gate()
    used: dict[Waiver, list[str]] = {}
    for record in records:
        if not record.verdict.failing:
            continue
        name = record.name
        if record.verdict is Verdict.FAIL:
            listed = _case_waiver(name, waivers)
            broken = record.failed or record.requirements
            by_requirement = [by_id[i] for i in broken if i in by_id]
            if listed or (broken and len(by_requirement) == len(broken)):
                gate.known.append(name)
                for waiver in [listed] if listed else by_requirement:
                    used.setdefault(waiver, []).append(name)
                continue
            levels = {catalog[i].level if i in catalog else "assumption" for i in broken}
            if levels and levels <= ADVISORY_LEVELS and not strict:
                gate.advisory.append(name)
                continue
        gate.new.append(f"{name} ({record.verdict.value})")
    for waiver in waivers:
        if waiver in used:
            gate.waivers.append({**asdict(waiver), "cases": used[waiver]})
            continue
        matched = [r for r in records if _matches(waiver, r)]
        (gate.stale if matched else gate.unused).append(waiver.target)
    return gate


def _matches(waiver: Waiver, record: CaseRecord) -> bool:
    if waiver.kind == "case":
        return _case_waiver(record.name, [waiver]) is not None
    return waiver.target in record.requirements
