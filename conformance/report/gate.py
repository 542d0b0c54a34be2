"""The CI gate: which verdicts fail a run. A FAIL, ERROR or INCONCLUSIVE fails it, except a FAIL
listed in the baseline (a known deviation) and, unless strict, a FAIL of a case that verifies
only SHOULD or MAY requirements (advisory). A baseline entry whose case now passes is reported as
stale, so the baseline can shrink."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.catalog import Catalog
from conformance.inputs import load_checked
from conformance.verdicts import Verdict

FAILING = {Verdict.FAIL.value, Verdict.ERROR.value, Verdict.INCONCLUSIVE.value}
PASSING = {Verdict.PASS.value, Verdict.INFORMATIONAL.value}
ADVISORY_LEVELS = {"SHOULD", "MAY"}


@dataclass
class Gate:
    """The gate's decision and what it rests on."""

    new: list[str] = field(default_factory=list)  # failures that fail the run
    known: list[str] = field(default_factory=list)  # failures the baseline lists
    advisory: list[str] = field(default_factory=list)  # SHOULD/MAY failures (not strict)
    stale: list[str] = field(default_factory=list)  # baseline entries whose cases now pass
    unused: list[str] = field(default_factory=list)  # baseline entries no case matched

    @property
    def passed(self) -> bool:
        return not self.new

    def summary(self) -> str:
        parts = [
            f"{len(self.new)} new failure(s)",
            f"{len(self.known)} known (baseline)",
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
        }


def load_baseline(path: Path) -> dict[str, str]:
    """{case or case[variant]: reason}; InputError names file and line of a bad entry."""
    data = load_checked(path, "baseline").data
    return {entry["case"]: entry["reason"] for entry in data["deviations"]}


def _name(record: dict[str, Any]) -> str:
    return record["nodeid"].split("::")[-1]


def _listed(name: str, baseline: dict[str, str]) -> str | None:
    if name in baseline:
        return name
    case = name.split("[", 1)[0]
    return case if case in baseline else None


def evaluate(
    records: list[dict[str, Any]],
    catalog: Catalog,
    baseline: dict[str, str] | None = None,
    strict: bool = False,
) -> Gate:
    """Decide the gate for a run's records."""
    baseline = baseline or {}
    gate = Gate()
    matched: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        name = _name(record)
        entry = _listed(name, baseline)
        if entry:
            matched.setdefault(entry, []).append(record)
        if record["verdict"] not in FAILING:
            continue
        levels = {catalog[r].level for r in record.get("requirements", []) if r in catalog}
        if entry and record["verdict"] == Verdict.FAIL.value:
            gate.known.append(name)
        elif (
            record["verdict"] == Verdict.FAIL.value
            and levels
            and levels <= ADVISORY_LEVELS
            and not strict
        ):
            gate.advisory.append(name)
        else:
            gate.new.append(f"{name} ({record['verdict']})")
    for entry in baseline:
        ran = matched.get(entry, [])
        if not ran:
            gate.unused.append(entry)
        elif all(r["verdict"] in PASSING for r in ran):
            gate.stale.append(entry)
    return gate
